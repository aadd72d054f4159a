#!/usr/bin/env node
// fake-vboxmanage: the replay harness. A VBoxManage stand-in for machines without VirtualBox: point
// [virtualbox] vboxmanage_cmd at this file. State lives in $FAKE_VBOX_HOME (default: a per-user temp
// dir); faults, version and extension packs are set in $FAKE_VBOX_HOME/control.json. See
// docs/drivers/virtualbox.md.
import { main } from './harness/main.js';

main(process.argv.slice(2));
