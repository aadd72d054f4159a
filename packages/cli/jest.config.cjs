const preset = require('../../tools/jest/preset.cjs');
module.exports = { ...preset, displayName: 'cli', rootDir: __dirname };
