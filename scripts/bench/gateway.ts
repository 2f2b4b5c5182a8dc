// Benchmark of the gateway end to end on loopback, in one run:
//   produce   SluiceProducer (lib/client/) over HTTP: records handed over 5,000 at a time with
//             sendMany(), RecordBatch v2 built in this process, raw produce requests of many batches
//             to a Sluice child process, timed until every record is acknowledged (acks 1); 100 B
//             records (records/s) and 1 KiB records (MB/s of record values). send() per record is
//             measured too and printed beside it.
//   consume   SluiceConsumer over the WebSocket, binary frames, the same topics read from the start.
//             "Consumed" = handed to the application by consumer.batches(): every batch's CRC-32C
//             checked, every record decoded to {offset, timestamp, key, value, headers} (key and
//             value are views of the frame), and the bench reads each record's value
//   e2e       records sent at 10,000/s with linger.ms 0, read by a consumer from the latest offset;
//             latency is send() call to the record handed to the application (one clock: same process)
//   reference the same box without Sluice: bare Bun.serve taking the same POST bodies, and a bare Bun
//             WebSocket sending 256 KiB binary frames (scripts/bench/gateway-server.ts raw)
// The phases live in lib/cli/bench-phases.ts (shared with `sluice bench`); this script adds the
// references, the CPU each phase costs and the send() comparison. The node runs as a child process
// (its own core), the clients here. Data goes to a temp dir. Each phase prints the CPU seconds this
// process and the node used (cost per record, whatever the load), and the run prints the load average
// before and after: on a shared box the rates follow it.
//
// Usage: bun scripts/bench/gateway.ts     (env: RECORDS_100B=2000000 RECORDS_1K=400000 PARTITIONS=4 E2E_S=5)
// Profiling: CHILD_FLAGS="--cpu-prof-md --cpu-prof-dir=/tmp/prof" passes bun flags to the server child;
// bun --cpu-prof-md … scripts/bench/gateway.ts profiles this (client) process.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import {
  BENCH_PRODUCER,
  type BenchTarget,
  consumePhase,
  latencyPhase,
  producePhase,
} from "../../lib/cli/bench-phases.ts";
import { SluiceAdmin } from "../../lib/client/admin.ts";

const RECORDS_100B = Number(process.env.RECORDS_100B ?? 2_000_000);
const RECORDS_1K = Number(process.env.RECORDS_1K ?? 400_000);
const PARTITIONS = Number(process.env.PARTITIONS ?? 4);
const E2E_S = Number(process.env.E2E_S ?? 5);
const E2E_RATE = 10_000;
/** For profiling one part: "produce", "produce,consume"…; the RESULT line needs them all. */
const PHASES = new Set((process.env.PHASES ?? "reference,produce,consume,e2e").split(","));
const CHILD_FLAGS = (process.env.CHILD_FLAGS ?? "").split(" ").filter((flag) => flag !== "");
/** Each phase stops after this long even if its count is not reached. */
const PHASE_S_MAX = 30;
const MB = 1e6;

interface Child {
  url: string;
  /** CPU seconds the child has used so far (user, system), from /proc (0 where there is none). */
  cpuSeconds(): CpuSeconds;
  stop(): Promise<void>;
}

interface CpuSeconds {
  user: number;
  system: number;
}

/** User and system CPU seconds of a process from /proc/<pid>/stat (clock ticks of 10 ms). */
function procCpuSeconds(pid: number): CpuSeconds {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
  } catch {
    return { user: 0, system: 0 };
  }
}

function ownCpuSeconds(): CpuSeconds {
  const { user, system } = process.cpuUsage();
  return { user: user / 1e6, system: system / 1e6 };
}

/** "1.2 s (system 0.4)": CPU used between two readings. */
function cpuSpent(before: CpuSeconds, after: CpuSeconds): string {
  const system = after.system - before.system;
  return `${round(after.user - before.user + system)} s (system ${round(system)})`;
}

/** Runs a phase and says how much CPU this process and the node used for it: cost, not just speed. */
async function withCpu<T>(node: Child, phase: () => Promise<T>): Promise<T & { cpu: string }> {
  const client = ownCpuSeconds();
  const server = node.cpuSeconds();
  const result = await phase();
  const cpu = `cpu: client ${cpuSpent(client, ownCpuSeconds())}, node ${cpuSpent(server, node.cpuSeconds())}`;
  return { ...result, cpu };
}

