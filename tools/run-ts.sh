#!/usr/bin/env bash
# `npm run bench -- <name>` and `npm run soak -- <name> [args]`: runs tools/<kind>/<name>.ts from the
# workspace sources (a benchmark prints one JSON object on stdout).
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:?usage: run-ts.sh bench|soak <name> [args]}
name=${2:-}
if [ -z "$name" ] || [ ! -f "tools/$kind/$name.ts" ]; then
  echo "usage: npm run $kind -- <name>; one of: $(cd "tools/$kind" && ls ./*.ts 2>/dev/null | sed 's#^\./##; s/\.ts$//' | tr '\n' ' ')" >&2
  exit 2
fi
shift 2
exec node --conditions=development --import tsx "tools/$kind/$name.ts" "$@"
