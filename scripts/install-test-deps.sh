#!/usr/bin/env bash
# Installs Debian's PyTorch for the weight-reader tests: they write real torch.save
# files at test time with /usr/bin/python3 and compare what Tessera reads against
# the values Python wrote. Without it those tests skip, so this is optional for
# development but keeps the torch comparison honest in CI.
# Idempotent: does nothing when /usr/bin/python3 can already import torch.
set -euo pipefail
say() { printf '[test-deps] %s\n' "$*"; }
die() { printf '[test-deps] error: %s\n' "$*" >&2; exit 1; }

PACKAGES=(python3-torch python3-torchvision libopenblas0-pthread)

# Debian's packages land in /usr/bin/python3's dist-packages only (a pyenv or venv
# python3 on PATH would not see them), so check that interpreter explicitly.
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import torch, torchvision' >/dev/null 2>&1; then
  say "PyTorch already importable by /usr/bin/python3; nothing to do"
  exit 0
fi

command -v apt-get >/dev/null || die "apt-get not found: install ${PACKAGES[*]} (or torch for /usr/bin/python3) by hand"
SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || die "installing ${PACKAGES[*]} needs root; rerun as root or install sudo"
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive

say "installing ${PACKAGES[*]} with apt-get (about 90 s, ~280 packages)"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${PACKAGES[@]}" >/dev/null

/usr/bin/python3 -c 'import torch; print("[test-deps] torch", torch.__version__, "ready for /usr/bin/python3")' \
  || die "apt-get finished but /usr/bin/python3 still cannot import torch"
