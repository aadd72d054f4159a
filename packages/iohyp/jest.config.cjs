const preset = require('../../tools/jest/preset.cjs');
// One worker: the lab specs (test/*.lab.spec.ts) each bring the same three-host lab up and down.
module.exports = { ...preset, displayName: 'iohyp', rootDir: __dirname, maxWorkers: 1 };
