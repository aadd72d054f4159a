#!/usr/bin/env bash
# Boots the guest image directly with qemu (TCG) for manual testing.
#
# Usage: run-qemu.sh [options]
#   --image DIR      image dir from build.sh (default /var/lib/virtplug/guest-image)
#   --state DIR      sockets, logs, data overlay (default /tmp/virtplug-qemu)
#   --hostname NAME  passed as vp.hostname=
#   --append ARGS    extra kernel cmdline
#   --kernel FILE    vmlinux (default, per manifest) or vmlinuz
#   --mem MIB        guest RAM (default 256)
#   --disk FILE      attach an extra virtio disk (repeatable; serial vp-disk-N)
#   --no-data        don't attach the data disk
#   --daemon         run in background, wait for VIRTPLUG-READY and an agent
#                    ping, print timings, leave qemu running
#   --incoming FILE  restore a state saved with QMP migrate "exec:cat > FILE"
#                    (what libvirt save/restore does). Implies --daemon; starts
#                    paused (-S): send QMP "cont" once migration completes. Uses
#                    STATE/data.qcow2 as it is (copy the saved VM's disk there);
#                    options must match the saved VM's.
# Foreground mode is interactive (-nographic, Ctrl-A X quits; console also
# logged to STATE/serial.log).
# Files in the state dir: agent.sock (agent channel), qmp.sock, serial.log,
# qemu.pid, data.qcow2 (overlay over the image's data disk).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IMAGE=/var/lib/virtplug/guest-image
STATE=/tmp/virtplug-qemu
INCOMING= KERNEL= HOSTNAME_ARG= APPEND= MEM=256 DATA=1 DAEMON=0
DISKS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --image) IMAGE=$2; shift 2 ;;
        --state) STATE=$2; shift 2 ;;
        --hostname) HOSTNAME_ARG=$2; shift 2 ;;
        --append) APPEND=$2; shift 2 ;;
        --kernel) KERNEL=$2; shift 2 ;;
        --mem) MEM=$2; shift 2 ;;
        --disk) DISKS+=("$2"); shift 2 ;;
        --no-data) DATA=0; shift ;;
        --daemon) DAEMON=1; shift ;;
        --incoming) INCOMING=$2; DAEMON=1; shift 2 ;;
        -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run-qemu.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
done

