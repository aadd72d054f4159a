# The IOhyp agent inside the IOhyp namespace, plus the one config file the router and agent share. Sourced.

agent_config() {
  [ -s "$IOLAB_RUN/token" ] || (umask 077; head -c 32 /dev/urandom | base64 | tr -d '\n=' >"$IOLAB_RUN/token")
  mkdir -p "$IOLAB_RUN/agent-state" "$IOLAB_RUN/router-state"
  # The agent speaks HTTPS with a certificate from a throwaway lab CA: the token and CHAP secrets never
  # cross the management link in clear, and the tests exercise the same TLS path a deployment uses.
  [ -s "$IOLAB_RUN/pki/agent.pem" ] || bash "$REPO/tools/lab/pki.sh" "$IOLAB_RUN/pki" "${IOLAB_AGENT_ADDR%:*}"
  cat >"$IOLAB_RUN/iohyp.conf" <<CONF
[DEFAULT]
compute_driver = @virtplug/iohyp
state_path = $IOLAB_RUN/router-state
log_level = warn

[iohyp]
wrap = libvirt
agents = hyp1=https://$IOLAB_AGENT_ADDR
token_file = $IOLAB_RUN/token
tls_ca_file = $IOLAB_RUN/pki/ca.pem
addresses = hyp1@vlan:100=10.88.100.1/24, hyp1@vlan:200=10.88.200.1/24, hyp1@vxlan:300=10.88.130.1/24, hyp1@vxlan:301=10.88.131.1/24
initiator_addresses = vlan:100=10.88.100.2, vlan:200=10.88.200.2, vxlan:300=10.88.130.2, vxlan:301=10.88.131.2
listen = $IOLAB_AGENT_ADDR
agent_name = hyp1
tls_cert_file = $IOLAB_RUN/pki/agent.pem
tls_key_file = $IOLAB_RUN/pki/agent.key
agent_state_dir = $IOLAB_RUN/agent-state
segment_backend = auto
vlan_trunk = trh
ovs_db = unix:$IOLAB_RUN/ovs-hyp/db.sock
ovs_bridge = br-io
vxlan_dev = ulh
vxlan_local = 10.88.2.1
vxlan_remotes = 10.88.2.2
nbd_port_min = 10900
nbd_port_max = 10999
file_roots = $IOLAB_VOLS
CONF
}

agent_start() {
  if [ -f "$IOLAB_RUN/agent.pid" ] && kill -0 "$(cat "$IOLAB_RUN/agent.pid")" 2>/dev/null; then return 0; fi
  # From source (tsx) so the lab never runs a stale build; the launcher picks src under this condition.
  : >"$IOLAB_RUN/agent.log"
  (cd "$REPO" && OVS_RUNDIR="$IOLAB_RUN/ovs-hyp" lab_spawn "$IOLAB_RUN/agent.pid" "$IOLAB_RUN/agent.log" "$IOLAB_NS_HYP" \
    node --conditions=development --import tsx packages/iohyp/bin/virtplug-iohyp-agent.js --config "$IOLAB_RUN/iohyp.conf")
  local i
  for i in $(seq 1 100); do
    grep -q '"msg":"listening"' "$IOLAB_RUN/agent.log" 2>/dev/null && return 0
    kill -0 "$(cat "$IOLAB_RUN/agent.pid")" 2>/dev/null || break
    sleep 0.1
  done
  lab_log "agent did not start; see $IOLAB_RUN/agent.log:"; tail -20 "$IOLAB_RUN/agent.log" >&2; return 1
}

agent_stop() { lab_kill_pidfile "$IOLAB_RUN/agent.pid"; }
