const preset = require('../../tools/jest/preset.cjs');
module.exports = { ...preset, displayName: 'cloudlet', rootDir: __dirname };
