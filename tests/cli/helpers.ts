// Runs Sluice as users do: a real process (`bun main.ts ...`, or the built binary), real signals, real
// sockets on loopback, a temp data dir per test.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const REPO_ROOT = join(import.meta.dir, "..", "..");
const MAIN = join(REPO_ROOT, "main.ts");

/** The command that runs Sluice: `bun main.ts` by default, or a built binary. */
export type SluiceCommand = string[];
export const BUN_MAIN: SluiceCommand = [process.execPath, MAIN];

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string>;
  stdin?: string;
  cwd?: string;
  command?: SluiceCommand;
  timeoutMs?: number;
}

/** Env without the caller's SLUICE_* variables, so a developer's shell cannot change a test. */
function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith("SLUICE_")) env[key] = value;
  }
  return { ...env, ...extra };
}

export async function runSluice(args: string[], options: RunOptions = {}): Promise<RunResult> {
  const proc = Bun.spawn([...(options.command ?? BUN_MAIN), ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: cleanEnv(options.env),
    stdin: options.stdin === undefined ? "ignore" : new TextEncoder().encode(options.stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), options.timeoutMs ?? 20_000);
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clearTimeout(timer);
  return { exitCode, stdout, stderr };
}

export interface LogLine {
  time: string;
  level: string;
  msg: string;
  [field: string]: unknown;
}

/** A node running in its own process, with its stderr parsed as JSON log lines. */
export class NodeProcess {
  readonly logs: LogLine[] = [];
  #waiters: Array<{ match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }> = [];
  readonly exited: Promise<number>;
  url = "";

  private constructor(readonly proc: Bun.Subprocess<"ignore", "pipe", "pipe">) {
    this.exited = proc.exited;
    void this.#readLogs();
  }

  static async start(
    dataDir: string,
    options: { args?: string[]; env?: Record<string, string>; command?: SluiceCommand; cwd?: string } = {},
  ): Promise<NodeProcess> {
    const proc = Bun.spawn(
      [
        ...(options.command ?? BUN_MAIN),
        "serve",
        "--port",
        "0",
        "--host",
        "127.0.0.1",
        "--data-dir",
        dataDir,
        ...(options.args ?? []),
      ],
      {
        cwd: options.cwd ?? REPO_ROOT,
        env: cleanEnv(options.env),
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
      },
    );
    const node = new NodeProcess(proc);
    const ready = await Promise.race([
      node.waitForLog((line) => line.msg === "sluice ready"),
      proc.exited.then((code) => {
        throw new Error(`sluice exited ${code} before it was ready: ${JSON.stringify(node.logs)}`);
      }),
    ]);
    node.url = String(ready.url);
    return node;
  }

  async #readLogs(): Promise<void> {
    let pending = "";
    const decoder = new TextDecoder();
    const reader = this.proc.stderr.getReader();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      pending += decoder.decode(chunk.value, { stream: true });
      let newline = pending.indexOf("\n");
      while (newline >= 0) {
        const text = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        newline = pending.indexOf("\n");
        let line: LogLine;
        try {
          line = JSON.parse(text) as LogLine;
        } catch {
          line = { time: "", level: "unparsed", msg: text };
        }
        this.logs.push(line);
        for (const waiter of this.#waiters.filter((w) => w.match(line))) {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    }
  }

  waitForLog(match: (line: LogLine) => boolean): Promise<LogLine> {
    const seen = this.logs.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.#waiters.push({ match, resolve }));
  }

  signal(signal: "SIGTERM" | "SIGINT" | "SIGKILL"): void {
    this.proc.kill(signal);
  }

  /** SIGTERM and the exit code. */
  async stop(): Promise<number> {
    this.signal("SIGTERM");
    return await this.exited;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      this.signal("SIGKILL");
      await this.exited;
    }
  }
}

export function tempDir(prefix: string): { path: string; [Symbol.dispose](): void } {
  const path = mkdtempSync(join(tmpdir(), `sluice-${prefix}-`));
  return { path, [Symbol.dispose]: () => rmSync(path, { recursive: true, force: true }) };
}

export async function postJson(url: string, body: unknown): Promise<Response> {
  return await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}
