import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../fixtures/samples/', import.meta.url));

/** A reference §6 sample, exactly as stored (no trimming: parsers get the bytes VBoxManage printed). */
export function sample(name: string): string {
  return readFileSync(dir + name, 'utf8');
}

export function sampleNames(): string[] {
  return readdirSync(dir).filter((n) => n.endsWith('.txt')).sort();
}

export function fixture(name: string): string {
  return readFileSync(fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url)), 'utf8');
}
