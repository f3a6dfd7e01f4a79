#!/usr/bin/env bash
# One call on a machine with a real GPU adapter: what the adapter is, whether the op suite
# passes on it, and the kernel and whole-model benchmarks as JSON.
#   scripts/gpu-check.sh [--quick] [--out DIR]
#     --quick   a short form (one op test file, the 1024³ matmul, Tiny Darknet at 64 px):
#               proves the script works, here on lavapipe too (test/gpu-check.test.ts)
#     --out DIR where the logs and JSON files go (default: $OUT when set, else ./gpu-check-out)
# It installs nothing by hand: scripts/setup.sh does what is missing (pnpm, dependencies,
# build) and, finding a hardware adapter, installs no software driver. The full form is sized
# to finish within 10 minutes on a GPU; every step's time is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
QUICK=0
OUTDIR="${OUT:-gpu-check-out}"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --out) shift; OUTDIR="${1:?--out needs a folder}" ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "[gpu-check] error: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
export COREPACK_INTEGRITY_KEYS=0
say() { printf '[gpu-check] %s\n' "$*"; }
step() { # step NAME COMMAND…: runs it, logs to $OUTDIR/NAME.log, prints its time and status
  local name=$1; shift
  local t0=$SECONDS rc=0
  say "$name: $*"
  "$@" >"$OUTDIR/$name.log" 2>&1 || rc=$?
  say "$name: exit $rc in $((SECONDS - t0)) s (log: $OUTDIR/$name.log)"
  tail -n 25 "$OUTDIR/$name.log"
  [ "$rc" = 0 ] || FAILED="$FAILED $name"
}
FAILED=''


command -v node >/dev/null || { echo "[gpu-check] error: node is not installed here; Tessera needs Node 20 or newer" >&2; exit 1; }
if [ ! -d node_modules ] || [ ! -f packages/cli/dist/main.js ]; then
  step setup bash scripts/setup.sh
fi
say "node $(node --version); $(uname -srm)"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | sed 's/^/[gpu-check] nvidia-smi: /'
say "adapter: $(node packages/tensor/scripts/probe-webgpu.mjs 2>&1 | grep -v '^Warning: maxDynamic')"

if [ "$QUICK" = 1 ]; then
  step ops npx vitest run --project node packages/tensor/src/ops/matmul/matmul.test.ts
  step bench node bench/dist/main.js --filter 1024 --reps 1 --no-tfjs --json "$OUTDIR/bench.json"
  step bench-model node bench/dist/main.js --model darknet-tiny --sizes 64 --batch 4 --steps 1 --modes train --no-torch --json "$OUTDIR/bench-model.json"
else
  step ops npx vitest run --project node packages/tensor
  step bench node bench/dist/main.js --json "$OUTDIR/bench.json"
  # Each GEMM variant forced on the matmul shapes (the subgroup ones at the adapter's smallest
  # subgroup size; a variant the adapter cannot run fails its step, saying why).
  for v in portable register-tiled subgroup subgroup-uniform; do
    step "bench-gemm-$v" node bench/dist/main.js --filter matmul --no-tfjs --gemm-variant "$v" --json "$OUTDIR/bench-gemm-$v.json"
  done
  # --tune: the autotuner measures every variant per GEMM call first, so the model rows run
  # on this adapter's winners (the table is saved in gemm-tuning.json, copied below).
  step bench-model node bench/dist/main.js --model resnet34,resnet18 --sizes 128,224 --tune --json "$OUTDIR/bench-model.json"
  cp "${TESSERA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tessera}/gemm-tuning.json" "$OUTDIR/" 2>/dev/null || true
fi
ls -l "$OUTDIR"
[ -z "$FAILED" ] || { echo "[gpu-check] failed:$FAILED" >&2; exit 1; }
say "all steps passed"
