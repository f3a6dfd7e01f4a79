#!/usr/bin/env bash
# One-command setup for Tessera on a fresh machine (Debian 12 / Ubuntu 24.04, Node 20).
#   ./scripts/setup.sh              pnpm, dependencies, WebGPU driver if needed, build
#   ./scripts/setup.sh --with-torch also Debian's PyTorch and Chromium, the tests' references
# Idempotent: rerunning it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PNPM_VERSION=10.28.0
WITH_TORCH=0
for arg in "$@"; do
  case "$arg" in
    --with-torch) WITH_TORCH=1 ;;
    -h|--help) sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "[setup] error: unknown option '$arg' (see --help)" >&2; exit 2 ;;
  esac
done
say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/tessera-xdg-$(id -u)}"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"

# 1. Node.js
command -v node >/dev/null || die "Node.js is not installed: install Node 20 or newer (https://nodejs.org or your distribution's nodejs package)"
NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]')
[ "$NODE_MAJOR" -ge 20 ] || die "Node $(node --version) is too old: Tessera needs Node 20 or newer"
say "node $(node --version)"

# 2. pnpm (pinned). corepack's signature check fails against registries without
# signatures, so fall back to COREPACK_INTEGRITY_KEYS=0, then to npm.
if [ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  say "installing pnpm $PNPM_VERSION"
  if ! { command -v corepack >/dev/null && corepack enable >/dev/null 2>&1 \
         && COREPACK_INTEGRITY_KEYS=0 corepack prepare "pnpm@$PNPM_VERSION" --activate >/dev/null 2>&1 \
         && [ "$(COREPACK_INTEGRITY_KEYS=0 pnpm --version 2>/dev/null)" = "$PNPM_VERSION" ]; }; then
    npm install -g --silent "pnpm@$PNPM_VERSION" >/dev/null || die "could not install pnpm $PNPM_VERSION (npm install -g pnpm@$PNPM_VERSION failed)"
  fi
fi
export COREPACK_INTEGRITY_KEYS=0
say "pnpm $(pnpm --version)"

# 3. JavaScript dependencies.
say "installing dependencies (pnpm install)"
if [ -n "${CI:-}" ]; then pnpm install --frozen-lockfile --reporter=silent; else pnpm install --reporter=silent; fi

# 4. A WebGPU adapter: install a software Vulkan driver only when none is found.
if adapter=$(node packages/tensor/scripts/probe-webgpu.mjs 2>/dev/null); then
  say "WebGPU adapter: $adapter"
else
  say "no WebGPU adapter found: installing a software Vulkan driver"
  bash scripts/install-driver.sh
  adapter=$(node packages/tensor/scripts/probe-webgpu.mjs) || die "still no WebGPU adapter after installing Mesa lavapipe; check 'vulkaninfo --summary' (package vulkan-tools)"
  say "WebGPU adapter: $adapter"
fi

# 5. Optional test references: Debian's PyTorch and Chromium.
if [ "$WITH_TORCH" = 1 ]; then
  bash scripts/install-test-deps.sh
fi

# 6. Build every package.
say "building (turbo run build)"
pnpm -s build >/dev/null || { pnpm build; die "build failed"; }
say "done: try 'pnpm test', 'pnpm bench' or 'pnpm train counting'"
