# The lab's wiring (see docs/iohyp.md "The lab"). Sourced. Everything in the root namespace is named
# vp-io-*; inside the lab's own namespaces names are short.
#
#   storage net 10.88.1.0/24 (bridge sbr in vp-io-st): tgtd 10.88.1.1, IOhyp 10.88.1.2, compute 10.88.1.3
#   mgmt        10.88.0.0/24: compute (router) 10.88.0.254 -> agent 10.88.0.1:8686 in vp-io-hyp
#   compute switch: OVS netdev bridge vp-io-br in the root namespace, at the default ovsdb socket so the
#               machine's libvirtd plugs guest taps into it (<virtualport type='openvswitch'/> + VLAN tag)
#   trunk       vp-io-br:vp-io-trc <-> vp-io-hyp:trh on the IOhyp's OVS bridge br-io (802.1Q)
#   VLAN 100/200: compute host ports vp-io-h100 (10.88.100.2) / vp-io-h200 (10.88.200.2), OVS internal
#   VXLAN 300/301: root bridges vp-io-g300/g301 -> veth -> VTEPs in vp-io-cn, underlay 10.88.2.0/24 to
#               vp-io-hyp:ulh 10.88.2.1; compute host addresses 10.88.130.2 / 10.88.131.2
#   peers       vp-io-v100 (VLAN 100, not in the ACL), vp-io-v200 (VLAN 200), vp-io-v300/v301 (VNIs)

IOLAB_BR=vp-io-br
IOLAB_OVS_SOCK=/run/openvswitch/db.sock

# The compute switch uses the machine's default ovsdb socket (libvirtd calls plain ovs-vsctl); refuse to
# take it over from an Open vSwitch this lab did not start.
compute_ovs_free() {
  [ -S "$IOLAB_OVS_SOCK" ] || return 0
  [ -f "$IOLAB_RUN/ovs-cn/vs.pid" ] && kill -0 "$(cat "$IOLAB_RUN/ovs-cn/vs.pid")" 2>/dev/null && return 0
  if ovs-vsctl --timeout=2 show >/dev/null 2>&1; then
    lab_log "an Open vSwitch this lab did not start serves $IOLAB_OVS_SOCK; stop it first"; return 1
  fi
  rm -f "$IOLAB_OVS_SOCK"
}

# peer_ns NAME ADDR MTU ATTACH...: a namespace standing in for another VM; ATTACH runs with the
# root-side veth end as its last argument.
peer_ns() {
  local ns=$1 addr=$2 mtu=$3; shift 3
  local dev="vp-io-p${ns#vp-io-v}"
  lab_ns_create "$ns"
  if ! ip -n "$ns" link show e0 >/dev/null 2>&1; then
    ip link del "$dev" 2>/dev/null || true
    lab_veth_ns "$ns" e0 "$addr" - "$dev" -
  fi
  ip -n "$ns" link set e0 mtu "$mtu"
  ip link set "$dev" mtu "$mtu" up
  "$@" "$dev"
}

ovs_access() { ovs_vsctl "$IOLAB_RUN/ovs-cn" --may-exist add-port "$IOLAB_BR" "$2" tag="$1" -- set port "$2" tag="$1"; }
bridge_port() { ip link set "$2" master "$1" up; }

