// One partition's batch as the producer fills it. Each record is encoded into the batch's bytes (in
// its partition's arena, RecordBatch v2 as lib/log/record-batch.ts writes it) the moment it is sent,
// so a record costs one copy of its key and value and no object is kept for it; the 61-byte header
// is written when the batch goes out,
// because the producer id, epoch and sequence (all under the CRC) are only known then. One promise
// per batch is settled when the request carrying it is answered: each send() derives its record's
// offset from the batch's base offset, so 10,000 records cost one deferred, not 10,000.
import type { CodecName } from "../log/compression.ts";
import { CODEC_IDS, compress } from "../log/compression.ts";
import {
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  CRC_OFFSET,
  CURRENT_MAGIC,
  computeBatchCrc,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD_BYTES,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  NO_PARTITION_LEADER_EPOCH,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  NO_SEQUENCE,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORDS_COUNT_OFFSET,
  RECORDS_OFFSET,
  writeInt64,
  writeNullableBytes,
} from "../log/record-batch.ts";
import { varintSize, varlongSize, writeVarint, writeVarlong } from "../log/varint.ts";
import type { Arena } from "./producer-arena.ts";

export interface BatchOutcome {
  /** The first record's offset; -1 with acks 0. */
  baseOffset: number;
}

/** A record's header as the batch stores it: the key already UTF-8. */
export interface EncodedHeader {
  key: Uint8Array;
  value: Uint8Array | null;
}

/** What goes into the header when the batch is sent. */
export interface BatchIdentity {
  compression: CodecName;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
}

/** Gives the batch a new arena with at least `minBytes` free, when the one it is in is full. */
export type ArenaSource = (minBytes: number) => Arena;

export class ProducerBatch {
  #arena: Arena;
  /** Where the batch starts in its arena. */
  #start: number;
  /** The arena from #start to its end: the header (written by finish()), then the records so far. */
  #bytes: Uint8Array;
  #length = RECORDS_OFFSET;
  #count = 0;
  #baseTimestamp = 0;
  #maxTimestamp = -1;
  /** The compressed batch, made once: a retry or a new epoch rewrites only its header. */
  #compressed: Uint8Array | undefined;
  /** Sum of the records' size bounds: what batch.size and buffer.memory count. */
  sizeBytes = 0;
  readonly done: Promise<BatchOutcome>;
  resolve!: (outcome: BatchOutcome) => void;
  reject!: (error: unknown) => void;

  constructor(
    readonly partition: number,
    /** Its partition's current arena: the batch starts where the arena's used bytes end. */
    arena: Arena,
    readonly moreArena: ArenaSource,
  ) {
    this.#arena = arena;
    this.#start = arena.used;
    this.#bytes = arena.bytes.subarray(arena.used);
    arena.hold();
    this.done = new Promise<BatchOutcome>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // Nobody may await a batch whose records' callers dropped their promises: no unhandled rejection.
    this.done.catch(() => {});
  }

  /** Records in the batch. */
  get count(): number {
    return this.#count;
  }

  /** Bytes of the uncompressed batch so far, header included. */
  get encodedBytes(): number {
    return this.#length;
  }

