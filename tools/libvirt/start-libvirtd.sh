#!/usr/bin/env bash
# Starts the local libvirtd (qemu:///system) the way it works on these machines: no systemd, QEMU as
# root, remember_owner off (a killed QEMU otherwise leaves xattrs that block the next domain), and
# virtlogd first. Idempotent.
set -euo pipefail
say() { printf '[libvirtd] %s\n' "$*"; }

getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu
getent passwd libvirt-qemu >/dev/null || useradd -r -g libvirt-qemu -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
mkdir -p /var/log/libvirt /var/run/libvirt /var/lib/libvirt/images /var/lib/virtplug

conf=/etc/libvirt/qemu.conf
# namespaces = []: no private /dev mount namespace per QEMU. Building it costs 5-10 ms of every domain
# start (a VMS clone launch is ~150 ms in all), and with QEMU as root and no security driver it hides
# nothing a compromised QEMU could not reach anyway.
want='# virtplug: managed block
user = "root"
group = "root"
remember_owner = 0
dynamic_ownership = 0
security_driver = "none"
namespaces = []
# virtplug: end'
current=$(sed -n '/^# virtplug: managed block$/,/^# virtplug: end$/p' "$conf" 2>/dev/null || true)
if [ "$current" != "$want" ]; then
  say "configuring $conf (QEMU as root, no owner tracking, no security driver, no per-domain /dev namespace)"
  [ -n "$current" ] && sed -i '/^# virtplug: managed block$/,/^# virtplug: end$/d' "$conf"
  printf '\n%s\n' "$want" >> "$conf"
  restart=1
fi

# favordynmods on the cgroup2 hierarchy (kernel >= 6.0): libvirt moves every new QEMU into its machine
# cgroup, and on the default setting each such move waits for an RCU grace period (18-25 ms here, a
# sixth of a VMS clone launch). With it the move is immediate; the price is a slightly slower fork and
# exit system-wide. Idempotent, and skipped (with a note) where the kernel or mount does not allow it.
cg2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
if [ -n "$cg2" ] && ! awk -v m="$cg2" '$2 == m { print $4 }' /proc/mounts | tr ',' '\n' | grep -qx favordynmods; then
  if grep -qx favordynmods /sys/kernel/cgroup/features 2>/dev/null && mount -o remount,favordynmods "$cg2" 2>/dev/null; then
    say "cgroup2 at $cg2 remounted with favordynmods (fast cgroup moves for new QEMUs)"
  else
    say "note: could not set favordynmods on $cg2; each domain start waits ~20 ms for its cgroup move"
  fi
fi

if virsh -c qemu:///system version >/dev/null 2>&1 && [ -z "${restart:-}" ]; then
  say "running"
  exit 0
fi
if [ -n "${restart:-}" ] && [ -f /var/run/libvirtd.pid ]; then
  # Running domains survive a libvirtd restart; the new daemon must not start before the old one is gone.
  old=$(cat /var/run/libvirtd.pid)
  kill "$old" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$old" 2>/dev/null || break; sleep 0.1; done
fi
pgrep -x virtlogd >/dev/null || virtlogd -d
pgrep -x libvirtd >/dev/null || libvirtd -d
for _ in $(seq 1 150); do
  if virsh -c qemu:///system version >/dev/null 2>&1; then say "started"; exit 0; fi
  sleep 0.2
done
echo "[libvirtd] did not come up; see /var/log/libvirt/libvirtd.log" >&2
exit 1
