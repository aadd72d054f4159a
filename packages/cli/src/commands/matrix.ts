import { writeFileSync } from 'node:fs';
import { renderHtml, renderJson, renderMarkdown } from '@virtplug/core';
import { loadMatrix } from '../matrix-source.js';
import type { VirtplugCommand } from './command.js';

interface MatrixArgs {
  format: 'md' | 'html' | 'json';
  out?: string;
  includeFake?: boolean;
}

export const matrixCommand: VirtplugCommand<MatrixArgs> = {
  command: 'matrix',
  describe: 'Render the capability matrix (declarations merged with contract-run evidence)',
  builder: (y) =>
    y
      .option('format', { choices: ['md', 'html', 'json'] as const, default: 'md' as const, describe: 'Output format' })
      .option('out', { type: 'string', describe: 'Write to this file instead of stdout' })
      .option('include-fake', { type: 'boolean', default: false, describe: 'Include the in-memory reference driver' }),
  async run(ctx, args) {
    const matrix = await loadMatrix(ctx.evidenceDir(), { includeReference: Boolean(args.includeFake) });
    const format = args.json ? 'json' : args.format;
    const text = format === 'html' ? renderHtml(matrix) : format === 'json' ? renderJson(matrix) : renderMarkdown(matrix);
    if (args.out) {
      writeFileSync(args.out, text.endsWith('\n') ? text : text + '\n');
      ctx.printer.info(`wrote ${args.out}`);
    } else {
      process.stdout.write(text.endsWith('\n') ? text : text + '\n');
    }
  },
};
