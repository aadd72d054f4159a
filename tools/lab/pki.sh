#!/usr/bin/env bash
# pki.sh DIR IP...: a throwaway CA and one agent certificate for the given IP addresses (EC P-256,
# valid 30 days), for the labs and the TLS tests. Writes DIR/ca.pem, DIR/agent.pem, DIR/agent.key (0600).
# The CA key is deleted once the certificate is signed: nothing else can be signed with it later.
set -euo pipefail
dir=${1:?usage: pki.sh DIR IP...}
shift
[ $# -gt 0 ] || { echo "pki.sh: give at least one IP address for the certificate" >&2; exit 2; }
san=""
for ip in "$@"; do
  [[ $ip =~ ^[0-9a-fA-F.:]+$ ]] || { echo "pki.sh: not an IP address: $ip" >&2; exit 2; }
  san="${san:+$san,}IP:$ip"
done
mkdir -p "$dir"
chmod 700 "$dir"
umask 077
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${ec[@]}" -keyout "$dir/ca.key" -out "$dir/ca.pem" -days 30 -subj "/CN=virtplug lab CA" 2>/dev/null
openssl req "${ec[@]}" -keyout "$dir/agent.key" -out "$dir/agent.csr" -subj "/CN=virtplug-iohyp-agent" 2>/dev/null
printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$san" >"$dir/agent.ext"
openssl x509 -req -in "$dir/agent.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -days 30 \
  -extfile "$dir/agent.ext" -out "$dir/agent.pem" 2>/dev/null
rm -f "$dir/ca.key" "$dir/agent.csr" "$dir/agent.ext" "$dir/ca.srl"
chmod 644 "$dir/ca.pem" "$dir/agent.pem"
