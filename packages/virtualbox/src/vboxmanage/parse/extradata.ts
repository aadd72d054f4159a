/** `getextradata <vm> <key>` prints `Value: <v>` or `No value set!`. */
export function parseExtraDataValue(text: string): string | undefined {
  const m = /^Value: (.*)$/m.exec(text.replace(/\r\n/g, '\n'));
  return m ? m[1] : undefined;
}
