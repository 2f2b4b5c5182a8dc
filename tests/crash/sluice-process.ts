// The real Sluice process for end-to-end tests: `bun main.ts --data-dir <dir> --port 0` on loopback,
// found through its "sluice ready" log line (the port the OS chose is in its url), and stopped by a
// signal, as an operator or a crash would stop it.
import { join } from "node:path";
import type { Subprocess } from "bun";
import { type Collected, collect } from "./harness.ts";

const MAIN_PATH = join(import.meta.dir, "..", "..", "main.ts");
/** Bun's start-up plus the replay of a small data dir; generous for a loaded CI machine. */
const READY_TIMEOUT_MS = 15_000;

export interface SluiceProcess {
  /** http://127.0.0.1:<port>/api/v1 */
  api: string;
  /** ws://127.0.0.1:<port>/api/v1/ws */
  wsUrl: string;
  /** Its JSON log lines, parsed, as far as they have come. */
  logLines(): Array<Record<string, unknown>>;
  /** Sends `signal` and waits for the process to end. */
  stop(signal: "SIGTERM" | "SIGKILL"): Promise<Pick<Subprocess, "exitCode" | "signalCode">>;
}

const live = new Set<Subprocess>();

/** Kills any process a failed test left running (afterEach). */
export async function killLiveSluices(): Promise<void> {
  for (const child of live) {
    child.kill("SIGKILL");
    await child.exited;
  }
  live.clear();
}

export async function startSluice(dataDir: string): Promise<SluiceProcess> {
  const child = Bun.spawn(
    [process.execPath, MAIN_PATH, "--data-dir", dataDir, "--port", "0", "--host", "127.0.0.1"],
    { stdout: "ignore", stderr: "pipe" },
  );
  live.add(child);
  const stderr = collect(child.stderr);
  const logLines = () => parseLines(stderr);
  const url = await readyUrl(child, stderr, logLines);
  return {
    api: `${url}/api/v1`,
    wsUrl: `${url.replace(/^http/, "ws")}/api/v1/ws`,
    logLines,
    async stop(signal) {
      child.kill(signal);
      await child.exited;
      await stderr.done;
      live.delete(child);
      return { exitCode: child.exitCode, signalCode: child.signalCode };
    },
  };
}

async function readyUrl(
  child: Subprocess,
  stderr: Collected,
  logLines: () => Array<Record<string, unknown>>,
): Promise<string> {
  const deadline = performance.now() + READY_TIMEOUT_MS;
  for (;;) {
    const ready = logLines().find((line) => line["msg"] === "sluice ready");
    if (ready !== undefined) return String(ready["url"]);
    if (child.exitCode !== null) throw new Error(`sluice exited before it was ready: ${stderr.text}`);
    if (performance.now() > deadline)
      throw new Error(`sluice not ready in ${READY_TIMEOUT_MS} ms: ${stderr.text}`);
    await Bun.sleep(5);
  }
}

/** Whole lines only: the last may still be arriving. */
function parseLines(stderr: Collected): Array<Record<string, unknown>> {
  const lines = stderr.text.split("\n").slice(0, -1);
  return lines.filter((line) => line.startsWith("{")).map((line) => JSON.parse(line));
}
