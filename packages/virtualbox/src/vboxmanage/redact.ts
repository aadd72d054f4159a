/** Argv as it may appear in logs and errors: secrets (iSCSI CHAP, VNC passwords) replaced by ***. */
const SECRET_FLAGS = new Set(['--password', '--initiatorsecret', '--settingspw']);
const SECRET_PROPERTY = /^((?:VNCPassword|InitiatorSecret)=)(.*)$/;

export function redactArgs(args: readonly string[]): string[] {
  return args.map((arg, i) => {
    if (i > 0 && SECRET_FLAGS.has(args[i - 1]!)) return '***';
    const m = SECRET_PROPERTY.exec(arg);
    return m ? `${m[1]}***` : arg;
  });
}
