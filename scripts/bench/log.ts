// Benchmark of the log engine against the machine, in one run:
//   raw       the same batch bytes written with plain sequential writeSync (the physical reference)
//   append    PartitionLog.append of 1 KiB records in 64 KiB batches, as a producer sends them
//             (validation, CRC-32C, offset assignment, index upkeep, write)
//   100 B     records appended per second with encoding included, 1,000 records per batch
//   read      the appended log read back from the start through PartitionLog.read, 1 MiB at a time
// After one warm-up, every measurement runs RUNS times on fresh files; medians are reported. Data goes to a temp dir
// on the same file system as /tmp and is removed at the end.
//
// Usage: bun scripts/bench/log.ts            (env: RUNS=5 TOTAL_MB=256)
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { systemClock } from "../../lib/clock.ts";
import { PartitionLog } from "../../lib/log/partition-log.ts";
import { encodeBatch, type RecordInput } from "../../lib/log/record-batch.ts";
import { FileStorage } from "../../lib/storage/file-storage.ts";
import { parseTopicConfig, toLogConfig } from "../../lib/topics/topic-config.ts";

const RUNS = Number(process.env.RUNS ?? 5);
const TOTAL_BYTES = Number(process.env.TOTAL_MB ?? 256) * 1024 * 1024;
const BATCH_BYTES = 64 * 1024;
const MB = 1e6;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A seeded xorshift PRNG so every run writes the same bytes. */
function prng(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

function makeRecords(count: number, valueBytes: number, random: () => number): RecordInput[] {
  const records: RecordInput[] = [];
  for (let i = 0; i < count; i++) {
    const value = new Uint8Array(valueBytes);
    for (let j = 0; j < valueBytes; j += 4) value[j] = (random() * 256) | 0;
    records.push({ key: new TextEncoder().encode(`key-${i % 97}`), value });
  }
  return records;
}

function openLog(dir: string): PartitionLog {
  const config = toLogConfig(parseTopicConfig({}));
  return PartitionLog.open({
    storage: new FileStorage(),
    dir,
    config,
    clock: systemClock,
    cleanShutdown: true,
  }).log;
}

function timeSeconds(work: () => void): number {
  const start = performance.now();
  work();
  return (performance.now() - start) / 1000;
}

async function timeSecondsAsync(work: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await work();
  return (performance.now() - start) / 1000;
}

const root = mkdtempSync(join(tmpdir(), "sluice-bench-log-"));
try {
  const random = prng(42);
  // 1 KiB records, as many as fit a 64 KiB batch.
  const kibRecordsPerBatch = Math.floor(BATCH_BYTES / (1024 + 20));
  const templateBatches = Array.from({ length: 16 }, () =>
    encodeBatch(makeRecords(kibRecordsPerBatch, 1024, random)),
  );
  const batchCount = Math.ceil(TOTAL_BYTES / templateBatches[0]!.length);
  // One buffer per batch, as request bodies would be; raw writes and appends read the same memory.
  const bodies = Array.from({ length: batchCount }, (_, i) =>
    templateBatches[i % templateBatches.length]!.slice(),
  );
  const totalBytes = bodies.reduce((sum, body) => sum + body.length, 0);
  console.log(
    `# ${batchCount} batches of ${kibRecordsPerBatch} x 1 KiB records (${bodies[0]!.length} B each), ${(totalBytes / MB).toFixed(0)} MB per run, 1 warm-up + ${RUNS} runs`,
  );

  const rawMbS: number[] = [];
  const appendMbS: number[] = [];
  const readMbS: number[] = [];
  for (let run = -1; run < RUNS; run++) {
    // Physical reference: the same bytes, sequential writeSync into a fresh file.
    const rawPath = join(root, `raw-${run}.bin`);
    const fd = openSync(rawPath, "w");
    const rawSeconds = timeSeconds(() => {
      for (const body of bodies) writeSync(fd, body);
    });
    fsyncSync(fd);
    closeSync(fd);
    rmSync(rawPath);

    // Log append. Append stamps the base offset in place; a producer's batch carries 0 there.
    for (const body of bodies) new DataView(body.buffer, body.byteOffset).setBigInt64(0, 0n);
    const dir = join(root, `log-${run}`);
    const log = openLog(dir);
    const appendSeconds = await timeSecondsAsync(async () => {
      for (const body of bodies) await log.append(body);
    });

    // Read back everything from offset 0, through one reused buffer as a fetch loop would.
    const readBuffer = new Uint8Array(2 * 1024 * 1024);
    let readBytes = 0;
    const readSeconds = timeSeconds(() => {
      let offset = 0;
      while (offset < log.logEndOffset) {
        const { slice } = log.read(offset, { maxBytes: 1024 * 1024 });
        if (!slice) break;
        readBytes += log.readSliceInto(slice, readBuffer).length;
        offset = slice.lastOffset + 1;
      }
    });
    if (readBytes !== totalBytes) throw new Error(`read back ${readBytes} bytes, appended ${totalBytes}`);
    await log.close();
    rmSync(dir, { recursive: true, force: true });
    if (run < 0) continue; // warm-up: first-touch page-cache and allocation effects land here
    rawMbS.push(totalBytes / rawSeconds / MB);
    appendMbS.push(totalBytes / appendSeconds / MB);
    readMbS.push(totalBytes / readSeconds / MB);
    console.log(
      `# run ${run + 1}: raw ${rawMbS.at(-1)!.toFixed(0)} MB/s, append ${appendMbS.at(-1)!.toFixed(0)} MB/s, read ${readMbS.at(-1)!.toFixed(0)} MB/s`,
    );
  }

  // 100 B records, 1,000 per batch, encoding included.
  const smallRecords = makeRecords(1000, 100, random);
  const smallBatches = Math.max(200, Math.floor(TOTAL_BYTES / 8 / (1000 * 120)));
  const recordsPerSecond: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const dir = join(root, `small-${run}`);
    const log = openLog(dir);
    const seconds = await timeSecondsAsync(async () => {
      for (let i = 0; i < smallBatches; i++) await log.append(encodeBatch(smallRecords));
    });
    recordsPerSecond.push((smallBatches * 1000) / seconds);
    await log.close();
    rmSync(dir, { recursive: true, force: true });
    console.log(`# run ${run + 1}: 100 B records ${recordsPerSecond.at(-1)!.toFixed(0)}/s`);
  }

  const raw = median(rawMbS);
  const append = median(appendMbS);
  console.log(
    `RESULT log_append_mb_s=${append.toFixed(0)} raw_write_mb_s=${raw.toFixed(0)} append_ratio=${(append / raw).toFixed(2)} records_s_100b=${median(recordsPerSecond).toFixed(0)} read_mb_s=${median(readMbS).toFixed(0)}`,
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}
