// A consumer over one WebSocket (/api/v1/ws): partitions assigned by hand (assign) or by a consumer
// group (subscribe), read from earliest, latest, an offset or a time, with credit-based flow control
// (ConsumerPartition: never more than one window per partition buffered), as binary RecordBatch frames
// decoded here (CRC checked) or as JSON frames. Records come through async iteration or run(); pause,
// resume and seek work per partition. Group mode follows the ws-groups protocol: join, heartbeat,
// rejoin on rebalance, auto commit every autoCommitIntervalMs and on close, or commit() by hand.
import type { JsonRecord } from "../gateway/record-json.ts";
import type { AssignorName } from "../groups/assignors.ts";
import { asClientError, type ConsumedRecord, decodeBatches, readFrame } from "./batch-decoding.ts";
import { ConsumerGroupMember } from "./consumer-group-member.ts";
import { ConsumerPartition, type CreditWindow, type StartFrom } from "./consumer-partition.ts";
import { REQUEST_TIMEOUT_MS_DEFAULT, SluiceClientError } from "./http.ts";
import { errorOfFrame, type IncomingFrame, StreamSocket, streamUrl } from "./stream-socket.ts";

export type { ConsumedRecord, StartFrom };

/** A record of a `format: "json"` consumer: the HTTP fetch's JSON record, with its topic. */
export type JsonConsumedRecord = JsonRecord & { topic: string };

export interface ConsumerOptions {
  /** As HttpClientOptions.baseUrl: "http://127.0.0.1:8080", or empty for the page's origin. */
  baseUrl?: string;
  token?: string;
  /** "binary" (default): RecordBatch frames decoded here, keys and values as bytes. "json": decoded by Sluice. */
  format?: "binary" | "json";
  /** json format: how keys and values are rendered (as the HTTP fetch's key_format, value_format). */
  keyFormat?: "auto" | "json" | "text" | "base64";
  valueFormat?: "auto" | "json" | "text" | "base64";
  /** Credit window per partition: records received and not yet taken stay below these. */
  maxBufferedRecordsPerPartition?: number;
  maxBufferedBytesPerPartition?: number;
  connectTimeoutMs?: number;
  /** Group mode. */
  group?: string;
  clientId?: string;
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  assignor?: AssignorName;
  /** Kafka's enable.auto.commit (default true) and auto.commit.interval.ms (default 5000). */
  autoCommit?: boolean;
  autoCommitIntervalMs?: number;
  /** Kafka's auto.offset.reset: where a group partition without a committed offset starts. */
  resetPolicy?: "earliest" | "latest";
  /**
   * Errors that do not end the consumer (a subscription ended by Sluice, an auto commit refused during
   * a rebalance). Without it the first ends iteration with a throw; auto commits refused because the
   * group moved on are then dropped, as Kafka's consumer only logs them.
   */
  onError?: (error: unknown) => void;
}

type ResolvedOptions = ConsumerOptions & Required<Pick<ConsumerOptions, keyof typeof CONSUMER_DEFAULTS>>;

export const CONSUMER_DEFAULTS = {
  format: "binary",
  maxBufferedRecordsPerPartition: 10_000,
  maxBufferedBytesPerPartition: 1024 * 1024,
  autoCommit: true,
  autoCommitIntervalMs: 5_000,
  resetPolicy: "latest",
} as const satisfies ConsumerOptions;

export interface PartitionAssignment {
  topic: string;
  partition: number;
  from?: StartFrom;
}

/** What one frame brought, handed out record by record; its credit returns when all are taken. */
interface Chunk<R> {
  state: ConsumerPartition;
  id: number;
  records: R[];
  index: number;
  creditRecords: number;
  creditBytes: number;
  nextOffset: number;
}

const SUBSCRIPTION_ID_MAX = 0xffff_fffe;

export class SluiceConsumer<R extends { offset: number } = ConsumedRecord> {
  readonly options: ResolvedOptions;
  #socket: StreamSocket | undefined;
  readonly #partitions = new Map<string, ConsumerPartition>();
  readonly #byId = new Map<number, ConsumerPartition>();
  #chunks: Chunk<R>[] = [];
  #nextId = 1;
  #wake: (() => void) | undefined;
  #failure: unknown;
  #closed = false;
  #member: ConsumerGroupMember | undefined;

  constructor(options: ConsumerOptions = {}) {
    const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
    this.options = { ...CONSUMER_DEFAULTS, ...defined } as ResolvedOptions;
  }

