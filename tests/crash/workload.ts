// What the crash child writes and how the tests check it: the topic, the record values (each one
// names its partition and sequence number and carries a checksum of its payload), and the ACK lines
// the child prints for every durable append.
//
// Record value, big-endian:
//   offset size field
//        0    4 magic          0x534c4352 ("SLCR")
//        4    4 partition
//        8    8 seq            the child's own count; it continues from the log's last record, so
//                              a sound log has seq == offset for every record
//       16    4 payloadBytes
//       20    4 payloadCrc     CRC-32 (Bun.hash.crc32, independent of the log's CRC-32C)
//       24    - payload        a pure function of (partition, seq, payloadBytes)
//
// ACK line (stdout, one per durable append, printed after append() resolves):
//   ACK <partition> <baseOffset> <lastOffset> <firstSeq> <valuesCrc> <groupCommitSyncs>
// where valuesCrc is the CRC-32 of the batch's record values back to back.
import { check, type ScannedBatch } from "./log-scan.ts";
import { Prng } from "./prng.ts";

export const TOPIC = "crash";
export const PARTITIONS = 2;
export const SEGMENT_BYTES = 64 * 1024;
/** Keeps the log (and the parent's full scan of it each round) bounded however long the run. */
export const RETENTION_BYTES = 4 * 1024 * 1024;
export const TOPIC_CONFIG = {
  "segment.bytes": SEGMENT_BYTES,
  "retention.bytes": RETENTION_BYTES,
  "index.interval.bytes": 1024,
  // Short enough that some `.deleted` files are removed by the timer, long enough that crashes
  // leave others behind for recovery to clean up.
  "file.delete.delay.ms": 200,
};

export const VALUE_MAGIC = 0x534c4352;
const MAGIC_OFFSET = 0;
const PARTITION_OFFSET = 4;
const SEQ_OFFSET = 8;
const PAYLOAD_BYTES_OFFSET = 16;
const PAYLOAD_CRC_OFFSET = 20;
export const VALUE_HEADER_BYTES = 24;
export const PAYLOAD_BYTES_MAX = 600;

/** The payload bytes of one record: a pure function, so the parent can regenerate them. */
export function payloadFor(partition: number, seq: number, payloadBytes: number): Uint8Array {
  const random = new Prng(
    Math.imul(seq + 1, 0x9e3779b1) ^ Math.imul(partition + 1, 0x85ebca77) ^ payloadBytes,
  );
  return random.fill(new Uint8Array(payloadBytes));
}

export function encodeValue(partition: number, seq: number, payloadBytes: number): Uint8Array {
  const payload = payloadFor(partition, seq, payloadBytes);
  const value = new Uint8Array(VALUE_HEADER_BYTES + payloadBytes);
  const view = new DataView(value.buffer);
  view.setUint32(MAGIC_OFFSET, VALUE_MAGIC);
  view.setUint32(PARTITION_OFFSET, partition);
  view.setBigUint64(SEQ_OFFSET, BigInt(seq));
  view.setUint32(PAYLOAD_BYTES_OFFSET, payloadBytes);
  view.setUint32(PAYLOAD_CRC_OFFSET, Bun.hash.crc32(payload));
  value.set(payload, VALUE_HEADER_BYTES);
  return value;
}

export interface ValueFields {
  partition: number;
  seq: number;
  payloadBytes: number;
}

/** Reads a value's header fields, or says what is wrong with it. */
export function decodeValue(value: Uint8Array | null): ValueFields | string {
  if (value === null) return "value is null";
  if (value.length < VALUE_HEADER_BYTES) return `value is ${value.length} bytes, shorter than its header`;
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  if (view.getUint32(MAGIC_OFFSET) !== VALUE_MAGIC) return "value has the wrong magic";
  const payloadBytes = view.getUint32(PAYLOAD_BYTES_OFFSET);
  if (value.length !== VALUE_HEADER_BYTES + payloadBytes)
    return `value length ${value.length} != 24 + ${payloadBytes}`;
  const payload = value.subarray(VALUE_HEADER_BYTES);
  if (view.getUint32(PAYLOAD_CRC_OFFSET) !== Bun.hash.crc32(payload)) return "payload checksum mismatch";
  return {
    partition: view.getUint32(PARTITION_OFFSET),
    seq: Number(view.getBigUint64(SEQ_OFFSET)),
    payloadBytes,
  };
}

/** CRC-32 of values back to back, as in an ACK line. */
export function valuesCrc(values: readonly (Uint8Array | null)[]): number {
  let crc = 0;
  for (const value of values) crc = Bun.hash.crc32(value ?? new Uint8Array(0), crc);
  return crc;
}

export interface Ack {
  partition: number;
  baseOffset: number;
  lastOffset: number;
  firstSeq: number;
  valuesCrc: number;
  groupCommitSyncs: number;
}

export function formatAck(ack: Ack): string {
  return `ACK ${ack.partition} ${ack.baseOffset} ${ack.lastOffset} ${ack.firstSeq} ${ack.valuesCrc} ${ack.groupCommitSyncs}\n`;
}

/** The ACK lines of the child's output; an unfinished last line (cut by the kill) is ignored. */
export function parseAcks(output: string): Ack[] {
  const lines = output.split("\n").slice(0, -1);
  const acks: Ack[] = [];
  for (const line of lines) {
    if (!line.startsWith("ACK ")) continue;
    const fields = line.split(" ").slice(1).map(Number);
    if (fields.length !== 6 || !fields.every(Number.isSafeInteger))
      throw new Error(`malformed ACK line "${line}"`);
    const [partition, baseOffset, lastOffset, firstSeq, crc, groupCommitSyncs] = fields as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    acks.push({ partition, baseOffset, lastOffset, firstSeq, valuesCrc: crc, groupCommitSyncs });
  }
  return acks;
}

/** Every record is what the appenders wrote at its offset: seq == offset, bytes regenerate exactly. */
export function checkRecordValues(partition: number, batch: ScannedBatch): void {
  batch.values.forEach((value, i) => {
    const offset = batch.baseOffset + i;
    const fields = decodeValue(value);
    check(typeof fields !== "string", `partition ${partition} offset ${offset}: ${fields}`);
    check(
      fields.partition === partition,
      `partition ${partition} offset ${offset} holds a record of partition ${fields.partition}`,
    );
    check(fields.seq === offset, `partition ${partition} offset ${offset} holds seq ${fields.seq}`);
    const expected = encodeValue(partition, offset, fields.payloadBytes);
    check(
      Buffer.from(value!).equals(expected),
      `partition ${partition} offset ${offset}: value bytes differ`,
    );
  });
}

/** An acknowledged batch is in the log whole, with the values the appender wrote. */
export function checkAcked(ack: Ack, batchesByBaseOffset: ReadonlyMap<number, ScannedBatch>): void {
  const what = `partition ${ack.partition}: acknowledged batch ${ack.baseOffset}..${ack.lastOffset}`;
  check(
    ack.firstSeq === ack.baseOffset,
    `${what} was given offset ${ack.baseOffset} for seq ${ack.firstSeq}`,
  );
  const batch = batchesByBaseOffset.get(ack.baseOffset);
  check(
    batch !== undefined && batch.lastOffset === ack.lastOffset,
    `${what} is not a batch of the log: lost`,
  );
  check(valuesCrc(batch.values) === ack.valuesCrc, `${what} holds other values than were written`);
}
