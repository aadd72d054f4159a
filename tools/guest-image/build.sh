#!/usr/bin/env bash
# Builds the virtplug guest image: Debian kernel + busybox initramfs with the
# virtplug agent, plus a small ext4 data disk. See docs/guest-agent.md.
#
# Host packages (installed with apt-get if missing):
#   busybox-static cpio qemu-utils e2fsprogs gcc libc6-dev kmod xz-utils
#   (kmod: depmod orders the kernel modules; xz-utils: unpacks vmlinux)
#
# Usage: build.sh [--out DIR] [--cache DIR] [--force]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=/var/lib/virtplug/guest-image
CACHE=/var/cache/virtplug/debs
FORCE=0
AGENT_PORT=org.virtplug.agent.0
CMDLINE="console=ttyS0 quiet"
DATA_SIZE=64M
DATA_LABEL=vpdata
# Loaded in dependency order (resolved from modules.dep). button+evdev let
# the guest see the ACPI power button; crc32c is needed by ext4 metadata_csum.
MODULES=(virtio_pci virtio_blk virtio_net virtio_console crc32c_generic ext4 button evdev)
HOST_PKGS=(busybox-static cpio qemu-utils e2fsprogs gcc libc6-dev kmod xz-utils)

usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case "$1" in
        --out) OUT=$2; shift 2 ;;
        --out=*) OUT=${1#*=}; shift ;;
        --cache) CACHE=$2; shift 2 ;;
        --cache=*) CACHE=${1#*=}; shift ;;
        --force) FORCE=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "build.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
done

log() { echo "guest-image: $*"; }
die() { echo "guest-image: error: $*" >&2; exit 1; }

installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }

apt_updated=0
apt_update() {
    [ "$apt_updated" = 1 ] && return 0
    log "apt-get update"
    apt-get update -qq >/dev/null
    apt_updated=1
}

