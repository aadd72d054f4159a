const preset = require('../../tools/jest/preset.cjs');
module.exports = { ...preset, displayName: 'virtualbox', rootDir: __dirname };
