#!/usr/bin/env bash
# The three-host I/O-hypervisor lab in network namespaces (docs/iohyp.md "The lab"):
#   vp-io-st  storage host: tgtd iSCSI target, LUN 1 per volume, CHAP account
#   vp-io-hyp IOhyp host:   OVS netdev bridge br-io, VXLAN underlay, the virtplug-iohyp-agent
#   compute   the machine itself: libvirtd's guests plug into the OVS netdev bridge vp-io-br (VLANs, with
#             tags) or the bridges vp-io-g300/301 (VXLAN VTEPs in vp-io-cn), and reach the IOhyp only
#             over that tenant segment.
# Usage: iohyp.sh up|down|status      (root; idempotent; `down` also cleans up after a failed `up`)
# Facts for tests and tools: /run/vp-io-lab/lab.json; router+agent config: /run/vp-io-lab/iohyp.conf
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib/netns.sh
. "$HERE/lib/netns.sh"
. "$HERE/iohyp/ovs.sh"
. "$HERE/iohyp/storage.sh"
. "$HERE/iohyp/net.sh"
. "$HERE/iohyp/agent.sh"

IOLAB_RUN=${IOLAB_RUN:-/run/vp-io-lab}
IOLAB_VOLS=${IOLAB_VOLS:-/var/tmp/vp-io-lab}
IOLAB_NS_ST=vp-io-st IOLAB_NS_HYP=vp-io-hyp IOLAB_NS_CN=vp-io-cn
IOLAB_TGT_PORT=88
IOLAB_IQN_PREFIX=iqn.2026-11.io.virtplug.lab
IOLAB_AGENT_ADDR=10.88.0.1:8686

need() {
  local missing=() c
  for c in ip bridge ovs-vsctl ovsdb-server ovs-vswitchd tgtd tgtadm qemu-storage-daemon qemu-nbd qemu-img nft node; do
    command -v "$c" >/dev/null || missing+=("$c")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    lab_log "missing programs: ${missing[*]}; run: bash tools/setup.sh (or apt-get install openvswitch-switch tgt qemu-utils qemu-block-extra nftables)"
    exit 1
  fi
  [ "$(id -u)" = 0 ] || { lab_log "must run as root"; exit 1; }
}

# The lab's own routes (on vp-io-* devices) are fine on a second `up`; anything else in 10.88/16 is not.
assert_free() {
  local foreign
  foreign=$(ip -4 route show | awk '$1 ~ /^10\.88\./ && $0 !~ / dev vp-io-/' || true)
  if [ -n "$foreign" ]; then lab_log "10.88.0.0/16 overlaps routes of this machine: $foreign; refusing"; return 1; fi
  [ -n "$(ip -4 route show | awk '$1 ~ /^10\.88\./')" ] || lab_assert_free_subnet 10.88.
}

write_facts() {
  cat >"$IOLAB_RUN/lab.json" <<JSON
{
  "run": "$IOLAB_RUN",
  "namespaces": {"storage": "$IOLAB_NS_ST", "iohyp": "$IOLAB_NS_HYP", "computeVteps": "$IOLAB_NS_CN",
                 "peerVlan100": "vp-io-v100", "peerVlan200": "vp-io-v200", "peerVni300": "vp-io-v300", "peerVni301": "vp-io-v301"},
  "storage": {"portal": "10.88.1.1:3260", "tgtControlPort": $IOLAB_TGT_PORT, "iqnPrefix": "$IOLAB_IQN_PREFIX",
              "volumesDir": "$IOLAB_VOLS", "chapFile": "$IOLAB_RUN/chap.json",
              "volumes": [{"tid": 1, "name": "vol1", "chap": true}, {"tid": 2, "name": "vol2", "chap": false}]},
  "agent": {"name": "hyp1", "url": "https://$IOLAB_AGENT_ADDR", "tokenFile": "$IOLAB_RUN/token", "caFile": "$IOLAB_RUN/pki/ca.pem", "pidFile": "$IOLAB_RUN/agent.pid",
            "log": "$IOLAB_RUN/agent.log", "stateDir": "$IOLAB_RUN/agent-state"},
  "ovs": {"iohyp": {"dir": "$IOLAB_RUN/ovs-hyp", "db": "unix:$IOLAB_RUN/ovs-hyp/db.sock", "bridge": "br-io"},
          "compute": {"dir": "$IOLAB_RUN/ovs-cn", "db": "unix:$IOLAB_OVS_SOCK", "bridge": "$IOLAB_BR"}},
  "segments": {
    "vlan100": {"type": "vlan", "id": 100, "cidr": "10.88.100.0/24", "bridge": "vp-io-br", "computeAddress": "10.88.100.2", "guestAddress": "10.88.100.10/24", "iohypAddress": "10.88.100.1"},
    "vlan200": {"type": "vlan", "id": 200, "cidr": "10.88.200.0/24", "bridge": "vp-io-br", "computeAddress": "10.88.200.2"},
    "vxlan300": {"type": "vxlan", "id": 300, "cidr": "10.88.130.0/24", "bridge": "vp-io-g300", "computeAddress": "10.88.130.2", "guestAddress": "10.88.130.10/24", "iohypAddress": "10.88.130.1", "mtu": 1450},
    "vxlan301": {"type": "vxlan", "id": 301, "cidr": "10.88.131.0/24", "bridge": "vp-io-g301", "computeAddress": "10.88.131.2", "mtu": 1450}
  },
  "peers": {"vlan100": "10.88.100.100", "vlan200": "10.88.100.200", "vxlan300": "10.88.130.100", "vxlan301": "10.88.130.201"},
  "config": "$IOLAB_RUN/iohyp.conf"
}
JSON
}

