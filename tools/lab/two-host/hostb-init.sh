#!/usr/bin/env bash
# Runs inside host B's namespaces (network from `ip netns exec`, mount + UTS from `unshare`):
# private libvirt directories over the real ones, a hostname, then virtlogd and libvirtd with
# explicit pid files (the defaults would collide with host A's).
set -euo pipefail
LAB=$1
NAME=$2
mount --make-rprivate /
for pair in etc-libvirt:/etc/libvirt run-libvirt:/run/libvirt var-lib-libvirt:/var/lib/libvirt \
            var-cache-libvirt:/var/cache/libvirt var-log-libvirt:/var/log/libvirt; do
  src="$LAB/${pair%%:*}"
  dst="${pair#*:}"
  mkdir -p "$dst"
  mount --bind "$src" "$dst"
done
hostname "$NAME"
ip link set lo up
virtlogd -d -p /run/libvirt/virtlogd.pid
libvirtd -d --listen -p /run/libvirt/libvirtd.pid -f /etc/libvirt/libvirtd.conf
echo "host B started: libvirtd pid $(cat /run/libvirt/libvirtd.pid 2>/dev/null || echo '?')"
