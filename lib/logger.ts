// Structured logs: one JSON object per line on stderr ({time, level, msg, ...fields}), lines below the
// configured level dropped. stdout stays free for what a command prints (print-config, records).
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

export interface LoggerOptions {
  level: LogLevel;
  /** Where each line goes (without its newline); stderr by default. Tests pass a collector. */
  writeLine?: (line: string) => void;
  /** Time source for `time`; Date.now by default. */
  nowMs?: () => number;
}

function writeStderr(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Error objects stringify as {} in JSON; log their message (and code) instead. */
function plain(value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  const code = (value as { code?: unknown }).code;
  return code === undefined ? value.message : { message: value.message, code };
}

export function createLogger(options: LoggerOptions): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level);
  const writeLine = options.writeLine ?? writeStderr;
  const nowMs = options.nowMs ?? Date.now;
  const at = (level: LogLevel) => {
    if (LOG_LEVELS.indexOf(level) < threshold) return () => undefined;
    return (msg: string, fields: LogFields = {}) => {
      const line: LogFields = { time: new Date(nowMs()).toISOString(), level, msg };
      for (const [key, value] of Object.entries(fields)) line[key] = plain(value);
      writeLine(JSON.stringify(line));
    };
  };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}
