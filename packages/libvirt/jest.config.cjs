const preset = require('../../tools/jest/preset.cjs');
// maxWorkers 1: the integration suites boot TCG guests on a 2-core machine shared with other suites.
module.exports = { ...preset, displayName: 'libvirt', rootDir: __dirname, maxWorkers: 1 };