  /**
   * Encodes one record at the end of the batch; returns its index (its offset delta). `sizeBound`
   * is the record's recordSizeBound, at least the bytes it takes.
   */
  add(
    key: Uint8Array | null,
    value: Uint8Array | null,
    headers: EncodedHeader[] | undefined,
    timestamp: number,
    sizeBound: number,
  ): number {
    const index = this.#count;
    if (index === 0) this.#baseTimestamp = timestamp;
    if (timestamp > this.#maxTimestamp) this.#maxTimestamp = timestamp;
    const timestampDelta = timestamp - this.#baseTimestamp;
    const headerCount = headers === undefined ? 0 : headers.length;
    let bodySize =
      1 +
      ((timestampDelta | 0) === timestampDelta ? varintSize(timestampDelta) : varlongSize(timestampDelta)) +
      varintSize(index) +
      (key === null ? 1 : varintSize(key.length) + key.length) +
      (value === null ? 1 : varintSize(value.length) + value.length) +
      varintSize(headerCount);
    for (let i = 0; i < headerCount; i++) {
      const header = headers![i]!;
      bodySize += varintSize(header.key.length) + header.key.length;
      bodySize += header.value === null ? 1 : varintSize(header.value.length) + header.value.length;
    }
    this.#reserve(varintSize(bodySize) + bodySize);
    const target = this.#bytes;
    let at = writeVarint(target, this.#length, bodySize);
    target[at++] = 0; // record attributes: unused, always 0
    at = writeVarlong(target, at, timestampDelta);
    at = writeVarint(target, at, index);
    at = writeNullableBytes(target, at, key);
    at = writeNullableBytes(target, at, value);
    at = writeVarint(target, at, headerCount);
    for (let i = 0; i < headerCount; i++) {
      const header = headers![i]!;
      at = writeNullableBytes(target, at, header.key);
      at = writeNullableBytes(target, at, header.value);
    }
    this.#length = at;
    this.#count = index + 1;
    this.sizeBytes += sizeBound;
    return index;
  }

  /**
   * The batch as it goes on the wire: header written (producer fields as given, CRC last), records
   * compressed when asked. A view of the batch's own bytes; call it again for a new identity.
   */
  finish(identity: BatchIdentity): Uint8Array {
    const codec = identity.compression;
    let batch: Uint8Array;
    if (codec === "none") batch = this.#bytes.subarray(0, this.#length);
    else {
      if (this.#compressed === undefined) {
        const payload = compress(codec, this.#bytes.subarray(RECORDS_OFFSET, this.#length));
        this.#compressed = new Uint8Array(RECORDS_OFFSET + payload.length);
        this.#compressed.set(payload, RECORDS_OFFSET);
      }
      batch = this.#compressed;
    }
    const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
    writeInt64(view, BASE_OFFSET_OFFSET, 0);
    view.setInt32(BATCH_LENGTH_OFFSET, batch.length - LOG_OVERHEAD_BYTES);
    view.setInt32(PARTITION_LEADER_EPOCH_OFFSET, NO_PARTITION_LEADER_EPOCH);
    view.setInt8(MAGIC_OFFSET, CURRENT_MAGIC);
    view.setInt16(ATTRIBUTES_OFFSET, CODEC_IDS[codec]); // CreateTime, not transactional
    view.setInt32(LAST_OFFSET_DELTA_OFFSET, this.#count - 1);
    writeInt64(view, BASE_TIMESTAMP_OFFSET, this.#baseTimestamp);
    writeInt64(view, MAX_TIMESTAMP_OFFSET, this.#maxTimestamp);
    writeInt64(view, PRODUCER_ID_OFFSET, identity.producerId ?? NO_PRODUCER_ID);
    view.setInt16(PRODUCER_EPOCH_OFFSET, identity.producerEpoch ?? NO_PRODUCER_EPOCH);
    view.setInt32(BASE_SEQUENCE_OFFSET, identity.baseSequence ?? NO_SEQUENCE);
    view.setInt32(RECORDS_COUNT_OFFSET, this.#count);
    view.setUint32(CRC_OFFSET, computeBatchCrc(batch));
    return batch;
  }

  /** No more records: the arena's next batch starts after this one. */
  seal(): void {
    this.#arena.used = this.#start + this.#length;
  }

  /** Whether this batch lies right after `previous` in the same arena (one view covers both). */
  follows(previous: ProducerBatch): boolean {
    return this.#arena === previous.#arena && this.#start === previous.#start + previous.#length;
  }

  /** The batch was answered; `reusable`: its request succeeded, so its bytes are free again. */
  release(reusable: boolean): void {
    this.#arena.release(reusable);
  }

  /** Moves the batch to a new arena when `more` bytes do not fit in what is left of this one. */
  #reserve(more: number): void {
    const needed = this.#length + more;
    if (needed <= this.#bytes.length) return;
    const arena = this.moreArena(needed);
    const bytes = arena.bytes.subarray(arena.used);
    bytes.set(this.#bytes.subarray(0, this.#length));
    arena.hold();
    this.#arena.release(true);
    this.#arena = arena;
    this.#start = arena.used;
    this.#bytes = bytes;
  }
}
