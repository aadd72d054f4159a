#!/usr/bin/env bash
# `npm test`: set up the machine if needed (idempotent), build the guest image, then build, typecheck and
# test every package through Nx. Packages run one at a time: their integration tests share the 2 cores,
# libvirtd and the labs. Ends with one summary line "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false CI="${CI:-}"

bash tools/setup.sh
bash tools/guest-image/build.sh

log=$(mktemp /tmp/virtplug-test.XXXXXX)
status=0
npx nx run-many -t typecheck --outputStyle=static || status=$?
# The benchmarks, soaks and the demo are TypeScript outside any package: typecheck them too.
[ "$status" = 0 ] && { npx tsc -p tools/tsconfig.json || status=$?; }
if [ "$status" = 0 ]; then
  set +e
  npx nx run-many -t test --parallel=1 --outputStyle=static 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  set -e
fi

# jest prints "Tests: a failed, b skipped, c passed, d total" per package; add them up.
read -r passed failed < <(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^Tests:' | awk '{
  for (i = 2; i <= NF; i++) { gsub(",", "", $i); if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i }
} END { print p+0, f+0 }')
rm -f "$log"
echo "${passed} passed, ${failed} failed"
if [ "$failed" -gt 0 ] && [ "$status" = 0 ]; then status=1; fi
exit "$status"