net_up() {
  compute_ovs_free
  lab_ns_create "$IOLAB_NS_ST"; lab_ns_create "$IOLAB_NS_HYP"; lab_ns_create "$IOLAB_NS_CN"

  # storage network: a bridge inside the storage host, so one portal serves the IOhyp and the compute host
  ip -n "$IOLAB_NS_ST" link show sbr >/dev/null 2>&1 || ip -n "$IOLAB_NS_ST" link add sbr type bridge
  ip -n "$IOLAB_NS_ST" link set sbr up
  ip -n "$IOLAB_NS_ST" addr replace 10.88.1.1/24 dev sbr
  ip -n "$IOLAB_NS_HYP" link show st1 >/dev/null 2>&1 || lab_veth_ns "$IOLAB_NS_HYP" st1 10.88.1.2/24 "$IOLAB_NS_ST" sh0 -
  ip -n "$IOLAB_NS_ST" link set sh0 master sbr up
  ip link show vp-io-s0 >/dev/null 2>&1 || lab_veth_ns - vp-io-s0 10.88.1.3/24 "$IOLAB_NS_ST" sc0 -
  ip -n "$IOLAB_NS_ST" link set sc0 master sbr up

  # management: the router (root namespace) talks HTTP to the agent
  ip link show vp-io-m0 >/dev/null 2>&1 || lab_veth_ns - vp-io-m0 10.88.0.254/24 "$IOLAB_NS_HYP" m1 10.88.0.1/24

  # the two switches and the 802.1Q trunk between them
  ip link show vp-io-trc >/dev/null 2>&1 || lab_veth_ns - vp-io-trc - "$IOLAB_NS_HYP" trh -
  ovs_start - "$IOLAB_RUN/ovs-cn" "$IOLAB_OVS_SOCK"
  ovs_start "$IOLAB_NS_HYP" "$IOLAB_RUN/ovs-hyp"
  ovs_vsctl "$IOLAB_RUN/ovs-cn" --may-exist add-br "$IOLAB_BR" -- set bridge "$IOLAB_BR" datapath_type=netdev
  ovs_vsctl "$IOLAB_RUN/ovs-cn" --may-exist add-port "$IOLAB_BR" vp-io-trc
  ovs_vsctl "$IOLAB_RUN/ovs-hyp" --may-exist add-br br-io -- set bridge br-io datapath_type=netdev
  ovs_vsctl "$IOLAB_RUN/ovs-hyp" --may-exist add-port br-io trh

  # the compute host's own port on VLAN 100/200: its QEMU is the NBD initiator (docs/iohyp.md)
  local v
  for v in 100 200; do
    ovs_vsctl "$IOLAB_RUN/ovs-cn" --may-exist add-port "$IOLAB_BR" "vp-io-h$v" tag="$v" -- set interface "vp-io-h$v" type=internal
    for _ in $(seq 1 50); do ip link show "vp-io-h$v" >/dev/null 2>&1 && break; sleep 0.1; done
    ip link set "vp-io-h$v" up
  done
  ip addr replace 10.88.100.2/24 dev vp-io-h100
  ip addr replace 10.88.200.2/24 dev vp-io-h200

  # VXLAN: guest bridge (root) -> veth -> bridge with the VTEP in vp-io-cn -> underlay -> IOhyp
  ip -n "$IOLAB_NS_HYP" link show ulh >/dev/null 2>&1 || lab_veth_ns "$IOLAB_NS_HYP" ulh 10.88.2.1/24 "$IOLAB_NS_CN" ulc 10.88.2.2/24
  for v in 300 301; do
    ip link show "vp-io-g$v" >/dev/null 2>&1 || ip link add "vp-io-g$v" type bridge
    ip link set "vp-io-g$v" mtu 1450 up
    ip link show "vp-io-c$v" >/dev/null 2>&1 || lab_veth_ns - "vp-io-c$v" - "$IOLAB_NS_CN" "c$v" -
    ip link set "vp-io-c$v" mtu 1450 master "vp-io-g$v" up
    if ! ip -n "$IOLAB_NS_CN" link show "vx$v" >/dev/null 2>&1; then
      ip -n "$IOLAB_NS_CN" link add "vx$v" type vxlan id "$v" local 10.88.2.2 dev ulc dstport 4789
      ip netns exec "$IOLAB_NS_CN" bridge fdb append 00:00:00:00:00:00 dev "vx$v" dst 10.88.2.1
    fi
    ip -n "$IOLAB_NS_CN" link show "xb$v" >/dev/null 2>&1 || ip -n "$IOLAB_NS_CN" link add "xb$v" type bridge
    ip -n "$IOLAB_NS_CN" link set "xb$v" up
    ip -n "$IOLAB_NS_CN" link set "vx$v" master "xb$v" up
    ip -n "$IOLAB_NS_CN" link set "c$v" mtu 1450 master "xb$v" up
  done
  ip addr replace 10.88.130.2/24 dev vp-io-g300
  ip addr replace 10.88.131.2/24 dev vp-io-g301

  # QEMU 7.2's NBD server never sets TCP_NODELAY: with several requests in flight its replies wait
  # for the initiator's delayed ACK (up to 40 ms each; QD16 fell to ~400 IOPS). ACKing at once on the
  # initiator's route to the segment is the fix that needs no QEMU change (docs/iohyp.md "Performance").
  local net dev cidr src
  for net in 10.88.100.0/24:vp-io-h100:10.88.100.2 10.88.200.0/24:vp-io-h200:10.88.200.2 \
             10.88.130.0/24:vp-io-g300:10.88.130.2 10.88.131.0/24:vp-io-g301:10.88.131.2; do
    IFS=: read -r cidr dev src <<<"$net"
    ip route change "$cidr" dev "$dev" proto kernel scope link src "$src" quickack 1
  done

  # peers: v100 is on the right VLAN but not in the export's ACL; v200 and v301 sit on another
  # segment with an address in the export's own subnet, so only the segment separates them.
  peer_ns vp-io-v100 10.88.100.100/24 1500 ovs_access 100
  peer_ns vp-io-v200 10.88.100.200/24 1500 ovs_access 200
  peer_ns vp-io-v300 10.88.130.100/24 1450 bridge_port vp-io-g300
  peer_ns vp-io-v301 10.88.130.201/24 1450 bridge_port vp-io-g301
}

net_down() {
  local ns
  for ns in vp-io-v100 vp-io-v200 vp-io-v300 vp-io-v301 "$IOLAB_NS_CN" "$IOLAB_NS_HYP" "$IOLAB_NS_ST"; do
    lab_ns_delete "$ns"
  done
  local dev
  for dev in $(ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep '^vp-io-' || true); do
    ip link del "$dev" 2>/dev/null || true
  done
  # the compute switch's socket lives at the default path; remove it only if it is ours and dead
  if [ -S "$IOLAB_OVS_SOCK" ] && [ "$(cat "$IOLAB_RUN/ovs-cn/sock" 2>/dev/null)" = "$IOLAB_OVS_SOCK" ]; then rm -f "$IOLAB_OVS_SOCK"; fi
  rmdir "$(dirname "$IOLAB_OVS_SOCK")" 2>/dev/null || true
}
