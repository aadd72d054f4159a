const preset = require('../../tools/jest/preset.cjs');
// Tests drive a fake VBoxManage process per call (~100 ms each on a loaded 2-core host): generous timeouts.
module.exports = { ...preset, displayName: 'virtualbox', rootDir: __dirname, testTimeout: 120_000 };