/** The node as the phases (lib/cli/bench-phases.ts) take it: no token, PHASE_S_MAX a phase. */
function targetOf(node: Child): BenchTarget {
  return { baseUrl: node.url, token: undefined, phaseMsMax: PHASE_S_MAX * 1000 };
}

/** The bench's topics on a fresh node; the target the phases take. */
async function createTopics(node: Child): Promise<BenchTarget> {
  const admin = new SluiceAdmin({ baseUrl: node.url });
  for (const topic of ["bench-100b", "bench-1k", "bench-send"])
    await admin.createTopic(topic, { partitions: PARTITIONS });
  await admin.createTopic("bench-e2e");
  return targetOf(node);
}

async function startChild(args: string[]): Promise<Child> {
  const child = Bun.spawn(
    [process.execPath, ...CHILD_FLAGS, join(import.meta.dir, "gateway-server.ts"), ...args],
    {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "inherit",
    },
  );
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`server child exited: ${text}`);
    text += new TextDecoder().decode(value);
  }
  const port = Number(/PORT (\d+)/.exec(text)?.[1]);
  return {
    url: `http://127.0.0.1:${port}`,
    cpuSeconds: () => procCpuSeconds(child.pid),
    stop: async () => {
      child.stdin.end();
      await Promise.race([child.exited, Bun.sleep(5000)]);
      if (child.exitCode === null) child.kill();
    },
  };
}

function log(line: string): void {
  console.log(line);
}

function round(value: number): number {
  return value >= 100 ? Math.round(value) : Math.round(value * 100) / 100;
}

/** Bare Bun: POST bodies of `bodyBytes` from `concurrency` loops for `seconds`; MB/s. */
async function rawHttp(url: string, bodyBytes: number, concurrency: number, seconds: number) {
  const body = new Uint8Array(bodyBytes).fill(1);
  const deadline = performance.now() + seconds * 1000;
  let bytes = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await (await fetch(url, { method: "POST", body })).arrayBuffer();
        bytes += bodyBytes;
      }
    }),
  );
  return bytes / ((performance.now() - started) / 1000) / MB;
}

/** Bare Bun: `count` binary WebSocket frames of `size` bytes, server to this process; MB/s. */
async function rawWebSocket(url: string, size: number, count: number) {
  const socket = new WebSocket(url.replace("http", "ws"));
  socket.binaryType = "arraybuffer";
  await new Promise((resolve) => socket.addEventListener("open", resolve, { once: true }));
  const started = performance.now();
  let received = 0;
  await new Promise<void>((resolve) => {
    socket.addEventListener("message", () => {
      if (++received === count) resolve();
    });
    socket.send(JSON.stringify({ count, size }));
  });
  const seconds = (performance.now() - started) / 1000;
  socket.close();
  return (count * size) / seconds / MB;
}

function loadAverage(): string {
  return loadavg()
    .map((load) => load.toFixed(2))
    .join(" ");
}

