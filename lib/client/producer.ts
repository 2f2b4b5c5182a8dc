// A Kafka-style producer over HTTP: records gather per partition into RecordBatch v2 batches built
// here (batch.size, linger.ms, compression), and each partition's ready batches go in one raw produce
// request (POST /topics/{t}/partitions/{p}/batches) at a time, so a partition's records land in the
// order they were sent. Keys go to Kafka's murmur2 partition, keyless records to a sticky one.
// Idempotence (enable.idempotence): a producer id from POST /producers and a sequence per partition,
// so a retried request is answered with its first attempt's offsets instead of appended twice.
import { ERRORS, type ErrorName } from "../errors.ts";
import type { Acks } from "../gateway/append-batches.ts";
import { partitionForKey, StickyPartitioner } from "../gateway/partitioner.ts";
import type { CodecName } from "../log/compression.ts";
import { incrementSequence } from "../log/producer-state.ts";
import { RECORDS_OFFSET } from "../log/record-batch.ts";
import { SluiceAdmin } from "./admin.ts";
import { HttpClient, type HttpClientOptions, SluiceClientError } from "./http.ts";
import { type Arena, ArenaPool } from "./producer-arena.ts";
import { type EncodedHeader, ProducerBatch } from "./producer-batch.ts";
import {
  headersOf,
  type ProducerRecord,
  payloadBytes,
  type RecordMetadata,
  recordSizeBound,
} from "./producer-record.ts";

export interface ProducerOptions extends HttpClientOptions {
  /** Kafka's batch.size: a partition's batch is sent once its records reach this many bytes. */
  batchSizeBytes?: number;
  /** Kafka's linger.ms: how long a batch that is not full waits for more records. */
  lingerMs?: number;
  /** Per batch: none, gzip (Bun's zlib on the server, fflate in browsers), snappy, lz4; zstd in Bun. */
  compression?: CodecName;
  /** 0: nothing is answered (offsets are -1); 1 and all: after the append. Kafka's default, all. */
  acks?: Acks;
  /** Answer only once the append is fsynced. */
  durable?: boolean;
  /** Kafka's enable.idempotence: retries are deduplicated by the server. */
  idempotent?: boolean;
  /** Attempts after the first for a request that failed in a way worth retrying. */
  retries?: number;
  /** Wait before the first retry; doubles after each. */
  retryBackoffMs?: number;
  /** Kafka's max.request.size: the bytes of batches one request carries at most (one batch at least). */
  maxRequestBytes?: number;
  /** Kafka's buffer.memory: past this many bytes of unsent records, send() waits for room. */
  bufferMemoryBytes?: number;
}

/** Kafka's defaults, but for retries (Kafka retries until delivery.timeout.ms). */
export const PRODUCER_DEFAULTS = {
  batchSizeBytes: 16_384,
  lingerMs: 5,
  compression: "none",
  acks: "all",
  durable: false,
  idempotent: false,
  retries: 5,
  retryBackoffMs: 100,
  maxRequestBytes: 1_048_576,
  bufferMemoryBytes: 32 * 1024 * 1024,
} as const satisfies Required<Omit<ProducerOptions, keyof HttpClientOptions>>;

const RETRY_BACKOFF_MS_MAX = 1_000;

/** One partition's batches: the one filling, those ready, and whether a request is out. */
interface PartitionQueue {
  topic: string;
  partition: number;
  open: ProducerBatch | undefined;
  /** Keyless records in `open`: sealing it moves the sticky partition on. */
  openKeyless: number;
  ready: ProducerBatch[];
  inFlight: boolean;
  lingerTimer: ReturnType<typeof setTimeout> | undefined;
  /** Idempotence: the sequence of the next batch's first record. */
  nextSequence: number;
  /** Bytes of the last batch sealed: what the next one is expected to need. */
  lastBatchBytes: number;
  /** Where the partition's batches are written, back to back. */
  arena: Arena | undefined;
  /** Size of the next arena: small for a quiet partition, doubling up to a full request. */
  nextArenaBytes: number;
}

/** A partition's first arena: a quiet partition holds little memory. */
const FIRST_ARENA_BYTES = 64 * 1024;

/** A record turned into bytes, before it has a partition. */
interface PreparedRecord {
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: EncodedHeader[] | undefined;
  timestamp: number;
  partition: number | undefined;
  sizeBytes: number;
}

