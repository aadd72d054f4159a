# Open vSwitch with the userspace (netdev) datapath, one private instance per lab "host". Sourced.
# No kernel module is needed: ovs-vswitchd logs that the module is missing and carries on, and
# bridges created with datapath_type=netdev switch in userspace with real 802.1Q tags.

# ovs_env DIR: the environment every OVS command of one instance runs with (private run/db/log dirs).
ovs_env() { echo "OVS_RUNDIR=$1 OVS_DBDIR=$1 OVS_LOGDIR=$1 OVS_SYSCONFDIR=$1"; }

# ovs_sock DIR: where an instance's ovsdb socket is (a file "sock" in DIR names it when not DIR/db.sock).
ovs_sock() { if [ -f "$1/sock" ]; then cat "$1/sock"; else echo "$1/db.sock"; fi; }

# ovs_start NS DIR [SOCK]: ovsdb-server + ovs-vswitchd inside NS ("-" = root), files in DIR, the
# database socket at SOCK (default DIR/db.sock). Idempotent.
ovs_start() {
  local ns=$1 dir=$2 sock=${3:-$2/db.sock}
  mkdir -p "$dir"
  if [ -f "$dir/vs.pid" ] && kill -0 "$(cat "$dir/vs.pid")" 2>/dev/null; then return 0; fi
  lab_kill_pidfile "$dir/db.pid"
  rm -f "$dir/conf.db" "$sock"
  mkdir -p "$(dirname "$sock")"
  echo "$sock" >"$dir/sock"
  ovsdb-tool create "$dir/conf.db" /usr/share/openvswitch/vswitch.ovsschema
  local pre=()
  if [ "$ns" != - ]; then pre=(ip netns exec "$ns"); fi
  # shellcheck disable=SC2046
  lab_detached env $(ovs_env "$dir") "${pre[@]}" ovsdb-server "$dir/conf.db" --remote="punix:$sock" \
    --pidfile="$dir/db.pid" --unixctl="$dir/db.ctl" --log-file="$dir/db.log" --detach --no-chdir >>"$dir/start.log" 2>&1
  ovs_vsctl "$dir" --no-wait init
  # Without userspace TSO support, TCP from a veth (partial checksums) through the netdev datapath
  # stalls: ARP and ping pass, connections time out. It must be set before ovs-vswitchd starts.
  ovs_vsctl "$dir" --no-wait set Open_vSwitch . other_config:userspace-tso-enable=true
  # shellcheck disable=SC2046
  lab_detached env $(ovs_env "$dir") "${pre[@]}" ovs-vswitchd "unix:$sock" --pidfile="$dir/vs.pid" \
    --unixctl="$dir/vs.ctl" --log-file="$dir/vs.log" --detach --no-chdir >>"$dir/start.log" 2>&1
}

ovs_vsctl() { # DIR ARGS...
  local dir=$1; shift
  # shellcheck disable=SC2046
  env $(ovs_env "$dir") ovs-vsctl --db="unix:$(ovs_sock "$dir")" --timeout=10 "$@"
}

ovs_stop() { # DIR
  lab_kill_pidfile "$1/vs.pid"
  lab_kill_pidfile "$1/db.pid"
}
