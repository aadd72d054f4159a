const preset = require('../../tools/jest/preset.cjs');
module.exports = { ...preset, displayName: 'iohyp', rootDir: __dirname };
