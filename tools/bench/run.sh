#!/usr/bin/env bash
# `npm run bench -- <name>`: runs tools/bench/<name>.ts, which prints one JSON object on stdout.
set -euo pipefail
cd "$(dirname "$0")/../.."
name=${1:-}
if [ -z "$name" ] || [ ! -f "tools/bench/$name.ts" ]; then
  echo "usage: npm run bench -- <name>; one of: $(cd tools/bench && ls *.ts 2>/dev/null | sed 's/\.ts$//' | tr '\n' ' ')" >&2
  exit 2
fi
shift
exec node --conditions=development --import tsx "tools/bench/$name.ts" "$@"
