# The storage host: tgtd (userspace iSCSI target) with one LUN per volume and a CHAP account. Sourced.
# Its own control port keeps it apart from any other tgtd on the machine (tgtadm -C).

tgt_adm() { tgtadm -C "$IOLAB_TGT_PORT" --lld iscsi "$@"; }

storage_start() {
  if ! { [ -f "$IOLAB_RUN/tgtd.pid" ] && kill -0 "$(cat "$IOLAB_RUN/tgtd.pid")" 2>/dev/null; }; then
    lab_spawn "$IOLAB_RUN/tgtd.pid" "$IOLAB_RUN/tgtd.log" "$IOLAB_NS_ST" tgtd -f -C "$IOLAB_TGT_PORT" --iscsi "portal=10.88.1.1:3260"
    for _ in $(seq 1 50); do tgt_adm --op show --mode sys >/dev/null 2>&1 && break; sleep 0.1; done
    tgt_adm --op show --mode sys >/dev/null || { lab_log "tgtd did not start; see $IOLAB_RUN/tgtd.log"; return 1; }
  fi
  storage_chap_account
}

# The CHAP secret lives in a 0600 file; it is never printed.
storage_chap_account() {
  if [ ! -s "$IOLAB_RUN/chap.json" ]; then
    local pw; pw=$(head -c 12 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 14)
    (umask 077; printf '{"username":"vp-io-chap","password":"%s"}\n' "$pw" >"$IOLAB_RUN/chap.json")
  fi
  local pw; pw=$(sed -n 's/.*"password":"\([^"]*\)".*/\1/p' "$IOLAB_RUN/chap.json")
  tgt_adm --op show --mode account | grep -qw vp-io-chap ||
    tgt_adm --op new --mode account --user vp-io-chap --password "$pw"
}

# storage_volume TID NAME SIZE CHAP(0|1): a target with LUN 1 backed by a sparse file. Idempotent.
storage_volume() {
  local tid=$1 name=$2 size=$3 chap=$4
  local iqn="$IOLAB_IQN_PREFIX:$name" file="$IOLAB_VOLS/$name.img"
  [ -f "$file" ] || truncate -s "$size" "$file"
  if ! tgt_adm --op show --mode target | grep -q "^Target $tid: "; then
    tgt_adm --op new --mode target --tid "$tid" -T "$iqn"
    tgt_adm --op new --mode logicalunit --tid "$tid" --lun 1 -b "$file"
    # Only the IOhyp and the compute host (for the plain path) may log in.
    tgt_adm --op bind --mode target --tid "$tid" -I 10.88.1.2
    tgt_adm --op bind --mode target --tid "$tid" -I 10.88.1.3
    if [ "$chap" = 1 ]; then tgt_adm --op bind --mode account --tid "$tid" --user vp-io-chap; fi
  fi
}

storage_stop() {
  if [ -f "$IOLAB_RUN/tgtd.pid" ]; then
    tgt_adm --op update --mode sys --name State -v offline >/dev/null 2>&1 || true
    lab_kill_pidfile "$IOLAB_RUN/tgtd.pid"
  fi
}
