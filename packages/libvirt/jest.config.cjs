const preset = require('../../tools/jest/preset.cjs');
module.exports = { ...preset, displayName: 'libvirt', rootDir: __dirname };
