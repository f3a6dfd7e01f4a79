#!/usr/bin/env bash
# Reruns the training runs of the table at the top of docs/results.md (fastai lesson 1's tasks at
# sizes that fit a CPU-only machine). Each run's console output goes to runs/<name>.log and its
# run folder to runs/<name>/. Needs $TESSERA_DATA (paintings, hymenoptera); the Tiny Darknet
# weights come from $TESSERA_WEIGHTS when set, else the copy shipped in the repository.
# `scripts/reproduce-results.sh NAME` reruns one row (NAME as below); no argument reruns all.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p runs
only=${1:-all}
run() {
  local name=$1; shift
  [[ $only == all || $only == "$name" || $only == "${name%-2}" ]] || return 0
  echo "== $name: pnpm train $* --out runs/$name ($(uptime))"
  { time node packages/cli/dist/main.js train "$@" --out "runs/$name"; } 2>&1 | grep -v '^Warning: maxDynamic' | tee "runs/$name.log"
}
# Counting 1-5: the default recipe (README quick start), then the blog's two stages.
run counting counting
run counting-two-stage counting --per-class 500 --epochs 3
run counting-two-stage-2 counting --from runs/counting-two-stage --epochs 15 --lr 1e-4
# Counting 45-50: the blog's setting.
run counting-45-50 counting-45-50 --per-class 200 --epochs 3
run counting-45-50-128 counting-45-50 --per-class 200 --size 128
# Paintings: Tiny Darknet (ImageNet) at 256 px (the best recipe), 224 px (error with and without TTA), and 128 px.
run paintings-darknet-256 paintings --arch darknet-tiny --size 256 --epochs 6 --tta
run paintings-darknet paintings --arch darknet-tiny --size 224 --epochs 8 --tta
run paintings-darknet-f3 paintings --arch darknet-tiny --size 224 --freeze-epochs 3 --epochs 8 --tta
run paintings-darknet-bs16 paintings --arch darknet-tiny --size 224 --bs 16 --epochs 6 --tta
run paintings-darknet-lr1e3 paintings --arch darknet-tiny --size 224 --lr 1e-3 --epochs 8 --tta
run paintings-darknet-128 paintings --arch darknet-tiny --size 128 --epochs 4 --bs 32
# Ants vs bees: Tiny Darknet at 224 px and 128 px.
run hymenoptera-darknet-224 hymenoptera --arch darknet-tiny --size 224 --epochs 8 --tta
run hymenoptera-darknet hymenoptera --arch darknet-tiny --size 128 --epochs 4 --bs 32
# ResNet-34 from scratch (no ImageNet weights offline), for comparison.
run paintings-resnet34-scratch paintings --arch resnet34 --no-pretrained --size 64 --epochs 5 --bs 32
exit 0
