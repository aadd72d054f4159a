// Option parsing for the fake: `--flag value` pairs (and `--flag=value`), with per-flag arities.
import { syntaxError } from './output.js';

/**
 * @param {string[]} argv
 * @param {Record<string, number | ((next: string) => number)>} arity flag → number of values (0 = switch)
 * @returns {[string, string[]][]}
 */
export function parseOptions(argv, arity) {
  const out = [];
  for (let i = 0; i < argv.length; i++) {
    let flag = argv[i];
    let inline;
    const eq = flag.startsWith('--') ? flag.indexOf('=') : -1;
    if (eq > 0) {
      inline = flag.slice(eq + 1);
      flag = flag.slice(0, eq);
    }
    const spec = arity[flag] ?? arity[flag.replace(/\d+$/, 'N')];
    if (spec === undefined) throw syntaxError(`Invalid parameter '${argv[i]}'`);
    const n = typeof spec === 'function' ? spec(inline ?? argv[i + 1]) : spec;
    const values = inline !== undefined ? [inline, ...argv.slice(i + 1, i + n)] : argv.slice(i + 1, i + 1 + n);
    if (values.length < n) throw syntaxError(`Missing argument to '${flag}'`);
    out.push([flag, values]);
    i += inline !== undefined ? n - 1 : n;
  }
  return out;
}

/** Options as a map of the last value given per flag. */
export function optionMap(argv, arity) {
  const map = {};
  for (const [flag, values] of parseOptions(argv, arity)) map[flag] = values.length <= 1 ? (values[0] ?? true) : values;
  return map;
}
