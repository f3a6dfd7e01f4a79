#!/usr/bin/env bash
# Reruns the training runs reported in docs/results.md (fastai lesson 1's tasks at sizes
# that fit a CPU-only machine). Each run's console output goes to runs/<name>.log and its
# run folder to runs/<name>/. Needs $TESSERA_DATA (paintings, hymenoptera) and
# $TESSERA_WEIGHTS (darknet-tiny); see README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p runs
run() {
  local name=$1; shift
  echo "== $name: pnpm train $*"
  { time node packages/cli/dist/main.js train "$@" --out "runs/$name"; } 2>&1 | grep -v '^Warning: maxDynamic' | tee "runs/$name.log"
}
only=${1:-all}
[[ $only == all || $only == paintings-darknet ]] && run paintings-darknet paintings --arch darknet-tiny --size 128 --epochs 4 --bs 32
[[ $only == all || $only == hymenoptera-darknet ]] && run hymenoptera-darknet hymenoptera --arch darknet-tiny --size 128 --epochs 4 --bs 32
[[ $only == all || $only == counting-darknet ]] && run counting-darknet counting --arch darknet-tiny --size 64 --per-class 200 --epochs 3 --bs 32
[[ $only == all || $only == counting-45-50-darknet ]] && run counting-45-50-darknet counting-45-50 --arch darknet-tiny --size 64 --per-class 100 --epochs 3 --bs 32
[[ $only == all || $only == paintings-resnet34-scratch ]] && run paintings-resnet34-scratch paintings --arch resnet34 --no-pretrained --size 64 --epochs 5 --bs 32
exit 0