[ -f "$IMAGE/manifest.json" ] || { echo "no image in $IMAGE: run build.sh first" >&2; exit 1; }
CMDLINE=$(sed -n 's/.*"cmdline": *"\([^"]*\)".*/\1/p' "$IMAGE/manifest.json")
[ -n "$KERNEL" ] || KERNEL=$(sed -n 's/.*"kernel": *"\([^"]*\)".*/\1/p' "$IMAGE/manifest.json")
case "$KERNEL" in /*) ;; *) KERNEL="$IMAGE/${KERNEL:-vmlinuz}" ;; esac
[ -n "$HOSTNAME_ARG" ] && CMDLINE="$CMDLINE vp.hostname=$HOSTNAME_ARG"
[ -n "$APPEND" ] && CMDLINE="$CMDLINE $APPEND"

mkdir -p "$STATE"
if [ -f "$STATE/qemu.pid" ] && kill -0 "$(cat "$STATE/qemu.pid")" 2>/dev/null; then
    echo "a VM from $STATE is still running (pid $(cat "$STATE/qemu.pid"))" >&2
    exit 1
fi
rm -f "$STATE/agent.sock" "$STATE/qmp.sock" "$STATE/serial.log" "$STATE/qemu.pid"
[ -z "$INCOMING" ] || [ -f "$STATE/data.qcow2" ] || [ "$DATA" = 0 ] || {
    echo "--incoming needs $STATE/data.qcow2 (the saved VM's data disk)" >&2; exit 1; }

ARGS=(
    -accel tcg -m "$MEM" -smp 1 -nodefaults -no-user-config
    -kernel "$KERNEL" -initrd "$IMAGE/initrd.img" -append "$CMDLINE"
    -device virtio-serial-pci,id=vser0
    -chardev "socket,id=agent0,path=$STATE/agent.sock,server=on,wait=off"
    -device virtserialport,bus=vser0.0,chardev=agent0,name=org.virtplug.agent.0
    -qmp "unix:$STATE/qmp.sock,server=on,wait=off"
    # restrict=on: user-mode net with no route out; the NIC is for identity tests.
    -netdev user,id=net0,restrict=on
    -device virtio-net-pci,netdev=net0,mac=52:54:00:12:34:56
    -pidfile "$STATE/qemu.pid"
)
if [ "$DATA" = 1 ]; then
    # Overlay so test writes never touch the built image.
    [ -n "$INCOMING" ] || qemu-img create -q -f qcow2 -F qcow2 -b "$IMAGE/data.qcow2" "$STATE/data.qcow2"
    ARGS+=(-drive "if=none,id=data,file=$STATE/data.qcow2,format=qcow2"
        -device virtio-blk-pci,drive=data,serial=vp-data)
fi
n=0
for d in "${DISKS[@]}"; do
    fmt=$(qemu-img info "$d" | sed -n 's/^file format: //p')
    ARGS+=(-drive "if=none,id=disk$n,file=$d,format=$fmt"
        -device "virtio-blk-pci,drive=disk$n,serial=vp-disk-$n")
    n=$((n + 1))
done

start=$(date +%s.%N)
elapsed() { echo "$(date +%s.%N) $start" | awk '{printf "%.2f", $1 - $2}'; }

if [ "$DAEMON" = 0 ]; then
    echo "agent socket: $STATE/agent.sock   (Ctrl-A X to quit)"
    # qemu copies the console to serial.log itself; piping its stdout instead
    # would be block-buffered (mawk) and break the interactive prompt.
    ( for _ in $(seq 1 1200); do
        if grep -q '^VIRTPLUG-READY' "$STATE/serial.log" 2>/dev/null; then
            printf '\r\n[run-qemu] VIRTPLUG-READY after %ss\r\n' "$(elapsed)" >&2; break
        fi
        sleep 0.05
    done ) &
    watcher=$!
    rc=0
    qemu-system-x86_64 "${ARGS[@]}" -nographic \
        -chardev "stdio,id=con,mux=on,logfile=$STATE/serial.log" \
        -serial chardev:con -mon chardev=con,mode=readline || rc=$?
    kill "$watcher" 2>/dev/null || true
    exit "$rc"
fi

if [ -n "$INCOMING" ]; then
    qemu-system-x86_64 "${ARGS[@]}" -display none -serial "file:$STATE/serial.log" -daemonize \
        -S -incoming "exec:cat '$INCOMING'"
    echo "restoring from $INCOMING (paused); pid $(cat "$STATE/qemu.pid"), agent socket $STATE/agent.sock, qmp $STATE/qmp.sock"
    exit 0
fi
qemu-system-x86_64 "${ARGS[@]}" -display none -serial "file:$STATE/serial.log" -daemonize
for _ in $(seq 1 600); do
    grep -q '^VIRTPLUG-READY' "$STATE/serial.log" 2>/dev/null && break
    sleep 0.05
done
if ! grep -q '^VIRTPLUG-READY' "$STATE/serial.log"; then
    echo "no VIRTPLUG-READY within 30 s; see $STATE/serial.log" >&2
    exit 1
fi
ready=$(elapsed)
node "$HERE/agent-client.mjs" --timeout 2000 --wait 15000 "$STATE/agent.sock" '{"op":"ping"}' >/dev/null ||
    { echo "agent did not answer ping; see $STATE/serial.log" >&2; exit 1; }
agent=$(elapsed)
grep '^VIRTPLUG-READY' "$STATE/serial.log"
echo "boot-to-ready: ${ready}s  boot-to-agent: ${agent}s  (TCG, ${MEM} MiB)"
echo "pid $(cat "$STATE/qemu.pid"), agent socket $STATE/agent.sock, qmp $STATE/qmp.sock"
