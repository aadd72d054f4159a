#!/usr/bin/env bash
# `npm run demo`: the main job. Sets the machine up (idempotent), builds the guest image, then narrates
# one end-to-end run on the default configuration. Extra arguments go to the scenario (--keep).
set -euo pipefail
cd "$(dirname "$0")/../.."
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false
bash tools/setup.sh
bash tools/guest-image/build.sh
exec node --import tsx tools/demo/demo.ts "$@"