up() {
  need
  mkdir -p "$IOLAB_RUN" "$IOLAB_VOLS"
  chmod 700 "$IOLAB_RUN"
  assert_free
  # A failed `up` leaves nothing half-made: tear down what this run created.
  trap 'rc=$?; if [ $rc -ne 0 ]; then lab_log "up failed (rc $rc); cleaning up"; down || true; fi' EXIT
  net_up
  storage_start
  storage_volume 1 vol1 64M 1
  storage_volume 2 vol2 64M 0
  write_facts
  agent_config
  agent_start
  trap - EXIT
  lab_log "up: $(status_line)"
}

# stop_all PIDFILE...: TERM to all at once, one shared grace period, then KILL (daemons here take ~2 s
# each to honour TERM; one by one that was most of `down`).
stop_all() {
  local f pids=() pid
  for f in "$@"; do
    [ -f "$f" ] || continue
    pid=$(cat "$f" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then pids+=("$pid"); kill "$pid" 2>/dev/null || true; fi
    rm -f "$f"
  done
  [ ${#pids[@]} -gt 0 ] || return 0
  for _ in $(seq 1 20); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && return 0
    sleep 0.1
  done
  kill -9 "${pids[@]}" 2>/dev/null || true
}

down() {
  # exports the agent may have left behind (their pid files live in the agent's state dir), the agent,
  # the target and both switches
  stop_all "$IOLAB_RUN"/agent-state/exports/*.pid "$IOLAB_RUN/agent.pid" "$IOLAB_RUN/tgtd.pid" \
    "$IOLAB_RUN"/ovs-*/vs.pid "$IOLAB_RUN"/ovs-*/db.pid
  net_down
  rm -rf "$IOLAB_RUN" "$IOLAB_VOLS"
  lab_log "down"
}

status_line() {
  local ns n=0 p
  for ns in "$IOLAB_NS_ST" "$IOLAB_NS_HYP" "$IOLAB_NS_CN"; do lab_ns_exists "$ns" && n=$((n + 1)); done
  local tgt=stopped agent=stopped ovs=0
  [ -f "$IOLAB_RUN/tgtd.pid" ] && kill -0 "$(cat "$IOLAB_RUN/tgtd.pid")" 2>/dev/null && tgt=running
  [ -f "$IOLAB_RUN/agent.pid" ] && kill -0 "$(cat "$IOLAB_RUN/agent.pid")" 2>/dev/null && agent=running
  for p in "$IOLAB_RUN"/ovs-*/vs.pid; do [ -f "$p" ] && kill -0 "$(cat "$p")" 2>/dev/null && ovs=$((ovs + 1)); done
  echo "namespaces=$n/3 tgtd=$tgt ovs=$ovs/2 agent=$agent"
}

status() {
  local line; line=$(status_line)
  echo "$line"
  case "$line" in "namespaces=3/3 tgtd=running ovs=2/2 agent=running") return 0 ;; *) return 3 ;; esac
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
