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
import { encodeBatch, type RecordInput } from "../log/record-batch.ts";
import { SluiceAdmin } from "./admin.ts";
import { HttpClient, type HttpClientOptions, SluiceClientError } from "./http.ts";
import { ProducerBatch } from "./producer-batch.ts";
import {
  type ProducerRecord,
  payloadBytes,
  type RecordMetadata,
  recordSizeBound,
  toRecordInput,
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
}

export class SluiceProducer {
  readonly admin: SluiceAdmin;
  readonly options: Required<Omit<ProducerOptions, keyof HttpClientOptions>>;
  readonly #sticky = new StickyPartitioner();
  readonly #partitionCounts = new Map<string, number>();
  readonly #loadingCounts = new Map<string, Promise<number>>();
  readonly #queues = new Map<string, PartitionQueue>();
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

  constructor(options: ProducerOptions = {}) {
    const http = new HttpClient(options);
    this.admin = new SluiceAdmin(http);
    const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
    this.options = { ...PRODUCER_DEFAULTS, ...defined } as SluiceProducer["options"];
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
    const key = payloadBytes(record.key);
    const input = toRecordInput(record, key);
    input.timestamp ??= Date.now();
    const sizeBytes = recordSizeBound(input);
    const count = this.#partitionCounts.get(topic);
    if (count !== undefined && this.#admitting.size === 0 && !this.#mustWaitForRoom(sizeBytes)) {
      this.#bufferedBytes += sizeBytes;
      return this.#append(topic, count, record.partition, input, sizeBytes);
    }
    // Waits for the topic's partition count or for buffer room; later sends queue behind it, in order.
    const admission = this.#admit(topic, sizeBytes).then((partitionCount) => ({
      delivery: this.#append(topic, partitionCount, record.partition, input, sizeBytes),
    }));
    this.#admitting.add(admission);
    const forget = () => this.#admitting.delete(admission);
    admission.then(forget, forget);
    return admission.then(({ delivery }) => delivery);
  }

  /** Sends every batch now, without waiting for linger.ms, and resolves when all are answered. */
  async flush(): Promise<void> {
    for (;;) {
      await Promise.allSettled([...this.#admitting]);
      for (const queue of this.#queues.values()) if (queue.open !== undefined) this.#seal(queue);
      if (this.#requests.size === 0 && this.#admitting.size === 0) return;
      await Promise.allSettled([...this.#requests]);
    }
  }

  /** Flushes, then refuses further sends. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
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

  #append(
    topic: string,
    partitionCount: number,
    explicitPartition: number | undefined,
    input: RecordInput,
    sizeBytes: number,
  ): Promise<RecordMetadata> {
    const partition = this.#partitionFor(topic, partitionCount, explicitPartition, input.key ?? null);
    if (partition === undefined) {
      this.#bufferedBytes -= sizeBytes;
      this.#wakeRoomWaiters();
      return Promise.reject(
        new SluiceClientError({
          status: 0,
          code: ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code,
          name: "UNKNOWN_TOPIC_OR_PARTITION",
          message: `topic ${topic} has partitions 0 to ${partitionCount - 1}, not ${explicitPartition}`,
          field: "partition",
        }),
      );
    }
    const queue = this.#queueFor(topic, partition);
    if (queue.open !== undefined && queue.open.sizeBytes + sizeBytes > this.options.batchSizeBytes) {
      this.#seal(queue);
    }
    if (queue.open === undefined) this.#openBatch(queue);
    const batch = queue.open!;
    const index = batch.add(input, sizeBytes);
    if (input.key === null && explicitPartition === undefined) queue.openKeyless++;
    if (batch.sizeBytes >= this.options.batchSizeBytes) this.#seal(queue);
    return batch.done.then(({ baseOffset }) => ({
      topic,
      partition,
      offset: baseOffset < 0 ? -1 : baseOffset + index,
    }));
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
    const id = `${partition}:${topic}`;
    let queue = this.#queues.get(id);
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
      };
      this.#queues.set(id, queue);
    }
    return queue;
  }

  #openBatch(queue: PartitionQueue): void {
    queue.open = new ProducerBatch(Date.now());
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

  /** Starts the partition's next request unless one is out (one at a time keeps the order). */
  #dispatch(queue: PartitionQueue): void {
    if (queue.inFlight || queue.ready.length === 0) return;
    let take = 1;
    let bytes = queue.ready[0]!.sizeBytes;
    while (
      take < queue.ready.length &&
      bytes + queue.ready[take]!.sizeBytes <= this.options.maxRequestBytes
    ) {
      bytes += queue.ready[take]!.sizeBytes;
      take++;
    }
    const batches = queue.ready.splice(0, take);
    queue.inFlight = true;
    const request = this.#sendRequest(queue, batches).finally(() => {
      this.#requests.delete(request);
      queue.inFlight = false;
      for (const batch of batches) this.#bufferedBytes -= batch.sizeBytes;
      this.#wakeRoomWaiters();
      this.#dispatch(queue);
    });
    this.#requests.add(request);
  }

  async #sendRequest(queue: PartitionQueue, batches: ProducerBatch[]): Promise<void> {
    let sequenceAfter = queue.nextSequence;
    try {
      const idempotence = this.options.idempotent ? await this.#producerIdentity() : undefined;
      if (idempotence?.fresh) for (const q of this.#queues.values()) q.nextSequence = 0;
      sequenceAfter = queue.nextSequence;
      const encoded = batches.map((batch) => {
        const options =
          idempotence === undefined
            ? { compression: this.options.compression }
            : {
                compression: this.options.compression,
                producerId: idempotence.producerId,
                producerEpoch: idempotence.producerEpoch,
                baseSequence: sequenceAfter,
              };
        if (idempotence !== undefined) sequenceAfter = incrementSequence(sequenceAfter, batch.records.length);
        return encodeBatch(batch.records, options);
      });
      const body = concat(encoded);
      const result = await this.#produceWithRetries(queue, body);
      queue.nextSequence = sequenceAfter;
      batches.forEach((batch, i) => {
        batch.resolve({ baseOffset: result?.batches[i]?.baseOffset ?? -1 });
      });
    } catch (error) {
      // Retries ran out on an error after which the append may or may not have happened: the next
      // request cannot know its sequence, so the producer takes a new epoch (Kafka, KIP-360).
      if (this.options.idempotent && isRetriable(error)) this.#bumpEpoch = true;
      for (const batch of batches) batch.reject(error);
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

function closedError(): SluiceClientError {
  return new SluiceClientError({ status: 0, code: 0, name: "CLOSED", message: "the producer is closed" });
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
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
