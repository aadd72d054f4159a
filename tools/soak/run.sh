#!/usr/bin/env bash
# `npm run soak -- <name> [--cycles N]`: runs tools/soak/<name>.ts.
set -euo pipefail
cd "$(dirname "$0")/../.."
name=${1:-}
if [ -z "$name" ] || [ ! -f "tools/soak/$name.ts" ]; then
  echo "usage: npm run soak -- <name> [--cycles N]; one of: $(cd tools/soak && ls *.ts 2>/dev/null | sed 's/\.ts$//' | tr '\n' ' ')" >&2
  exit 2
fi
shift
exec node --conditions=development --import tsx "tools/soak/$name.ts" "$@"
