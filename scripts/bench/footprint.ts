// The binary's footprint on a box: size per target, cold start to ready (empty data dir, and 1 GiB of
// data after a clean shutdown), idle RSS, and RSS with 1,000 idle WebSocket subscriptions. The
// reference, measured in the same run, is a compiled Bun hello-world HTTP server: the runtime's own
// floor for start time and memory, so each figure is also a ratio to what Bun alone costs.
//
//   bun scripts/bench/footprint.ts            (builds the host binary into a temp dir first)
//
// Targets (issue 5): ready <= 300 ms with 1 GiB of clean data; idle RSS <= 80 MB.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeBatch, type RecordInput } from "../../lib/log/record-batch.ts";
import { LogManager } from "../../lib/topics/log-manager.ts";

const ROOT = join(import.meta.dir, "..", "..");
const RUNS = 5;
const DATA_BYTES = 1024 * 1024 * 1024;
const PARTITIONS = 4;
const WS_CONNECTIONS = 250; // the node accepts 256 (lib/gateway/limits.ts)
const SUBSCRIPTIONS_PER_CONNECTION = 4;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

/** Starts `command`, waits for a stderr/stdout line containing `readyText`; ms from spawn to it. */
async function startUntil(command: string[], readyText: string, cwd: string) {
  const startedMs = performance.now();
  const proc = Bun.spawn(command, { cwd, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const decoder = new TextDecoder();
  let seen = "";
  const reader = proc.stderr.getReader();
  const outReader = proc.stdout.getReader();
  const watch = async (r: ReadableStreamDefaultReader<Uint8Array>) => {
    for (let chunk = await r.read(); !chunk.done; chunk = await r.read()) {
      seen += decoder.decode(chunk.value);
      if (seen.includes(readyText)) return;
    }
  };
  await Promise.race([watch(reader), watch(outReader)]);
  const readyMs = performance.now() - startedMs;
  const url = /"url":"([^"]+)"/.exec(seen)?.[1] ?? /listening (\S+)/.exec(seen)?.[1] ?? "";
  return { proc, readyMs, url };
}

async function stop(proc: Bun.Subprocess): Promise<void> {
  proc.kill("SIGTERM");
  await proc.exited;
}

async function fillDataDir(dataDir: string): Promise<void> {
  const records: RecordInput[] = [];
  for (let i = 0; i < 1024; i++)
    records.push({ key: new TextEncoder().encode(`k${i}`), value: new Uint8Array(1000).fill(i & 0xff) });
  await fillWith(dataDir, encodeBatch(records)); // batches of about 1 MiB
}

