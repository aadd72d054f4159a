import cliProgress from 'cli-progress';

export interface Progress {
  update(fraction: number, detail?: string): void;
  stop(): void;
}

const silent: Progress = { update() {}, stop() {} };

/** A progress bar on stderr for long steps; none in JSON mode or when stderr is not a terminal. */
export function progressBar(label: string, enabled: boolean): Progress {
  if (!enabled || !process.stderr.isTTY) return silent;
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {percentage}% {detail}`, stream: process.stderr, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  bar.start(1000, 0, { detail: '' });
  return {
    update(fraction, detail = '') {
      bar.update(Math.round(Math.max(0, Math.min(1, fraction)) * 1000), { detail });
    },
    stop() {
      bar.stop();
    },
  };
}