  /** Opens the WebSocket; assign() and subscribe() call it when needed. */
  async connect(): Promise<void> {
    if (this.#socket !== undefined) return;
    const url = streamUrl((this.options.baseUrl ?? "").replace(/\/+$/, ""), this.options.token);
    this.#socket = await StreamSocket.connect(
      url,
      {
        json: (frame, bytes) => this.#onJson(frame, bytes),
        binary: (frame) => this.#onBinary(frame),
        closed: (error) => this.#onClosed(error),
      },
      this.options.connectTimeoutMs ?? REQUEST_TIMEOUT_MS_DEFAULT,
    );
  }

  get socket(): StreamSocket {
    if (this.#socket === undefined) throw new TypeError("connect() first");
    return this.#socket;
  }

  /** Reads these partitions (from the latest offset unless told); resolves once each is subscribed. */
  async assign(assignments: PartitionAssignment[]): Promise<void> {
    await this.connect();
    await Promise.all(
      assignments.map((a) => this.#subscribePartition(a.topic, a.partition, a.from ?? "latest")),
    );
  }

  /** Stops reading these partitions and drops what is buffered of them. */
  unassign(partitions: Array<{ topic: string; partition: number }>): void {
    for (const { topic, partition } of partitions) {
      const state = this.#partitions.get(key(topic, partition));
      if (state === undefined) continue;
      this.#partitions.delete(key(topic, partition));
      this.#endSubscription(state);
    }
  }

  /** The partitions being read. */
  assignment(): Array<{ topic: string; partition: number }> {
    return [...this.#partitions.values()].map(({ topic, partition }) => ({ topic, partition }));
  }

  /** Joins the consumer group (options.group) for these topics; Sluice assigns the partitions. */
  async subscribe(topics: string[]): Promise<void> {
    const group = this.options.group;
    if (group === undefined)
      throw new TypeError("subscribe() needs options.group; assign() reads without one");
    await this.connect();
    this.#member ??= new ConsumerGroupMember(this.socket, group, topics, this.options, {
      assign: (assignments) => this.assign(assignments),
      revokeAll: () => this.unassign(this.assignment()),
      positions: () => this.#positions(),
      error: (error) => this.#report(error),
      warn: (error) => this.options.onError?.(error),
    });
    await this.#member.join();
  }

  /** Group mode: the member's id and generation once joined; undefined while it (re)joins. */
  get membership(): { memberId: string; generationId: number } | undefined {
    return this.#member?.membership;
  }

  /** Group mode: true from a rebalance until the new assignment is subscribed. */
  get rebalancing(): boolean {
    return this.#member?.joining ?? false;
  }

  /**
   * Commits the position of every assigned partition (the next offset to read, as Kafka does), or the
   * offsets given. Group mode: as the member; with options.group but no subscribe, as a standalone consumer.
   */
  async commit(offsets?: Array<{ topic: string; partition: number; offset: number }>): Promise<void> {
    const group = this.options.group;
    if (group === undefined) throw new TypeError("commit() needs options.group");
    const chosen = offsets ?? this.#positions();
    if (chosen.length === 0) return;
    if (this.#member !== undefined) return this.#member.commit(chosen);
    await this.socket.request({ type: "commit", group, offsets: chosen });
  }

  /** The next offset to hand out, per partition; undefined before it is subscribed. */
  position(topic: string, partition: number): number | undefined {
    return this.#partitions.get(key(topic, partition))?.position;
  }

  /** Stops handing out and granting credit for these partitions; what is buffered stays. */
  pause(partitions: Array<{ topic: string; partition: number }>): void {
    for (const p of partitions) {
      const state = this.#partitions.get(key(p.topic, p.partition));
      if (state !== undefined) state.paused = true;
    }
  }

  resume(partitions: Array<{ topic: string; partition: number }>): void {
    for (const p of partitions) {
      const state = this.#partitions.get(key(p.topic, p.partition));
      if (state === undefined || !state.paused) continue;
      state.paused = false;
      this.#grant(state, state.topUp());
    }
    this.#wake?.();
  }

  /** Reads the partition again from `from`; what is buffered of it is dropped. */
  async seek(topic: string, partition: number, from: StartFrom): Promise<void> {
    const state = this.#partitions.get(key(topic, partition));
    if (state === undefined) throw new TypeError(`${topic}-${partition} is not assigned`);
    this.#partitions.delete(key(topic, partition));
    this.#endSubscription(state);
    await this.#subscribePartition(topic, partition, from, state.paused);
  }

  /** Records one by one, in the order they came (per partition, in offset order). */
  async *[Symbol.asyncIterator](): AsyncGenerator<R> {
    for (;;) {
      const chunk = await this.#nextChunk();
      if (chunk === undefined) return;
      const record = chunk.records[chunk.index++]!;
      this.#advance(chunk, record);
      yield record;
    }
  }

  /** What each frame brought, as arrays: fewer awaits per record than iterating one by one. */
  async *batches(): AsyncGenerator<R[]> {
    for (;;) {
      const chunk = await this.#nextChunk();
      if (chunk === undefined) return;
      const records = chunk.index === 0 ? chunk.records : chunk.records.slice(chunk.index);
      chunk.index = chunk.records.length;
      this.#advance(chunk, records[records.length - 1]!, records.length);
      yield records;
    }
  }

  /** Callback style: calls `handler` for each record, awaiting it, until close(). */
  async run(handler: (record: R) => void | Promise<void>): Promise<void> {
    for await (const record of this) await handler(record);
  }

  /** Group mode: commits (auto commit) and leaves; then closes the socket. Iterators end. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#member?.leave();
    } finally {
      this.#socket?.close();
      this.#wake?.();
    }
  }

  // Subscriptions ---------------------------------------------------------------------------------

  async #subscribePartition(
    topic: string,
    partition: number,
    from: StartFrom,
    paused = false,
  ): Promise<void> {
    const id = this.#nextId;
    this.#nextId = this.#nextId >= SUBSCRIPTION_ID_MAX ? 1 : this.#nextId + 1;
    const state = new ConsumerPartition(topic, partition, {
      records: this.options.maxBufferedRecordsPerPartition,
      bytes: this.options.maxBufferedBytesPerPartition,
    });
    state.id = id;
    state.paused = paused;
    this.#partitions.set(key(topic, partition), state);
    this.#byId.set(id, state);
    const subscribed = new Promise<void>((resolve, reject) => {
      state.subscribed = { resolve, reject };
    });
    const { format, keyFormat, valueFormat } = this.options;
    const credit = paused ? undefined : state.openWindow();
    this.socket.send({
      type: "subscribe",
      id,
      topic,
      partition,
      from,
      format,
      ...(format === "json" ? { keyFormat, valueFormat } : {}),
      ...(credit === undefined ? {} : { credit }),
    });
    await subscribed;
  }

  #endSubscription(state: ConsumerPartition): void {
    this.#byId.delete(state.id);
    this.#chunks = this.#chunks.filter((chunk) => chunk.state !== state);
    if (!this.#socket?.closed) this.socket.send({ type: "unsubscribe", id: state.id });
    state.subscribed?.reject(
      new SluiceClientError({ status: 0, code: 0, name: "CLOSED", message: "unassigned" }),
    );
  }

  #grant(state: ConsumerPartition, grant: Partial<CreditWindow> | undefined): void {
    if (grant === undefined || this.#socket?.closed) return;
    this.socket.send({ type: "credit", id: state.id, ...grant });
  }

  #positions(): Array<{ topic: string; partition: number; offset: number }> {
    const positions: Array<{ topic: string; partition: number; offset: number }> = [];
    for (const { topic, partition, position } of this.#partitions.values()) {
      if (position !== undefined) positions.push({ topic, partition, offset: position });
    }
    return positions;
  }

  // Incoming frames -------------------------------------------------------------------------------

  #onJson(frame: IncomingFrame, textBytes: number): void {
    switch (frame.type) {
      case "subscribed": {
        const state = this.#byId.get(frame.id);
        if (state === undefined) return;
        state.position = frame.offset;
        state.receivedOffset = frame.offset;
        state.highWatermark = frame.highWatermark;
        state.subscribed?.resolve();
        state.subscribed = undefined;
        return;
      }
      case "records": {
        const state = this.#byId.get(frame.id);
        if (state === undefined) return;
        const { topic } = state;
        const records = frame.records.map((record) => ({ ...record, topic })) as unknown as R[];
        this.#push(state, frame.id, records, frame.nextOffset, frame.highWatermark, textBytes);
        return;
      }
      case "unsubscribed": {
        const state = this.#byId.get(frame.id);
        if (state === undefined) return;
        // Sluice ended it (the topic went, retention passed the offset): the partition is no longer read.
        this.#byId.delete(frame.id);
        if (this.#partitions.get(key(state.topic, state.partition)) === state) {
          this.#partitions.delete(key(state.topic, state.partition));
        }
        return;
      }
      case "error":
        this.#onError(frame);
        return;
      case "rebalance":
        this.#member?.rebalance(frame.generationId);
        return;
      default:
        return;
    }
  }

  #onError(frame: Extract<IncomingFrame, { type: "error" }>): void {
    const state = frame.id === undefined ? undefined : this.#byId.get(frame.id);
    if (state !== undefined && frame.name === "CREDIT_TOO_SMALL" && frame.needed !== undefined) {
      this.#grant(state, state.grow(frame.field === "records" ? "records" : "bytes", frame.needed));
      return;
    }
    const error = errorOfFrame(frame);
    if (this.#member?.heartbeatFailed(frame.requestId, error)) return;
    if (state?.subscribed !== undefined) {
      state.subscribed.reject(error);
      state.subscribed = undefined;
      this.#byId.delete(state.id);
      this.#partitions.delete(key(state.topic, state.partition));
      return;
    }
    this.#report(error);
  }

  #onBinary(frame: Uint8Array): void {
    try {
      const { subscriptionId, nextOffset, highWatermark, batches } = readFrame(frame);
      const state = this.#byId.get(subscriptionId);
      if (state === undefined) return;
      const from = state.receivedOffset ?? 0;
      const records = decodeBatches(batches, state.topic, state.partition, from) as unknown as R[];
      this.#push(state, subscriptionId, records, nextOffset, highWatermark, frame.length);
    } catch (error) {
      this.#report(asClientError(error));
    }
  }

  #push(
    state: ConsumerPartition,
    id: number,
    records: R[],
    nextOffset: number,
    highWatermark: number,
    bytes: number,
  ): void {
    const span = nextOffset - (state.receivedOffset ?? nextOffset);
    state.receivedOffset = nextOffset;
    state.highWatermark = highWatermark;
    state.received(span, bytes);
    if (records.length === 0) {
      // Offsets moved past without records (a compacted gap): the credit comes back at once.
      state.position = nextOffset;
      this.#grant(state, state.taken(span, bytes));
      return;
    }
    this.#chunks.push({ state, id, records, index: 0, creditRecords: span, creditBytes: bytes, nextOffset });
    this.#wake?.();
  }

  #onClosed(error: SluiceClientError): void {
    if (!this.#closed) this.#failure ??= error;
    this.#member?.stop();
    // Subscribes still waiting for their answer will not get one.
    for (const state of this.#partitions.values()) {
      state.subscribed?.reject(error);
      state.subscribed = undefined;
    }
    this.#wake?.();
  }

  #report(error: unknown): void {
    if (this.options.onError !== undefined) this.options.onError(error);
    else {
      this.#failure ??= error;
      this.#wake?.();
    }
  }

  // Handing out -----------------------------------------------------------------------------------

  /** The first chunk of a partition that is not paused, waiting for one; undefined once closed. */
  async #nextChunk(): Promise<Chunk<R> | undefined> {
    for (;;) {
      if (this.#failure !== undefined) {
        const failure = this.#failure;
        this.#failure = undefined;
        throw failure;
      }
      if (this.#closed) return undefined;
      const chunk = this.#chunks.find((c) => !c.state.paused && c.index < c.records.length);
      if (chunk !== undefined) return chunk;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = undefined;
    }
  }

  /**
   * The records of `chunk` up to its index were handed out (`taken` of them just now): the position
   * moves past the last, their record credit returns at once, and the frame's bytes once it is done.
   */
  #advance(chunk: Chunk<R>, record: R, taken = 1): void {
    const { state } = chunk;
    const current = this.#byId.get(chunk.id) === state;
    state.position = record.offset + 1;
    if (chunk.index < chunk.records.length) {
      if (current) this.#grant(state, state.taken(taken, 0));
      return;
    }
    state.position = chunk.nextOffset;
    const at = this.#chunks.indexOf(chunk);
    if (at !== -1) this.#chunks.splice(at, 1);
    // The offsets the frame moved past beyond its records (compacted gaps) return with the last one.
    const records = taken + chunk.creditRecords - chunk.records.length;
    if (current) this.#grant(state, state.taken(records, chunk.creditBytes));
  }
}

function key(topic: string, partition: number): string {
  return `${partition}:${topic}`;
}