async function fillWith(dataDir: string, batch: Uint8Array): Promise<void> {
  const logs = LogManager.open({ dataDir });
  logs.createTopic("bulk", { partitions: PARTITIONS, config: { "segment.bytes": 128 * 1024 * 1024 } });
  let written = 0;
  for (let i = 0; written < DATA_BYTES; i++) {
    logs.partition("bulk", i % PARTITIONS).appendSync(batch.slice());
    written += batch.length;
  }
  // A clean shutdown: the marker makes the next start trust the segments.
  await logs.close();
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "sluice-footprint-"));
  try {
    const built = spawnSync(
      process.execPath,
      [join(ROOT, "scripts", "build.ts"), "--target", "host", "--outdir", work],
      { encoding: "utf8" },
    );
    if (built.status !== 0) throw new Error(`build failed: ${built.stdout}${built.stderr}`);
    const binary = join(work, "sluice");
    const sizes = [{ name: "host", bytes: statSync(binary).size }];
    const dist = join(ROOT, "dist");
    if (existsSync(dist)) {
      for (const name of readdirSync(dist).filter((n) => n.startsWith("sluice-")))
        sizes.push({ name: name.slice(7), bytes: statSync(join(dist, name)).size });
    }
    for (const { name, bytes } of sizes) console.log(`binary ${name}: ${(bytes / 2 ** 20).toFixed(1)} MiB`);

    // Reference: Bun alone, compiled, serving HTTP.
    writeFileSync(
      join(work, "hello.ts"),
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the reference server's own source text
      'const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("hi") }); console.error(`listening http://127.0.0.1:${s.port}`);\n',
    );
    const compiled = spawnSync(
      process.execPath,
      ["build", "--compile", join(work, "hello.ts"), "--outfile", join(work, "hello")],
      { encoding: "utf8" },
    );
    if (compiled.status !== 0) throw new Error(compiled.stderr);
    const helloMs: number[] = [];
    let helloRss = 0;
    for (let i = 0; i < RUNS; i++) {
      const { proc, readyMs } = await startUntil([join(work, "hello")], "listening", work);
      helloMs.push(readyMs);
      await Bun.sleep(300);
      helloRss = rssMb(proc.pid);
      await stop(proc);
    }

    const serve = (dataDir: string) => [
      binary,
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      "--data-dir",
      dataDir,
      "--log-level",
      "info",
    ];
    const emptyMs: number[] = [];
    let idleRss = 0;
    for (let i = 0; i < RUNS; i++) {
      const dataDir = join(work, `empty-${i}`);
      const { proc, readyMs } = await startUntil(serve(dataDir), "sluice ready", work);
      emptyMs.push(readyMs);
      await Bun.sleep(1000);
      idleRss = rssMb(proc.pid);
      await stop(proc);
    }

    const bigDir = join(work, "big");
    await fillDataDir(bigDir);
    const bigMs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const { proc, readyMs } = await startUntil(serve(bigDir), "sluice ready", work);
      bigMs.push(readyMs);
      await stop(proc);
    }

    // Idle subscriptions: each connection subscribes to partitions from latest with credit, then waits.
    const { proc, url } = await startUntil(serve(bigDir), "sluice ready", work);
    const sockets: WebSocket[] = [];
    let subscribed = 0;
    for (let c = 0; c < WS_CONNECTIONS; c++) {
      const ws = new WebSocket(`${url.replace("http", "ws")}/api/v1/ws`);
      ws.onmessage = (event) => {
        if (typeof event.data === "string" && event.data.includes('"subscribed"')) subscribed++;
      };
      await new Promise((resolve, reject) => {
        ws.onopen = resolve;
        ws.onerror = reject;
      });
      for (let s = 0; s < SUBSCRIPTIONS_PER_CONNECTION; s++) {
        ws.send(
          JSON.stringify({
            type: "subscribe",
            id: s + 1,
            topic: "bulk",
            partition: s % PARTITIONS,
            from: "latest",
            credit: { records: 1000 },
          }),
        );
      }
      sockets.push(ws);
    }
    for (let i = 0; i < 100 && subscribed < WS_CONNECTIONS * SUBSCRIPTIONS_PER_CONNECTION; i++)
      await Bun.sleep(50);
    await Bun.sleep(1000);
    const subsRss = rssMb(proc.pid);
    for (const ws of sockets) ws.close();
    await stop(proc);

    const r = (n: number) => Math.round(n);
    console.log(`reference: compiled Bun hello server ready ${r(median(helloMs))} ms, RSS ${r(helloRss)} MB`);
    console.log(
      `sluice: ready ${r(median(emptyMs))} ms empty, ${r(median(bigMs))} ms with 1 GiB clean; idle RSS ${r(idleRss)} MB; ${subscribed} subscriptions on ${WS_CONNECTIONS} sockets: RSS ${r(subsRss)} MB`,
    );
    console.log(
      `RESULT binary_mib=${(sizes[0]!.bytes / 2 ** 20).toFixed(1)} ready_empty_ms=${r(median(emptyMs))} ready_1gib_ms=${r(median(bigMs))} ` +
        `idle_rss_mb=${r(idleRss)} rss_1000_subs_mb=${r(subsRss)} ref_bun_ready_ms=${r(median(helloMs))} ref_bun_rss_mb=${r(helloRss)} ` +
        `ready_1gib_ratio=${(median(bigMs) / median(helloMs)).toFixed(2)} idle_rss_ratio=${(idleRss / helloRss).toFixed(2)}`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
