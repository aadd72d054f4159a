#!/usr/bin/env bash
# Shared helpers for the labs: network namespaces joined by veth pairs. Sourced, not run.
# Every lab names its namespaces with its own prefix and tears down exactly what it made.

lab_log() { printf '[lab] %s\n' "$*" >&2; }

# The machine's own routes are off limits: a lab subnet must overlap none of them.
lab_assert_free_subnet() { # CIDR-prefix like 10.77.
  local prefix=$1
  if ip -4 route show | awk '{print $1}' | grep -q "^${prefix}"; then
    lab_log "subnet ${prefix}0.0/16 overlaps a route of this machine; refusing"; return 1
  fi
  case "$prefix" in 192.0.2.*) lab_log "192.0.2.0/24 is the machine's own network; refusing"; return 1;; esac
}

lab_ns_exists() { ip netns list | awk '{print $1}' | grep -qx "$1"; }

lab_ns_create() { # NAME
  lab_ns_exists "$1" || ip netns add "$1"
  ip -n "$1" link set lo up
}

# lab_veth NS_A IF_A ADDR_A NS_B IF_B ADDR_B   (NS "-" = root namespace; ADDR "-" = none)
lab_veth() {
  local nsa=$1 ifa=$2 addra=$3 nsb=$4 ifb=$5 addrb=$6
  ip link show "$ifa" >/dev/null 2>&1 && ip link del "$ifa" 2>/dev/null
  ip link add "$ifa" type veth peer name "$ifb"
  if [ "$nsa" != - ]; then ip link set "$ifa" netns "$nsa"; fi
  if [ "$nsb" != - ]; then ip link set "$ifb" netns "$nsb"; fi
  lab_in "$nsa" ip link set "$ifa" up
  lab_in "$nsb" ip link set "$ifb" up
  if [ "$addra" != - ]; then lab_in "$nsa" ip addr replace "$addra" dev "$ifa"; fi
  if [ "$addrb" != - ]; then lab_in "$nsb" ip addr replace "$addrb" dev "$ifb"; fi
}

lab_in() { # NS CMD...   run CMD in NS ("-" = root namespace)
  local ns=$1; shift
  if [ "$ns" = - ]; then "$@"; else ip netns exec "$ns" "$@"; fi
}

lab_kill_pidfile() { # PIDFILE
  local f=$1
  [ -f "$f" ] || return 0
  local pid; pid=$(cat "$f" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

lab_ns_delete() { # NAME: kills whatever still runs inside, then removes it
  lab_ns_exists "$1" || return 0
  local pids; pids=$(ip netns pids "$1" 2>/dev/null || true)
  if [ -n "$pids" ]; then kill $pids 2>/dev/null || true; sleep 0.3; kill -9 $pids 2>/dev/null || true; fi
  ip netns del "$1"
}

# lab_veth_ns NS_A IF_A ADDR_A NS_B IF_B ADDR_B: like lab_veth, but both ends are created directly in
# their namespaces (NS "-" = root), so short in-namespace names never appear in the root namespace
# where another lab could be using the same name. Idempotent: an existing IF_A is replaced.
lab_veth_ns() {
  local nsa=$1 ifa=$2 addra=$3 nsb=$4 ifb=$5 addrb=$6
  lab_in "$nsa" ip link del "$ifa" 2>/dev/null || true
  local a=() b=()
  if [ "$nsa" != - ]; then a=(netns "$nsa"); fi
  if [ "$nsb" != - ]; then b=(netns "$nsb"); fi
  ip link add name "$ifa" "${a[@]}" type veth peer name "$ifb" "${b[@]}"
  lab_in "$nsa" ip link set "$ifa" up
  lab_in "$nsb" ip link set "$ifb" up
  if [ "$addra" != - ]; then lab_in "$nsa" ip addr replace "$addra" dev "$ifa"; fi
  if [ "$addrb" != - ]; then lab_in "$nsb" ip addr replace "$addrb" dev "$ifb"; fi
}

# lab_close_fds: closes every fd above 2 of the current (sub)shell, so a daemon started from it holds no
# pipe of the caller (a test runner would otherwise wait for it forever).
lab_close_fds() {
  local fd
  for fd in /proc/$BASHPID/fd/*; do
    fd=${fd##*/}
    if [ "$fd" -gt 2 ] 2>/dev/null; then eval "exec $fd>&-" 2>/dev/null || true; fi
  done
}

# lab_detached CMD...: runs CMD in the foreground with fds above 2 closed (for self-daemonizing programs).
lab_detached() { ( lab_close_fds; exec "$@" ); }

# lab_spawn PIDFILE LOG NS CMD...: starts CMD as a daemon in NS ("-" = root namespace), in its own
# session, fds closed, output appended to LOG; PIDFILE gets CMD's own pid (nothing forks in between).
lab_spawn() {
  local pidfile=$1 log=$2 ns=$3; shift 3
  local pre=()
  if [ "$ns" != - ]; then pre=(ip netns exec "$ns"); fi
  ( lab_close_fds; exec setsid "${pre[@]}" "$@" >>"$log" 2>&1 </dev/null ) &
  echo $! >"$pidfile"
}
