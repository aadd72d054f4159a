#!/usr/bin/env bash
# Checks the guest image under libvirt (qemu:///system must be reachable):
# transient TCG domain with direct kernel boot and the agent channel, then
# agent ops, virsh save/restore (marker + memory intact), virsh shutdown.
# The domain XML printed at the start is the minimum a driver needs.
#
# Usage: libvirt-smoke.sh [--image DIR] [--work DIR]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IMAGE=/var/lib/virtplug/guest-image
WORK=/tmp/virtplug-libvirt-smoke
while [ $# -gt 0 ]; do
    case "$1" in
        --image) IMAGE=$2; shift 2 ;;
        --work) WORK=$2; shift 2 ;;
        *) echo "usage: libvirt-smoke.sh [--image DIR] [--work DIR]" >&2; exit 2 ;;
    esac
done
VIRSH=(virsh -q -c qemu:///system)
NAME="vp-guest-image-smoke-$$"
PASS=0 FAIL=0
check() { # name, command...
    local name=$1; shift
    if "$@" >/dev/null 2>&1; then PASS=$((PASS + 1)); echo "ok   $name"; else FAIL=$((FAIL + 1)); echo "FAIL $name"; fi
}
agent() { node "$HERE/agent-client.mjs" --timeout 20000 "$WORK/agent.sock" "$@"; }
now() { date +%s.%N; }
since() { echo "$(now) $1" | awk '{printf "%.2f", $1 - $2}'; }
cleanup() { "${VIRSH[@]}" destroy "$NAME" >/dev/null 2>&1 || true; }
trap cleanup EXIT

"${VIRSH[@]}" list >/dev/null || { echo "libvirtd not reachable" >&2; exit 1; }
KERNEL=$(sed -n 's/.*"kernel": *"\([^"]*\)".*/\1/p' "$IMAGE/manifest.json")
CMDLINE=$(sed -n 's/.*"cmdline": *"\([^"]*\)".*/\1/p' "$IMAGE/manifest.json")
rm -rf "$WORK" && mkdir -p "$WORK"
qemu-img create -q -f qcow2 -F qcow2 -b "$IMAGE/data.qcow2" "$WORK/data.qcow2"

cat > "$WORK/domain.xml" <<XML
<domain type='qemu'>
  <name>$NAME</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$IMAGE/${KERNEL:-vmlinuz}</kernel>
    <initrd>$IMAGE/initrd.img</initrd>
    <cmdline>$CMDLINE vp.hostname=smoke</cmdline>
  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$WORK/data.qcow2'/>
      <target dev='vda' bus='virtio'/>
      <serial>vp-data</serial>
    </disk>
    <channel type='unix'>
      <source mode='bind' path='$WORK/agent.sock'/>
      <target type='virtio' name='org.virtplug.agent.0'/>
    </channel>
    <serial type='file'>
      <source path='$WORK/serial.log'/>
      <target port='0'/>
    </serial>
    <memballoon model='none'/>
  </devices>
</domain>
XML
cat "$WORK/domain.xml"

t0=$(now)
"${VIRSH[@]}" create "$WORK/domain.xml" >/dev/null
for _ in $(seq 1 600); do grep -q '^VIRTPLUG-READY' "$WORK/serial.log" 2>/dev/null && break; sleep 0.05; done
ready=$(since "$t0")
node "$HERE/agent-client.mjs" --timeout 2000 --wait 15000 "$WORK/agent.sock" '{"op":"ping"}' >/dev/null
echo "create-to-ready: ${ready}s  create-to-agent: $(since "$t0")s"
check "READY line on serial" grep -q '^VIRTPLUG-READY boot_id=' "$WORK/serial.log"
check "identity hostname" bash -c "node '$HERE/agent-client.mjs' '$WORK/agent.sock' '{\"op\":\"identity\"}' | grep -q '\"hostname\":\"smoke\"'"
check "data disk mounted" bash -c "node '$HERE/agent-client.mjs' '$WORK/agent.sock' '{\"op\":\"list-disks\"}' | grep -q '\"mount\":\"/data\"'"
MARK="smoke-$$-✓"
agent "{\"op\":\"marker-set\",\"value\":\"$MARK\"}" '{"op":"workload","name":"fill-memory","mib":32,"seed":5}' >/dev/null

t0=$(now)
"${VIRSH[@]}" save "$NAME" "$WORK/vm.save" >/dev/null
echo "save: $(since "$t0")s ($(stat -c %s "$WORK/vm.save") bytes)"
t0=$(now)
"${VIRSH[@]}" restore "$WORK/vm.save" >/dev/null
node "$HERE/agent-client.mjs" --timeout 2000 --wait 15000 "$WORK/agent.sock" '{"op":"ping"}' >/dev/null
echo "restore-to-agent: $(since "$t0")s"
check "marker intact after restore" bash -c "node '$HERE/agent-client.mjs' '$WORK/agent.sock' '{\"op\":\"marker-get\"}' | grep -qF '\"value\":\"$MARK\"'"
check "memory intact after restore" bash -c "node '$HERE/agent-client.mjs' '$WORK/agent.sock' '{\"op\":\"workload\",\"name\":\"check-memory\"}' | grep -q '\"intact\":true'"

t0=$(now)
"${VIRSH[@]}" shutdown "$NAME" >/dev/null
for _ in $(seq 1 200); do "${VIRSH[@]}" domstate "$NAME" >/dev/null 2>&1 || break; sleep 0.1; done
check "virsh shutdown powers off" bash -c "! ${VIRSH[*]} domstate $NAME"
echo "shutdown: $(since "$t0")s"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
