// Progress for long operations: one line redrawn on stderr when stderr is a terminal, nothing at all
// when it is piped or redirected, so scripts and logs never see it.
export interface Progress {
  update(text: string): void;
  done(): void;
}

/** At most one redraw per interval: a fast loop must not spend its time drawing. */
const REDRAW_INTERVAL_MS = 100;

export function createProgress(
  stream: { isTTY?: boolean; write(text: string): unknown } = process.stderr,
): Progress {
  if (!stream.isTTY) return { update: () => undefined, done: () => undefined };
  let lastDrawMs = 0;
  let drawn = false;
  return {
    update(text) {
      const nowMs = Date.now();
      if (nowMs - lastDrawMs < REDRAW_INTERVAL_MS) return;
      lastDrawMs = nowMs;
      drawn = true;
      stream.write(`\r\x1b[K${text}`);
    },
    done() {
      if (drawn) stream.write("\r\x1b[K");
    },
  };
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
