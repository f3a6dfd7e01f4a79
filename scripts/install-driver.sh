#!/usr/bin/env bash
# Installs a software Vulkan driver (Mesa lavapipe) that Dawn accepts, so WebGPU
# works on a machine without a GPU. Debian 12: Mesa from bookworm-backports
# (22.3 in bookworm itself is too old for Dawn). Ubuntu 24.04: the distribution's Mesa.
set -euo pipefail
say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

[ -r /etc/os-release ] || die "cannot read /etc/os-release; install a Vulkan driver (Mesa lavapipe >= 24) by hand"
. /etc/os-release
SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || die "installing the Vulkan driver needs root; rerun as root or install sudo"
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
case "${ID}:${VERSION_CODENAME:-}" in
  debian:bookworm)
    if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
      say "adding the bookworm-backports suite to apt's sources"
      echo "deb http://deb.debian.org/debian bookworm-backports main" | $SUDO tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null
    fi
    say "installing Mesa lavapipe from bookworm-backports (apt-get)"
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
    ;;
  ubuntu:*|debian:*)
    say "installing Mesa lavapipe (apt-get)"
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq mesa-vulkan-drivers libvulkan1 >/dev/null
    ;;
  *)
    die "unsupported system '${PRETTY_NAME:-$ID}': install a Vulkan driver (a GPU driver, or Mesa's lavapipe >= 24) and rerun"
    ;;
esac
say "Vulkan driver installed"