async function main(): Promise<void> {
  log(`load average (1, 5, 15 min) at the start: ${loadAverage()} on ${availableParallelism()} CPUs`);
  const dataDir = mkdtempSync(join(tmpdir(), "sluice-bench-gateway-"));
  if (!PHASES.has("reference")) return await phasesOnly(dataDir);
  const raw = await startChild(["raw"]);
  const rawPost = await withCpu(raw, async () => ({
    mbPerS: await rawHttp(raw.url, BENCH_PRODUCER.maxRequestBytes, PARTITIONS, 3),
  }));
  const rawHttpMbS = rawPost.mbPerS;
  log(
    `reference: bare Bun.serve POST of ${BENCH_PRODUCER.maxRequestBytes} B bodies, ${PARTITIONS} loops: ${round(rawHttpMbS)} MB/s; ${rawPost.cpu}`,
  );
  const rawWs = await withCpu(raw, async () => ({ mbPerS: await rawWebSocket(raw.url, 256 * 1024, 8_000) }));
  const rawWsMbS = rawWs.mbPerS;
  log(
    `reference: bare Bun WebSocket, 256 KiB binary frames to this process: ${round(rawWsMbS)} MB/s; ${rawWs.cpu}`,
  );
  await raw.stop();

  const node = await startChild(["sluice", dataDir]);
  try {
    const target = await createTopics(node);

    const p100 = await withCpu(node, () => producePhase(target, "bench-100b", RECORDS_100B, 100));
    log(
      `produce 100 B, sendMany(): ${p100.records} records in ${round(p100.seconds)} s: ${round(p100.recordsPerS)} records/s, ${round(p100.mbPerS)} MB/s; ${p100.cpu}`,
    );
    const p1k = await withCpu(node, () => producePhase(target, "bench-1k", RECORDS_1K, 1024));
    log(
      `produce 1 KiB, sendMany(): ${p1k.records} records in ${round(p1k.seconds)} s: ${round(p1k.recordsPerS)} records/s, ${round(p1k.mbPerS)} MB/s; ${p1k.cpu}`,
    );
    const s100 = await withCpu(node, () =>
      producePhase(target, "bench-send", RECORDS_100B, 100, { api: "send" }),
    );
    log(
      `produce 100 B, send() per record (not in RESULT): ${round(s100.recordsPerS)} records/s; ${s100.cpu}`,
    );
    const c100 = await withCpu(node, () => consumePhase(target, "bench-100b", PARTITIONS, p100.records));
    log(
      `consume 100 B: ${c100.records} records in ${round(c100.seconds)} s: ${round(c100.recordsPerS)} records/s, ${round(c100.mbPerS)} MB/s; ${c100.cpu}`,
    );
    const c1k = await withCpu(node, () => consumePhase(target, "bench-1k", PARTITIONS, p1k.records));
    log(
      `consume 1 KiB: ${c1k.records} records in ${round(c1k.seconds)} s: ${round(c1k.recordsPerS)} records/s, ${round(c1k.mbPerS)} MB/s; ${c1k.cpu}`,
    );
    const e2e = await withCpu(node, () => latencyPhase(target, "bench-e2e", E2E_RATE, E2E_S));
    log(
      `e2e at ${E2E_RATE}/s for ${E2E_S} s: ${e2e.received} received, p50 ${round(e2e.p50Ms)} ms, p99 ${round(e2e.p99Ms)} ms, max ${round(e2e.maxMs)} ms; ${e2e.cpu}`,
    );
    log(
      `ratios: produce 1 KiB ${round(p1k.mbPerS / rawHttpMbS)} of bare HTTP POST; consume 1 KiB ${round(c1k.mbPerS / rawWsMbS)} of bare WebSocket`,
    );
    log(`load average at the end: ${loadAverage()}`);
    log(
      `RESULT produce_records_s=${Math.round(p100.recordsPerS)} produce_mb_s=${round(p1k.mbPerS)} ` +
        `consume_records_s=${Math.round(c100.recordsPerS)} consume_mb_s=${round(c1k.mbPerS)} ` +
        `e2e_p50_ms=${round(e2e.p50Ms)} e2e_p99_ms=${round(e2e.p99Ms)}`,
    );
  } finally {
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Some phases alone, for profiling: no references, no RESULT line. */
async function phasesOnly(dataDir: string): Promise<void> {
  const node = await startChild(["sluice", dataDir]);
  try {
    const target = await createTopics(node);
    if (PHASES.has("produce")) {
      for (const [topic, count, size] of [
        ["bench-100b", RECORDS_100B, 100],
        ["bench-1k", RECORDS_1K, 1024],
      ] as const) {
        const p = await withCpu(node, () => producePhase(target, topic, count, size));
        log(
          `produce ${size} B: ${round(p.recordsPerS)} records/s, ${round(p.mbPerS)} MB/s in ${round(p.seconds)} s; ${p.cpu}`,
        );
        if (PHASES.has("consume")) {
          const c = await withCpu(node, () => consumePhase(target, topic, PARTITIONS, p.records));
          log(
            `consume ${size} B: ${round(c.recordsPerS)} records/s, ${round(c.mbPerS)} MB/s in ${round(c.seconds)} s; ${c.cpu}`,
          );
        }
      }
    }
    if (PHASES.has("e2e")) {
      const e2e = await withCpu(node, () => latencyPhase(target, "bench-e2e", E2E_RATE, E2E_S));
      log(
        `e2e: ${e2e.received} received, p50 ${round(e2e.p50Ms)} ms, p99 ${round(e2e.p99Ms)} ms, max ${round(e2e.maxMs)} ms; ${e2e.cpu}`,
      );
    }
  } finally {
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
