// The gateway benchmark's phases, on the client library: their one home, used by `sluice bench` (which
// runs in the compiled binary, where scripts/bench/ is not there to run) and by scripts/bench/gateway.ts,
// so the two measure the same thing and their figures compare.
//   produce  SluiceProducer over HTTP (sendMany, batched raw produce), records of `valueBytes` as fast as
//            it takes them, timed until every record is acknowledged
//   consume  SluiceConsumer over the WebSocket, binary frames decoded (CRC checked), from the start
//   e2e      records sent at a fixed rate with linger.ms 0, read from the latest offset; latency is
//            send() call to the record handed out (one clock: the same process)
import { SluiceConsumer } from "../client/consumer.ts";
import { SluiceProducer } from "../client/producer.ts";

export const BENCH_PRODUCER = {
  batchSizeBytes: 256 * 1024,
  lingerMs: 5,
  maxRequestBytes: 4 * 1024 * 1024,
  bufferMemoryBytes: 64 * 1024 * 1024,
  acks: 1,
} as const;
const MB = 1e6;
/** Records handed to the producer between turns of the event loop. */
const CHUNK_RECORDS = 5_000;

export interface BenchTarget {
  baseUrl: string;
  token: string | undefined;
  /** Each phase stops after this long even if its count is not reached. */
  phaseMsMax: number;
}

export interface Throughput {
  records: number;
  seconds: number;
  recordsPerS: number;
  mbPerS: number;
}

export interface Latency {
  sent: number;
  received: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

function auth(target: BenchTarget): { baseUrl: string; token?: string } {
  return target.token === undefined
    ? { baseUrl: target.baseUrl }
    : { baseUrl: target.baseUrl, token: target.token };
}

/** How the produce phase hands records over: sendMany() a chunk at a time, or send() per record. */
export type ProduceApi = "send" | "sendMany";

export interface ProduceOptions {
  /** sendMany (the default, the fast path) or send (one promise per record, for comparison). */
  api?: ProduceApi;
  onProgress?: (sent: number) => void;
}

/**
 * Sends `count` records of `valueBytes` as fast as the producer takes them, in chunks of 5,000 given to
 * sendMany() (one promise per chunk), or to send() one by one (one promise per record); records/s and
 * value MB/s, timed until every record is acknowledged (acks 1).
 */
export async function producePhase(
  target: BenchTarget,
  topic: string,
  count: number,
  valueBytes: number,
  { api = "sendMany", onProgress = () => undefined }: ProduceOptions = {},
): Promise<Throughput> {
  const producer = new SluiceProducer({ ...auth(target), ...BENCH_PRODUCER });
  const value = new Uint8Array(valueBytes).map((_, i) => (i * 31) & 0xff);
  const inFlight: Array<Promise<unknown>> = [];
  // Chunks unanswered at most: fewer than fill the producer's buffer, so a send never has to wait
  // for room (waiting costs a promise per record; this measures the producer, not its queueing).
  const chunksMax = Math.max(
    1,
    Math.floor((0.8 * BENCH_PRODUCER.bufferMemoryBytes) / (CHUNK_RECORDS * (valueBytes + 21))),
  );
  const started = performance.now();
  const deadline = started + target.phaseMsMax;
  let sent = 0;
  try {
    while (sent < count && performance.now() < deadline) {
      const size = Math.min(CHUNK_RECORDS, count - sent);
      if (api === "sendMany") {
        const records = new Array<{ value: Uint8Array }>(size);
        for (let i = 0; i < size; i++) records[i] = { value };
        inFlight.push(producer.sendMany(topic, records));
      } else {
        let last: Promise<unknown> = Promise.resolve();
        for (let i = 0; i < size; i++) last = producer.send(topic, { value });
        inFlight.push(last);
      }
      sent += size;
      onProgress(sent);
      // A turn of the event loop so requests go out and answers come in; the producer's buffer (sends
      // wait for room) bounds what is held, and so does keeping at most chunksMax chunks unanswered.
      if (inFlight.length > chunksMax) await inFlight.shift();
      else await new Promise((resolve) => setImmediate(resolve));
    }
    await producer.flush();
    await Promise.all(inFlight);
    const seconds = (performance.now() - started) / 1000;
    return {
      records: sent,
      seconds,
      recordsPerS: sent / seconds,
      mbPerS: (sent * valueBytes) / seconds / MB,
    };
  } finally {
    await producer.close().catch(() => undefined);
  }
}

/** Reads `count` records of the topic's partitions from the start over one WebSocket (binary frames). */
export async function consumePhase(
  target: BenchTarget,
  topic: string,
  partitions: number,
  count: number,
  onProgress: (read: number) => void = () => undefined,
): Promise<Throughput> {
  const consumer = new SluiceConsumer({
    ...auth(target),
    maxBufferedRecordsPerPartition: 500_000,
    maxBufferedBytesPerPartition: 8 * 1024 * 1024,
  });
  const started = performance.now();
  let records = 0;
  let valueBytes = 0;
  try {
    await consumer.assign(
      Array.from({ length: partitions }, (_, partition) => ({ topic, partition, from: "earliest" as const })),
    );
    const deadline = started + target.phaseMsMax;
    if (count > 0) {
      for await (const batch of consumer.batches()) {
        records += batch.length;
        for (const record of batch) valueBytes += record.value?.length ?? 0;
        onProgress(records);
        if (records >= count || performance.now() > deadline) break;
      }
    }
    const seconds = (performance.now() - started) / 1000;
    return { records, seconds, recordsPerS: records / seconds, mbPerS: valueBytes / seconds / MB };
  } finally {
    await consumer.close();
  }
}

/** `ratePerS` records/s for `seconds` to partition 0; latency from send() to the record handed out. */
export async function latencyPhase(
  target: BenchTarget,
  topic: string,
  ratePerS: number,
  seconds: number,
): Promise<Latency> {
  const consumer = new SluiceConsumer(auth(target));
  const producer = new SluiceProducer({ ...auth(target), lingerMs: 0, acks: 1 });
  const total = Math.round(ratePerS * seconds);
  const latencies: number[] = [];
  try {
    await consumer.assign([{ topic, partition: 0, from: "latest" }]);
    const received = (async () => {
      if (total === 0) return;
      for await (const record of consumer) {
        const value = record.value!;
        const sentAt = new DataView(value.buffer, value.byteOffset, 8).getFloat64(0);
        latencies.push(performance.now() - sentAt);
        if (latencies.length >= total) return;
      }
    })();
    const started = performance.now();
    let sent = 0;
    while (sent < total) {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * ratePerS));
      for (; sent < due; sent++) {
        const value = new Uint8Array(100);
        new DataView(value.buffer).setFloat64(0, performance.now());
        void producer.send(topic, { value, partition: 0 });
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await producer.flush();
    // Records still on their way get a bounded while; the ones that never come show as received < sent.
    await Promise.race([received, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    const sorted = latencies.toSorted((a, b) => a - b);
    return {
      sent,
      received: sorted.length,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      maxMs: sorted.at(-1) ?? Number.NaN,
    };
  } finally {
    await producer.close().catch(() => undefined);
    await consumer.close();
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