missing=()
for p in "${HOST_PKGS[@]}"; do installed "$p" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || die "missing host packages (need root to install): ${missing[*]}"
    log "installing host packages: ${missing[*]}"
    apt_update
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Resolve the kernel from the archive's metapackage, without downloading yet,
# so an up-to-date image is detected in about half a second.
resolve_kernel() {
    local deps
    deps=$(apt-cache show --no-all-versions linux-image-amd64 2>/dev/null | sed -n 's/^Depends: *//p' | head -n1)
    # Depends is "linux-image-6.1.0-NN-amd64 (= VERSION)": one apt-cache call.
    KPKG=$(echo "$deps" | grep -o 'linux-image-[0-9][^ ,]*-amd64' | head -n1 || true)
    KPKG_VER=$(echo "$deps" | sed -n "s/.*$KPKG (= \([^)]*\)).*/\1/p")
    KVER=${KPKG#linux-image-}
    [ -n "$KPKG" ] && [ -n "$KPKG_VER" ]
}
resolve_kernel || { apt_update; resolve_kernel; } || die "cannot resolve linux-image-amd64 to a versioned kernel package"

pkgver() { dpkg-query -W -f='${Version}' "$1"; }
inputs_hash() {
    {
        echo "kernel $KPKG $KPKG_VER"
        echo "busybox-static $(pkgver busybox-static)"
        echo "libc6-dev $(pkgver libc6-dev)"
        echo "gcc $(gcc -dumpfullversion)"
        cd "$HERE"
        find build.sh agent rootfs -type f | LC_ALL=C sort | while read -r f; do
            echo "$f $(stat -c %a "$f") $(sha256sum < "$f" | cut -d' ' -f1)"
        done
    } | sha256sum | cut -d' ' -f1
}
up_to_date() {
    [ "$FORCE" = 0 ] && [ -f "$OUT/manifest.json" ] &&
        grep -q "\"inputsHash\": *\"$INPUTS_HASH\"" "$OUT/manifest.json" &&
        [ -f "$OUT/vmlinuz" ] && [ -f "$OUT/initrd.img" ] && [ -f "$OUT/data.qcow2" ] &&
        { ! grep -q '"kernel": "vmlinux"' "$OUT/manifest.json" || [ -f "$OUT/vmlinux" ]; }
}
INPUTS_HASH=$(inputs_hash)
if up_to_date; then
    echo "guest image up to date: $OUT"
    exit 0
fi

mkdir -p "$OUT" "$CACHE"
# Work next to the output so the final moves are same-filesystem renames.
WORK=$(mktemp -d "$OUT/.build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

download_kernel() {
    DEB="$CACHE/${KPKG}_${KPKG_VER//:/%3a}_amd64.deb"
    [ -s "$DEB" ] && return 0
    log "downloading $KPKG=$KPKG_VER into $CACHE"
    # Sandbox user root: the _apt user may not be able to write to $CACHE.
    (cd "$WORK" && apt-get download -qq -o APT::Sandbox::User=root "$KPKG=$KPKG_VER" >/dev/null 2>&1) &&
        mv "$WORK"/"${KPKG}"_*.deb "$DEB"
}
if ! download_kernel; then
    # Stale package lists name a version the archive no longer has.
    [ "$apt_updated" = 0 ] || die "cannot download $KPKG=$KPKG_VER"
    apt_update
    resolve_kernel || die "cannot resolve linux-image-amd64 to a versioned kernel package"
    INPUTS_HASH=$(inputs_hash)
    if up_to_date; then
        echo "guest image up to date: $OUT"
        exit 0
    fi
    download_kernel || die "cannot download $KPKG=$KPKG_VER"
fi
log "building into $OUT (kernel $KPKG $KPKG_VER, inputs $INPUTS_HASH)"
[ "$(dpkg-deb -f "$DEB" Version)" = "$KPKG_VER" ] || die "$DEB is not version $KPKG_VER"

log "extracting $(basename "$DEB")"
dpkg-deb -x "$DEB" "$WORK/kernel"
MODDIR="$WORK/kernel/lib/modules/$KVER"
[ -f "$WORK/kernel/boot/vmlinuz-$KVER" ] || die "vmlinuz-$KVER not found in $DEB"
# The .deb ships no modules.dep (postinst generates it); make one here.
depmod -b "$WORK/kernel" "$KVER"

ROOT="$WORK/root"
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,run,tmp,data,root,etc,lib/modules}
chmod 1777 "$ROOT/tmp"

log "resolving kernel modules: ${MODULES[*]}"
declare -A SEEN=()
ORDER=()
modpath() { # module name -> path relative to $MODDIR ('' if built in)
    local m=$1 p
    p=$(grep -E "(^|/)${m}\.ko(\.[a-z]+)?:" "$MODDIR/modules.dep" | head -n1 | cut -d: -f1)
    if [ -z "$p" ]; then
        grep -qE "(^|/)${m}\.ko$" "$MODDIR/modules.builtin" || die "module $m not found"
    fi
    echo "$p"
}
add_module() {
    local rel=$1 name dep
    name=$(basename "$rel"); name=${name%%.ko*}
    [ -n "${SEEN[$name]:-}" ] && return 0
    SEEN[$name]=1
    for dep in $(grep -E "^${rel}:" "$MODDIR/modules.dep" | cut -d: -f2); do
        add_module "$dep"
    done
    ORDER+=("$name")
    cp "$MODDIR/$rel" "$ROOT/lib/modules/$name.ko"
}
for m in "${MODULES[@]}"; do
    rel=$(modpath "$m")
    if [ -n "$rel" ]; then add_module "$rel"; else log "  $m is built in"; fi
done
printf '%s\n' "${ORDER[@]}" > "$ROOT/lib/modules/load.order"
log "  load order: ${ORDER[*]}"

log "installing busybox and applet links"
BUSYBOX=$(command -v busybox)
# Refuse a dynamic busybox: the initramfs has no libc.
if ldd "$BUSYBOX" >/dev/null 2>&1; then
    die "$BUSYBOX is dynamically linked (install busybox-static)"
fi
cp "$BUSYBOX" "$ROOT/bin/busybox"
"$BUSYBOX" --list-full | while read -r applet; do
    [ -e "$ROOT/$applet" ] || ln -s /bin/busybox "$ROOT/$applet"
done

log "compiling agent (gcc -static -O2; libxcrypt for set-password)"
gcc -static -O2 -Wall -Wextra -o "$ROOT/sbin/virtplug-agent" "$HERE/agent/agent.c" "$HERE/agent/shadow.c" -lcrypt
strip "$ROOT/sbin/virtplug-agent"

log "adding init, hooks and config"
cp -a "$HERE/rootfs/." "$ROOT/"
chmod 755 "$ROOT/init"
echo "$KVER" > "$ROOT/etc/virtplug/kernel-version"

log "packing initrd.img (uncompressed cpio: skips decompression, boots faster under TCG)"
(cd "$ROOT" && find . -print0 | LC_ALL=C sort -z |
    cpio --null -o -H newc -R 0:0 --reproducible --quiet) > "$WORK/initrd.img"
cp "$WORK/kernel/boot/vmlinuz-$KVER" "$WORK/vmlinuz"

# vmlinux: the bzImage's payload unpacked. It is an ELF with a PVH entry note,
# which qemu (and libvirt <kernel>) boots directly, skipping the in-guest xz
# decompression that costs ~2.5 s under TCG. vmlinuz stays as the fallback.
KERNEL=vmlinuz
# (No pipes here: with pipefail, xz/grep stopping early would fail them.)
off=$(LC_ALL=C grep -obUaP '\xFD7zXZ\x00' "$WORK/vmlinuz" | head -n1 | cut -d: -f1 || true)
if [ -n "$off" ] && tail -c +$((off + 1)) "$WORK/vmlinuz" > "$WORK/payload.xz" &&
    xz -dc --single-stream "$WORK/payload.xz" > "$WORK/vmlinux" 2>/dev/null &&
    readelf -n "$WORK/vmlinux" > "$WORK/notes" 2>/dev/null && grep -q 'Xen.*0x00000012' "$WORK/notes"; then
    KERNEL=vmlinux
    log "unpacked vmlinux (PVH entry) for fast direct boot"
else
    log "warning: could not unpack a PVH vmlinux; use vmlinuz (slower boot)"
    rm -f "$WORK/vmlinux"
fi

# The data disk does not depend on the other inputs; keep an existing one so
# rebuilding the kernel/initrd never swaps out a file overlays may be backed by.
DATA_ID="ext4 $DATA_SIZE $DATA_LABEL e2fsprogs $(pkgver e2fsprogs)"
if [ -f "$OUT/data.qcow2" ] && [ -f "$OUT/manifest.json" ] && grep -qF "\"id\": \"$DATA_ID\"" "$OUT/manifest.json"; then
    log "keeping existing data.qcow2"
    DATA_FILE="$OUT/data.qcow2"
else
    DATA_FILE="$WORK/data.qcow2"
    log "creating data.qcow2 ($DATA_SIZE ext4, label $DATA_LABEL)"
    truncate -s "$DATA_SIZE" "$WORK/data.raw"
    mkfs.ext4 -q -F -L "$DATA_LABEL" -m 0 -E root_owner=0:0 "$WORK/data.raw"
    qemu-img convert -q -f raw -O qcow2 "$WORK/data.raw" "$WORK/data.qcow2"
    rm -f "$WORK/data.raw"
fi

sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }
cat > "$WORK/manifest.json" <<JSON
{
  "kernelVersion": "$KVER",
  "kernelPackage": "$KPKG",
  "kernelPackageVersion": "$KPKG_VER",
  "inputsHash": "$INPUTS_HASH",
  "kernel": "$KERNEL",
  "files": {
    "vmlinuz": {"sha256": "$(sha "$WORK/vmlinuz")", "size": $(size "$WORK/vmlinuz")},$(
    [ "$KERNEL" = vmlinux ] && printf '\n    "vmlinux": {"sha256": "%s", "size": %s},' "$(sha "$WORK/vmlinux")" "$(size "$WORK/vmlinux")")
    "initrd.img": {"sha256": "$(sha "$WORK/initrd.img")", "size": $(size "$WORK/initrd.img")},
    "data.qcow2": {"sha256": "$(sha "$DATA_FILE")", "size": $(size "$DATA_FILE")}
  },
  "cmdline": "$CMDLINE",
  "agentPort": "$AGENT_PORT",
  "readyLine": "VIRTPLUG-READY",
  "dataDisk": {"file": "data.qcow2", "format": "qcow2", "virtualSize": "$DATA_SIZE", "label": "$DATA_LABEL", "fs": "ext4", "id": "$DATA_ID"},
  "modules": [$(printf '"%s",' "${ORDER[@]}" | sed 's/,$//')],
  "builtAt": "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
}
JSON

# Manifest last: it is what marks the image complete.
[ "$KERNEL" = vmlinux ] || rm -f "$OUT/vmlinux"
[ "$DATA_FILE" = "$OUT/data.qcow2" ] || mv -f "$DATA_FILE" "$OUT/data.qcow2"
for f in vmlinuz $([ "$KERNEL" = vmlinux ] && echo vmlinux) initrd.img manifest.json; do
    mv -f "$WORK/$f" "$OUT/$f"
done
log "done: $OUT"
ls -l "$OUT" | sed 's/^/  /'
