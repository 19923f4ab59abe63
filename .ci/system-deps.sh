#!/usr/bin/env bash
# Installs the Debian packages edgelift's build and tests need; does nothing when they are all present.
set -euo pipefail
# qemu-user is the dynamic build: only it loads the cost meter's TCG plugin (bench --emulate); the static one
# runs the emulated Pi of the tests. linux-perf: where the x86-64 delegate's time goes (perf record / report).
packages=(cmake gcc gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static qemu-user openssh-server
          openssh-client llvm linux-perf)
# bookworm-backports: only its qemu-user 10 (static) runs ai-edge-litert 2.3's aarch64 wheel. Nothing is installed
# from it: device/emulate/pi_root.py downloads that .deb and unpacks it under .cache/ beside qemu 7.2.
backports=/etc/apt/sources.list.d/bookworm-backports.sources
refresh=""
if [ ! -e "$backports" ] && ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo "adding bookworm-backports ($backports)"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    | $SUDO tee "$backports" >/dev/null
  refresh=1
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ -n "$refresh" ] && ! ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
fi
if ((${#missing[@]})); then
  echo "installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
