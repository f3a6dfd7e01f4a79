#!/usr/bin/env bash
# Installs the tests' reference tools: Debian's PyTorch (the kernel, model and weight
# tests compare against it with /usr/bin/python3) and Debian's Chromium (a test opens
# a run's report.html headless, and vitest's `chromium` project runs the tensor op and
# kernel suite on its WebGPU adapter, SwiftShader, which Debian's package ships). Without
# them those tests skip, saying why, so this is optional for development but keeps the
# comparisons honest in CI (where a missing Chromium fails the run). Also python3-onnx
# (torch.onnx.export) and libonnx-testdata (ONNX's backend node tests) for @tessera/onnx.
# Idempotent: installs only what is missing.
set -euo pipefail
say() { printf '[test-deps] %s\n' "$*"; }
die() { printf '[test-deps] error: %s\n' "$*" >&2; exit 1; }

PACKAGES=()
# Debian's packages land in /usr/bin/python3's dist-packages only (a pyenv or venv
# python3 on PATH would not see them), so check that interpreter explicitly.
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import torch, torchvision' >/dev/null 2>&1; then
  say "PyTorch already importable by /usr/bin/python3"
else
  PACKAGES+=(python3-torch python3-torchvision libopenblas0-pthread)
fi
# ONNX: torch.onnx.export needs Debian's python3-onnx; libonnx-testdata holds ONNX's backend
# node tests (the importer's conformance suite, packages/onnx/src/testing/conformance.test.ts).
if /usr/bin/python3 -c 'import onnx' >/dev/null 2>&1; then
  say "python3-onnx already importable"
else
  PACKAGES+=(python3-onnx)
fi
if [ -d /usr/share/libonnx-testdata/data/node ]; then
  say "ONNX backend node tests already installed"
else
  PACKAGES+=(libonnx-testdata)
fi
if [ -x /usr/bin/chromium ]; then
  say "Chromium already installed"
else
  PACKAGES+=(chromium)
fi
[ ${#PACKAGES[@]} -eq 0 ] && { say "nothing to do"; exit 0; }

command -v apt-get >/dev/null || die "apt-get not found: install ${PACKAGES[*]} (or torch for /usr/bin/python3) by hand"
SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || die "installing ${PACKAGES[*]} needs root; rerun as root or install sudo"
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive

say "installing ${PACKAGES[*]} with apt-get (PyTorch: about 90 s, ~280 packages)"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${PACKAGES[@]}" >/dev/null

/usr/bin/python3 -c 'import torch; print("[test-deps] torch", torch.__version__, "ready for /usr/bin/python3")' \
  || die "apt-get finished but /usr/bin/python3 still cannot import torch"