export class SluiceProducer {
  readonly admin: SluiceAdmin;
  readonly options: Required<Omit<ProducerOptions, keyof HttpClientOptions>>;
  readonly #sticky = new StickyPartitioner();
  readonly #partitionCounts = new Map<string, number>();
  readonly #loadingCounts = new Map<string, Promise<number>>();
  /** Per topic, its partitions' queues by partition number. */
  readonly #queues = new Map<string, PartitionQueue[]>();
  readonly #requests = new Set<Promise<void>>();
  /** send() calls waiting for a partition count or for buffer room, in order; settled once appended. */
  readonly #admitting = new Set<Promise<unknown>>();
  #roomWaiters: Array<{ sizeBytes: number; resolve: () => void }> = [];
  /** The first waiter in #roomWaiters (a head index: shift() on a long queue costs its length). */
  #roomHead = 0;
  #bufferedBytes = 0;
  #producerId: Promise<{ producerId: number; producerEpoch: number }> | undefined;
  #bumpEpoch = false;
  #closed = false;
  readonly #arenas: ArenaPool;

  constructor(options: ProducerOptions = {}) {
    const http = new HttpClient(options);
    this.admin = new SluiceAdmin(http);
    const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
    this.options = { ...PRODUCER_DEFAULTS, ...defined } as SluiceProducer["options"];
    // Full arenas hold one request; as Kafka's BufferPool, up to buffer.memory of them are kept.
    const arenaBytes = Math.max(this.options.maxRequestBytes, RECORDS_OFFSET + this.options.batchSizeBytes);
    this.#arenas = new ArenaPool(
      arenaBytes,
      Math.max(1, Math.floor(this.options.bufferMemoryBytes / arenaBytes)),
    );
    if (this.options.idempotent && this.options.acks !== "all" && this.options.acks !== 1) {
      throw new TypeError("an idempotent producer needs acks 1 or all: acks 0 cannot tell a retry succeeded");
    }
  }

  /** Bytes of records accepted by send() and not yet answered. */
  get bufferedBytes(): number {
    return this.#bufferedBytes;
  }

  /**
   * Queues one record; resolves with its partition and offset once its batch is answered. Records of
   * one partition are appended in the order of their send() calls.
   */
  send(topic: string, record: ProducerRecord): Promise<RecordMetadata> {
    if (this.#closed) return Promise.reject(closedError());
    let prepared: PreparedRecord;
    try {
      prepared = prepare(record);
    } catch (error) {
      return Promise.reject(error);
    }
    const count = this.#partitionCounts.get(topic);
    if (count !== undefined && this.#admitting.size === 0 && !this.#mustWaitForRoom(prepared.sizeBytes)) {
      this.#bufferedBytes += prepared.sizeBytes;
      try {
        return metadataOf(topic, this.#append(topic, count, prepared));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.#admitThen(topic, prepared, (batch) => metadataOf(topic, batch));
  }

  /**
   * Queues many records at once, as if by send() one after the other, and resolves once all are
   * answered with their partitions and offsets in the same order; rejects with the first failure
   * (records before a refused one are still sent). Cheaper than send() per record: one promise
   * for the call instead of one per record.
   */
  async sendMany(topic: string, records: readonly ProducerRecord[]): Promise<RecordMetadata[]> {
    if (this.#closed) throw closedError();
    const batches = new Array<ProducerBatch>(records.length);
    const indexes = new Array<number>(records.length);
    const admissions: Array<Promise<unknown>> = [];
    const count = this.#partitionCounts.get(topic);
    try {
      for (let i = 0; i < records.length; i++) {
        const prepared = prepare(records[i]!);
        if (count !== undefined && this.#admitting.size === 0 && !this.#mustWaitForRoom(prepared.sizeBytes)) {
          this.#bufferedBytes += prepared.sizeBytes;
          const batch = this.#append(topic, count, prepared);
          batches[i] = batch;
          indexes[i] = batch.count - 1;
          continue;
        }
        // No room (or the partition count is unknown yet): this record and the rest wait their turn.
        admissions.push(
          this.#admitThen(topic, prepared, (batch) => {
            batches[i] = batch;
            indexes[i] = batch.count - 1;
          }),
        );
      }
    } catch (error) {
      // The records before the refused one go on; their admissions' own failures are not this one's.
      for (const admission of admissions) admission.catch(() => {});
      throw error;
    }
    await Promise.all(admissions);
    const outcomes = new Map<ProducerBatch, number>();
    for (const batch of batches) {
      if (!outcomes.has(batch)) outcomes.set(batch, (await batch.done).baseOffset);
    }
    return batches.map((batch, i) => {
      const baseOffset = outcomes.get(batch)!;
      return { topic, partition: batch.partition, offset: baseOffset < 0 ? -1 : baseOffset + indexes[i]! };
    });
  }

  /** Sends every batch now, without waiting for linger.ms, and resolves when all are answered. */
  async flush(): Promise<void> {
    for (;;) {
      await Promise.allSettled([...this.#admitting]);
      for (const queues of this.#queues.values()) {
        for (const queue of queues) if (queue?.open !== undefined) this.#seal(queue);
      }
      if (this.#requests.size === 0 && this.#admitting.size === 0) return;
      await Promise.allSettled([...this.#requests]);
    }
  }

  /** Flushes, then refuses further sends. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
  }

  /**
   * The slow path of a send: waits for the topic's partition count or for buffer room, then appends
   * and hands the batch to `then`; later sends queue behind it, in order.
   */
  #admitThen<T>(
    topic: string,
    prepared: PreparedRecord,
    then: (batch: ProducerBatch) => T,
  ): Promise<Awaited<T>> {
    const admission = this.#admit(topic, prepared.sizeBytes).then((partitionCount) => ({
      value: then(this.#append(topic, partitionCount, prepared)),
    }));
    this.#admitting.add(admission);
    const forget = () => this.#admitting.delete(admission);
    admission.then(forget, forget);
    return admission.then(({ value }) => value) as Promise<Awaited<T>>;
  }

  /** The partition count of `topic`, and room in the buffer, before a record may be appended. */
  async #admit(topic: string, sizeBytes: number): Promise<number> {
    const count = await this.#partitionCount(topic);
    if (this.#mustWaitForRoom(sizeBytes)) {
      // FIFO: woken in the order they came, each only once its bytes fit (they are counted at wake-up).
      await new Promise<void>((resolve) => this.#roomWaiters.push({ sizeBytes, resolve }));
    } else {
      this.#bufferedBytes += sizeBytes;
    }
    return count;
  }

  #mustWaitForRoom(sizeBytes: number): boolean {
    return this.#roomHead < this.#roomWaiters.length || !this.#hasRoom(sizeBytes);
  }

  /** An empty buffer takes any record, however big, so one larger than the whole buffer still goes. */
  #hasRoom(sizeBytes: number): boolean {
    return this.#bufferedBytes === 0 || this.#bufferedBytes + sizeBytes <= this.options.bufferMemoryBytes;
  }

  #partitionCount(topic: string): Promise<number> {
    const known = this.#partitionCounts.get(topic);
    if (known !== undefined) return Promise.resolve(known);
    let loading = this.#loadingCounts.get(topic);
    if (loading === undefined) {
      loading = this.admin.describeTopic(topic).then(
        (description) => {
          this.#partitionCounts.set(topic, description.partitions.length);
          this.#loadingCounts.delete(topic);
          return description.partitions.length;
        },
        (error: unknown) => {
          this.#loadingCounts.delete(topic);
          throw error;
        },
      );
      this.#loadingCounts.set(topic, loading);
    }
    return loading;
  }

  /** Encodes the record into its partition's open batch; returns that batch (the record is its last). */
  #append(topic: string, partitionCount: number, record: PreparedRecord): ProducerBatch {
    const explicitPartition = record.partition;
    const partition = this.#partitionFor(topic, partitionCount, explicitPartition, record.key);
    if (partition === undefined) {
      this.#bufferedBytes -= record.sizeBytes;
      this.#wakeRoomWaiters();
      throw new SluiceClientError({
        status: 0,
        code: ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code,
        name: "UNKNOWN_TOPIC_OR_PARTITION",
        message: `topic ${topic} has partitions 0 to ${partitionCount - 1}, not ${explicitPartition}`,
        field: "partition",
      });
    }
    const queue = this.#queueFor(topic, partition);
    const { sizeBytes } = record;
    if (queue.open !== undefined && queue.open.sizeBytes + sizeBytes > this.options.batchSizeBytes) {
      this.#seal(queue);
    }
    if (queue.open === undefined) this.#openBatch(queue, sizeBytes);
    const batch = queue.open!;
    batch.add(record.key, record.value, record.headers, record.timestamp, sizeBytes);
    if (record.key === null && explicitPartition === undefined) queue.openKeyless++;
    if (batch.sizeBytes >= this.options.batchSizeBytes) this.#seal(queue);
    return batch;
  }

  #partitionFor(
    topic: string,
    partitionCount: number,
    explicit: number | undefined,
    key: Uint8Array | null,
  ): number | undefined {
    if (explicit !== undefined) {
      return Number.isInteger(explicit) && explicit >= 0 && explicit < partitionCount ? explicit : undefined;
    }
    if (key !== null) return partitionForKey(key, partitionCount);
    return this.#sticky.partition(topic, partitionCount);
  }

  #queueFor(topic: string, partition: number): PartitionQueue {
    let queues = this.#queues.get(topic);
    if (queues === undefined) {
      queues = [];
      this.#queues.set(topic, queues);
    }
    let queue = queues[partition];
    if (queue === undefined) {
      queue = {
        topic,
        partition,
        open: undefined,
        openKeyless: 0,
        ready: [],
        inFlight: false,
        lingerTimer: undefined,
        nextSequence: 0,
        lastBatchBytes: 0,
        arena: undefined,
        nextArenaBytes: FIRST_ARENA_BYTES,
      };
      queues[partition] = queue;
    }
    return queue;
  }

  #openBatch(queue: PartitionQueue, firstRecordBytes: number): void {
    // Room for what the partition's batches have held lately, so the batch seldom has to move.
    const expectedBytes =
      RECORDS_OFFSET +
      Math.max(firstRecordBytes, Math.min(this.options.batchSizeBytes, queue.lastBatchBytes));
    if (queue.arena === undefined || queue.arena.free < expectedBytes) this.#newArena(queue, expectedBytes);
    queue.open = new ProducerBatch(queue.partition, queue.arena!, (minBytes) =>
      this.#newArena(queue, minBytes),
    );
    queue.openKeyless = 0;
    const seal = () => {
      queue.lingerTimer = undefined;
      if (queue.open !== undefined) this.#seal(queue);
    };
    // linger.ms 0 still gathers the records sent in the same turn of the event loop.
    if (this.options.lingerMs <= 0) queueMicrotask(seal);
    else queue.lingerTimer = setTimeout(seal, this.options.lingerMs);
  }

  #seal(queue: PartitionQueue): void {
    const batch = queue.open;
    if (batch === undefined) return;
    queue.open = undefined;
    batch.seal();
    queue.lastBatchBytes = batch.encodedBytes;
    if (queue.lingerTimer !== undefined) clearTimeout(queue.lingerTimer);
    queue.lingerTimer = undefined;
    if (queue.openKeyless > 0) {
      // KIP-480: keyless records move to another partition once the sticky partition's batch is done.
      const count = this.#partitionCounts.get(queue.topic) ?? 1;
      if (this.#sticky.partition(queue.topic, count) === queue.partition)
        this.#sticky.batchDone(queue.topic, count);
    }
    queue.ready.push(batch);
    this.#dispatch(queue);
  }

  /** The partition's next arena, with at least `minBytes`; the one before takes no more batches. */
  #newArena(queue: PartitionQueue, minBytes: number): Arena {
    queue.arena?.retire();
    queue.arena = this.#arenas.take(minBytes, queue.nextArenaBytes);
    queue.nextArenaBytes = Math.min(this.#arenas.arenaBytes, queue.nextArenaBytes * 2);
    return queue.arena;
  }

  /**
   * Starts the partition's next request unless one is out (one at a time keeps the order): the
   * ready batches up to maxRequestBytes that lie side by side (uncompressed), so the body is one view.
   */
  #dispatch(queue: PartitionQueue): void {
    if (queue.inFlight || queue.ready.length === 0) return;
    const { ready } = queue;
    const compressed = this.options.compression !== "none";
    let take = 1;
    let bytes = ready[0]!.encodedBytes;
    while (
      take < ready.length &&
      bytes + ready[take]!.encodedBytes <= this.options.maxRequestBytes &&
      (compressed || ready[take]!.follows(ready[take - 1]!))
    ) {
      bytes += ready[take]!.encodedBytes;
      take++;
    }
    const batches = ready.splice(0, take);
    queue.inFlight = true;
    const request = this.#sendRequest(queue, batches).then((succeeded) => {
      this.#requests.delete(request);
      queue.inFlight = false;
      for (const batch of batches) {
        this.#bufferedBytes -= batch.sizeBytes;
        batch.release(succeeded);
      }
      this.#wakeRoomWaiters();
      this.#dispatch(queue);
    });
    this.#requests.add(request);
  }

  /** Sends the batches and settles them; true when the request succeeded (nothing holds the body). */
  async #sendRequest(queue: PartitionQueue, batches: ProducerBatch[]): Promise<boolean> {
    let sequenceAfter = queue.nextSequence;
    try {
      const idempotence = this.options.idempotent ? await this.#producerIdentity() : undefined;
      if (idempotence?.fresh) {
        for (const queues of this.#queues.values())
          for (const q of queues) if (q !== undefined) q.nextSequence = 0;
      }
      sequenceAfter = queue.nextSequence;
      const encoded = batches.map((batch) => {
        const { compression } = this.options;
        if (idempotence === undefined) return batch.finish({ compression });
        const { producerId, producerEpoch } = idempotence;
        const bytes = batch.finish({ compression, producerId, producerEpoch, baseSequence: sequenceAfter });
        sequenceAfter = incrementSequence(sequenceAfter, batch.count);
        return bytes;
      });
      const body = concat(encoded);
      const result = await this.#produceWithRetries(queue, body);
      queue.nextSequence = sequenceAfter;
      batches.forEach((batch, i) => {
        batch.resolve({ baseOffset: result?.batches[i]?.baseOffset ?? -1 });
      });
      return true;
    } catch (error) {
      // Retries ran out on an error after which the append may or may not have happened: the next
      // request cannot know its sequence, so the producer takes a new epoch (Kafka, KIP-360).
      if (this.options.idempotent && isRetriable(error)) this.#bumpEpoch = true;
      for (const batch of batches) batch.reject(error);
      return false;
    }
  }

  async #produceWithRetries(queue: PartitionQueue, body: Uint8Array) {
    const { acks, durable, retries, retryBackoffMs } = this.options;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.admin.produceBatches(queue.topic, queue.partition, body, { acks, durable });
      } catch (error) {
        if (attempt >= retries || !isRetriable(error)) throw error;
        const backoffMs = Math.min(retryBackoffMs * 2 ** attempt, RETRY_BACKOFF_MS_MAX);
        await new Promise((resolve) => setTimeout(resolve, backoffMs));
      }
    }
  }

  /** The producer id and epoch; `fresh` when the epoch is new, so sequences start again at 0. */
  async #producerIdentity(): Promise<{ producerId: number; producerEpoch: number; fresh: boolean }> {
    let fresh = false;
    if (this.#producerId === undefined || this.#bumpEpoch) {
      const previous =
        this.#producerId === undefined ? undefined : await this.#producerId.catch(() => undefined);
      this.#bumpEpoch = false;
      this.#producerId = this.admin.initProducer(previous);
      this.#producerId.catch(() => {
        this.#producerId = undefined;
      });
      fresh = true;
    }
    return { ...(await this.#producerId), fresh };
  }

  #wakeRoomWaiters(): void {
    while (this.#roomHead < this.#roomWaiters.length) {
      const waiter = this.#roomWaiters[this.#roomHead]!;
      if (!this.#hasRoom(waiter.sizeBytes)) return;
      this.#roomHead++;
      this.#bufferedBytes += waiter.sizeBytes;
      waiter.resolve();
    }
    this.#roomWaiters = [];
    this.#roomHead = 0;
  }
}

