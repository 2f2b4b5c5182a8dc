// The temporary node `sluice bench` measures when no --url is given: this same program run as
// `sluice serve` in a child process (its own core, as on a real box, not sharing the event loop with
// the bench's clients), on a loopback port and a temp data dir that is removed afterwards.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** How long the child may take to say it is ready, and to stop after SIGTERM. */
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 20_000;

export interface TemporaryNode {
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * How to run this program again: the compiled binary is its own executable (its entry point is under
 * Bun's /$bunfs/ root; import.meta.path would still name the source file it was built from); from
 * source it is Bun running main.ts.
 */
function selfCommand(): string[] {
  if (process.argv[1]?.startsWith("/$bunfs/")) return [process.execPath];
  return [process.execPath, join(import.meta.dir, "..", "..", "main.ts")];
}

export async function startTemporaryNode(): Promise<TemporaryNode> {
  const dataDir = mkdtempSync(join(tmpdir(), "sluice-bench-"));
  const [command, ...prefix] = selfCommand();
  const child = spawn(
    command!,
    [...prefix, "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", dataDir, "--log-level", "info"],
    // SLUICE_* of the caller's shell would configure the child too (a port, auth): leave them out.
    { stdio: ["ignore", "ignore", "pipe"], env: withoutSluiceEnv(process.env) },
  );
  const stop = async () => {
    await stopChild(child);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const url = await readyUrl(child);
    return { url, dataDir, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function withoutSluiceEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([key]) => !key.startsWith("SLUICE_")));
}

/** The URL of the child's "sluice ready" log line; its last lines in the error when it never comes. */
function readyUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines: string[] = [];
    let pending = "";
    const timer = setTimeout(() => fail(`not ready within ${READY_TIMEOUT_MS} ms`), READY_TIMEOUT_MS);
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(new Error(`the temporary node ${why}: ${lines.slice(-5).join("\n")}`));
    };
    child.on("exit", (code) => fail(`exited with ${code}`));
    child.on("error", (error) => fail(`could not start (${error.message})`));
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (chunk: string) => {
      pending += chunk;
      for (let newline = pending.indexOf("\n"); newline >= 0; newline = pending.indexOf("\n")) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        // The last few are kept for an error; the pipe is read to the end so the child never blocks on it.
        lines.push(line);
        if (lines.length > 10) lines.shift();
        const url = readyLine(line);
        if (url !== undefined) {
          clearTimeout(timer);
          resolve(url);
        }
      }
    });
  });
}

function readyLine(line: string): string | undefined {
  try {
    const parsed = JSON.parse(line) as { msg?: unknown; url?: unknown };
    return parsed.msg === "sluice ready" && typeof parsed.url === "string" ? parsed.url : undefined;
  } catch {
    return undefined;
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), STOP_TIMEOUT_MS);
  });
  if (await Promise.race([exited.then(() => false), late])) {
    child.kill("SIGKILL");
    await exited;
  }
  clearTimeout(timer);
}
