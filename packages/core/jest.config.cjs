const preset = require('../../tools/jest/preset.cjs');
module.exports = { ...preset, displayName: 'core', rootDir: __dirname };
