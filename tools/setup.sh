#!/usr/bin/env bash
# Prepares a fresh Debian 12 machine (as root) for virtplug: Debian packages, npm dependencies, the
# libvirt daemons, and the workspace build. Idempotent: each step checks before it acts, and says so.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '[setup] %s\n' "$*"; }

APT_PACKAGES=(
  # libvirt + QEMU (libvirt-daemon-system is deliberately absent: it pulls in systemd units that do not run here)
  libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients libvirt-dev qemu-system-x86 qemu-utils
  # QEMU's userspace iSCSI (libiscsi) block driver
  qemu-block-extra
  # guest image build
  busybox-static cpio xz-utils e2fsprogs kmod gcc libc6-dev
  # I/O-hypervisor lab: iSCSI target and initiator, Open vSwitch, benchmarks
  tgt open-iscsi openvswitch-switch iproute2 fio nftables
  # cloudlet benchmark peer
  xdelta3 zstd
  # browser test of the HTML matrix
  chromium
)

if [ "$(id -u)" != 0 ]; then echo "[setup] must run as root (it installs packages and starts libvirtd)" >&2; exit 2; fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  say "Debian packages: all present"
fi

# npm: install when node_modules is missing or older than the lock file; allowScripts in package.json lets
# npm 11 build @unraid/libvirt's addon, which it would otherwise skip silently.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] \
   || [ ! -f node_modules/@unraid/libvirt/build/Release/libvirt.node ]; then
  say "npm ci"
  if ! npm ci --no-audit --no-fund --loglevel=error 2>/tmp/virtplug-npm-ci.log; then
    # The registry mirror on these machines serves no other-platform builds of optional packages
    # (@swc/core-darwin-*, …), so the lock file cannot list them and `npm ci` refuses it. `npm install`
    # installs the locked versions all the same.
    if grep -q 'Missing: .* from lock file' /tmp/virtplug-npm-ci.log; then
      say "npm ci refused the lock (this registry lacks other platforms' optional packages); npm install from the lock instead"
      npm install --no-audit --no-fund --loglevel=error
    else
      cat /tmp/virtplug-npm-ci.log >&2; exit 1
    fi
  fi
else
  say "node_modules: up to date"
fi
if [ ! -f node_modules/@unraid/libvirt/build/Release/libvirt.node ]; then
  echo "[setup] @unraid/libvirt's native addon was not built (check allowScripts and libvirt-dev)" >&2; exit 1
fi

bash tools/libvirt/start-libvirtd.sh

say "building the workspace (nx run-many -t build)"
NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false npx nx run-many -t build --outputStyle=static >/tmp/virtplug-build.log 2>&1 \
  || { cat /tmp/virtplug-build.log >&2; exit 1; }
say "done"
