// Test plumbing for crash tests: temporary data directories that remove themselves, and running the
// appender child until a SIGKILL, collecting what it acknowledged.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { type Ack, parseAcks } from "./workload.ts";

const CHILD_PATH = join(import.meta.dir, "appender-child.ts");
/** Bun's start-up plus recovery of a few MiB; generous for a loaded CI machine. */
const CHILD_READY_TIMEOUT_MS = 15_000;

export interface TempDir extends Disposable {
  path: string;
}

export function tempDir(prefix = "sluice-crash-"): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, [Symbol.dispose]: () => rmSync(path, { recursive: true, force: true }) };
}

const liveChildren = new Set<Subprocess>();

/** Kills any child a failed test left running (afterEach). */
export async function killLiveChildren(): Promise<void> {
  for (const child of liveChildren) {
    child.kill("SIGKILL");
    await child.exited;
  }
  liveChildren.clear();
}

export interface ChildRun {
  acks: Ack[];
  /** "clean" or "unclean": what the child's LogManager saw at open. */
  openedAfter: string;
  /** How long it appended before the SIGKILL. */
  ranMs: number;
}

/** Starts the appender on `dataDir`, lets it append for `runMs` after it is ready, then SIGKILLs it. */
export async function runChildUntilKilled(
  dataDir: string,
  options: { seed: number; runMs: number },
): Promise<ChildRun> {
  const child = Bun.spawn([process.execPath, CHILD_PATH, dataDir, String(options.seed)], {
    stdout: "pipe",
    stderr: "pipe",
  });
  liveChildren.add(child);
  try {
    const stdout = collect(child.stdout);
    const stderr = collect(child.stderr);
    const readyLine = await waitForLine(stdout, "READY ", child, stderr);
    const startedMs = performance.now();
    await Bun.sleep(options.runMs);
    if (child.exitCode !== null) {
      throw new Error(`the child exited by itself (code ${child.exitCode}): ${stderr.text}`);
    }
    child.kill("SIGKILL");
    await child.exited;
    const ranMs = performance.now() - startedMs;
    await Promise.all([stdout.done, stderr.done]);
    if (child.signalCode !== "SIGKILL") {
      throw new Error(`the child ended with ${child.signalCode ?? `code ${child.exitCode}`}: ${stderr.text}`);
    }
    return { acks: parseAcks(stdout.text), openedAfter: readyLine.slice("READY ".length), ranMs };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await child.exited;
    liveChildren.delete(child);
  }
}

export interface Collected {
  text: string;
  done: Promise<void>;
}

export function collect(stream: ReadableStream<Uint8Array>): Collected {
  const collected: Collected = { text: "", done: Promise.resolve() };
  collected.done = (async () => {
    const decoder = new TextDecoder();
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      collected.text += decoder.decode(value, { stream: true });
    }
    collected.text += decoder.decode();
  })();
  return collected;
}

async function waitForLine(
  output: Collected,
  prefix: string,
  child: Subprocess,
  stderr: Collected,
): Promise<string> {
  const deadline = performance.now() + CHILD_READY_TIMEOUT_MS;
  for (;;) {
    const line = output.text.split("\n").find((candidate) => candidate.startsWith(prefix));
    if (line !== undefined && output.text.includes(`${line}\n`)) return line;
    if (child.exitCode !== null) throw new Error(`the child exited before "${prefix}": ${stderr.text}`);
    if (performance.now() > deadline)
      throw new Error(`the child printed no "${prefix}" in ${CHILD_READY_TIMEOUT_MS} ms`);
    await Bun.sleep(5);
  }
}
