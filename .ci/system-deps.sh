#!/usr/bin/env bash
# Installs the Debian packages edgelift's build and tests need; does nothing when they are all present.
set -euo pipefail
# qemu-user is the dynamic build: only it loads the cost meter's TCG plugin (bench --emulate); the static one
# runs the emulated Pi of the tests. linux-perf: where the x86-64 delegate's time goes (perf record / report).
packages=(cmake gcc gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static qemu-user openssh-server
          openssh-client llvm linux-perf)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
