export { run } from './main.js';
export { CliContext, type GlobalArgs } from './context.js';
export type { VirtplugCommand } from './commands/command.js';
export { loadMatrix } from './matrix-source.js';
export { resolveImage, resolveFlavor, parseKeyValues, FLAVORS } from './images.js';
export { Printer, table } from './output/printer.js';
export { progressBar, type Progress } from './output/progress.js';