/** Worth retrying: no answer came, or Sluice said the error is retriable (lib/errors.ts). */
function isRetriable(error: unknown): boolean {
  if (!(error instanceof SluiceClientError)) return false;
  if (error.name === "TIMEOUT" || error.name === "NETWORK_ERROR") return true;
  return ERRORS[error.name as ErrorName]?.retriable === true;
}

/** The record as bytes, its timestamp fixed now (as Kafka's producer stamps it at send()). */
function prepare(record: ProducerRecord): PreparedRecord {
  const key = payloadBytes(record.key);
  const value = payloadBytes(record.value);
  const headers = record.headers === undefined ? undefined : headersOf(record.headers);
  return {
    key,
    value,
    headers,
    timestamp: record.timestamp ?? Date.now(),
    partition: record.partition,
    sizeBytes: recordSizeBound(key, value, headers),
  };
}

/** The record's place once its batch is answered: the batch's base offset plus its index. */
function metadataOf(topic: string, batch: ProducerBatch): Promise<RecordMetadata> {
  const index = batch.count - 1;
  const { partition } = batch;
  return batch.done.then(({ baseOffset }) => ({
    topic,
    partition,
    offset: baseOffset < 0 ? -1 : baseOffset + index,
  }));
}

function closedError(): SluiceClientError {
  return new SluiceClientError({ status: 0, code: 0, name: "CLOSED", message: "the producer is closed" });
}

/** The request body: one view when the batches lie side by side (as #dispatch picks them), else a copy. */
function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  const span = last.byteOffset + last.length - first.byteOffset;
  let adjacent = true;
  for (let i = 1; i < parts.length && adjacent; i++) {
    const before = parts[i - 1]!;
    adjacent =
      parts[i]!.buffer === first.buffer && parts[i]!.byteOffset === before.byteOffset + before.length;
  }
  if (adjacent) return new Uint8Array(first.buffer, first.byteOffset, span);
  let total = 0;
  for (const part of parts) total += part.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
