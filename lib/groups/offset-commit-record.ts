// The records of the offsets topic, byte for byte as Kafka writes them, so a Kafka engineer (or Kafka's
// OffsetsMessageFormatter) can read Sluice's `__consumer_offsets`: a key naming (group, topic, partition)
// and a value holding the committed offset. A key with no value is a tombstone: the group's offset for
// that partition was deleted. Strings are Kafka's STRING: an int16 byte length, then UTF-8. All
// integers are big-endian.
//
// Key, version 1 (Kafka's OffsetCommitKey; version 0 has the same layout, version 2 is a group's
// metadata, which Sluice does not write and skips when it reads one):
//   offset      size  field
//   0           2     version (int16) = 1
//   2           2     group length G (int16)
//   4           G     group (UTF-8)
//   4+G         2     topic length T (int16)
//   6+G         T     topic (UTF-8)
//   6+G+T       4     partition (int32)
//
// Value, version 3 (Kafka's OffsetCommitValue as brokers write it since 2.1):
//   offset      size  field
//   0           2     version (int16) = 3
//   2           8     offset (int64)
//   10          4     leader epoch (int32) = -1: Sluice does not track the epoch the offset was read at
//   14          2     metadata length M (int16)
//   16          M     metadata (UTF-8)
//   16+M        8     commit timestamp (int64, ms since the epoch)
// Versions 0 and 2, read too: version, offset, metadata, commit timestamp. Version 1 adds an expire
// timestamp (int64) after the commit timestamp, which is ignored (Sluice does not expire offsets).
import { SluiceError } from "../errors.ts";
import { readInt64, writeInt64 } from "../log/record-batch.ts";

export const KEY_VERSION = 1;
export const VALUE_VERSION = 3;
/** Kafka's key version for a group's metadata (members, generation): skipped on read. */
const GROUP_METADATA_KEY_VERSION = 2;
const NO_LEADER_EPOCH = -1;

export const VERSION_OFFSET = 0;
export const VERSION_SIZE = 2;
export const STRING_LENGTH_SIZE = 2;
export const PARTITION_SIZE = 4;
export const KEY_GROUP_OFFSET = VERSION_OFFSET + VERSION_SIZE;
export const VALUE_OFFSET_OFFSET = VERSION_OFFSET + VERSION_SIZE;
export const OFFSET_SIZE = 8;
export const LEADER_EPOCH_OFFSET = VALUE_OFFSET_OFFSET + OFFSET_SIZE;
export const LEADER_EPOCH_SIZE = 4;
export const METADATA_OFFSET_V3 = LEADER_EPOCH_OFFSET + LEADER_EPOCH_SIZE;
/** Versions 0 to 2 have no leader epoch: the metadata follows the offset. */
export const METADATA_OFFSET_V0 = VALUE_OFFSET_OFFSET + OFFSET_SIZE;
export const TIMESTAMP_SIZE = 8;
/** Kafka's STRING length is an int16. */
const STRING_BYTES_MAX = 0x7fff;

export interface OffsetCommitKey {
  group: string;
  topic: string;
  partition: number;
}

export interface OffsetCommitValue {
  offset: number;
  metadata: string;
  commitTimestampMs: number;
}

const encoder = new TextEncoder();
/** Fatal: a string that is not UTF-8 is a corrupt record, not one to patch up with U+FFFD. */
const decoder = new TextDecoder("utf-8", { fatal: true });

export function encodeOffsetCommitKey(key: OffsetCommitKey): Uint8Array {
  const group = stringBytes(key.group);
  const topic = stringBytes(key.topic);
  const topicOffset = KEY_GROUP_OFFSET + STRING_LENGTH_SIZE + group.length;
  const partitionOffset = topicOffset + STRING_LENGTH_SIZE + topic.length;
  const bytes = new Uint8Array(partitionOffset + PARTITION_SIZE);
  const view = viewOf(bytes);
  view.setInt16(VERSION_OFFSET, KEY_VERSION);
  writeString(bytes, KEY_GROUP_OFFSET, group);
  writeString(bytes, topicOffset, topic);
  view.setInt32(partitionOffset, key.partition);
  return bytes;
}

export function encodeOffsetCommitValue(value: OffsetCommitValue): Uint8Array {
  const metadata = stringBytes(value.metadata);
  const timestampOffset = METADATA_OFFSET_V3 + STRING_LENGTH_SIZE + metadata.length;
  const bytes = new Uint8Array(timestampOffset + TIMESTAMP_SIZE);
  const view = viewOf(bytes);
  view.setInt16(VERSION_OFFSET, VALUE_VERSION);
  writeInt64(view, VALUE_OFFSET_OFFSET, value.offset);
  view.setInt32(LEADER_EPOCH_OFFSET, NO_LEADER_EPOCH);
  writeString(bytes, METADATA_OFFSET_V3, metadata);
  writeInt64(view, timestampOffset, value.commitTimestampMs);
  return bytes;
}

/** The key, or undefined for a group metadata key; CORRUPT_MESSAGE for anything else unreadable. */
export function decodeOffsetCommitKey(bytes: Uint8Array): OffsetCommitKey | undefined {
  const reader = new FieldReader(bytes, "key");
  const version = reader.int16(VERSION_OFFSET);
  if (version === GROUP_METADATA_KEY_VERSION) return undefined;
  if (version !== 0 && version !== KEY_VERSION) throw corrupt(`unknown key version ${version}`);
  const group = reader.string(KEY_GROUP_OFFSET);
  const topicOffset = KEY_GROUP_OFFSET + STRING_LENGTH_SIZE + group.bytes;
  const topic = reader.string(topicOffset);
  const partitionOffset = topicOffset + STRING_LENGTH_SIZE + topic.bytes;
  const partition = reader.int32(partitionOffset);
  reader.expectEnd(partitionOffset + PARTITION_SIZE);
  if (partition < 0) throw corrupt(`negative partition ${partition}`);
  return { group: group.text, topic: topic.text, partition };
}

export function decodeOffsetCommitValue(bytes: Uint8Array): OffsetCommitValue {
  const reader = new FieldReader(bytes, "value");
  const version = reader.int16(VERSION_OFFSET);
  if (version < 0 || version > VALUE_VERSION) throw corrupt(`unknown value version ${version}`);
  const offset = reader.int64(VALUE_OFFSET_OFFSET);
  const metadataOffset = version === VALUE_VERSION ? METADATA_OFFSET_V3 : METADATA_OFFSET_V0;
  const metadata = reader.string(metadataOffset);
  const timestampOffset = metadataOffset + STRING_LENGTH_SIZE + metadata.bytes;
  const commitTimestampMs = reader.int64(timestampOffset);
  const expireTimestampSize = version === 1 ? TIMESTAMP_SIZE : 0;
  reader.expectEnd(timestampOffset + TIMESTAMP_SIZE + expireTimestampSize);
  if (offset < 0) throw corrupt(`negative offset ${offset}`);
  return { offset, metadata: metadata.text, commitTimestampMs };
}

function stringBytes(text: string): Uint8Array {
  const bytes = encoder.encode(text);
  if (bytes.length > STRING_BYTES_MAX)
    throw new SluiceError(
      "INVALID_REQUEST",
      `a string of ${bytes.length} bytes does not fit an int16 length`,
    );
  return bytes;
}

function writeString(bytes: Uint8Array, position: number, text: Uint8Array): void {
  viewOf(bytes).setInt16(position, text.length);
  bytes.set(text, position + STRING_LENGTH_SIZE);
}

/** Reads fields at given positions, each checked against the record's length. */
class FieldReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;

  constructor(
    bytes: Uint8Array,
    readonly what: string,
  ) {
    this.#bytes = bytes;
    this.#view = viewOf(bytes);
  }

  int16(position: number): number {
    this.#need(position, 2);
    return this.#view.getInt16(position);
  }

  int32(position: number): number {
    this.#need(position, 4);
    return this.#view.getInt32(position);
  }

  int64(position: number): number {
    this.#need(position, 8);
    return readInt64(this.#view, position);
  }

  /** A STRING at `position`: its text and how many bytes it took after its length. */
  string(position: number): { text: string; bytes: number } {
    const length = this.int16(position);
    if (length < 0) throw corrupt(`a null or negative string length ${length} in the ${this.what}`);
    const start = position + STRING_LENGTH_SIZE;
    this.#need(start, length);
    try {
      return { text: decoder.decode(this.#bytes.subarray(start, start + length)), bytes: length };
    } catch {
      throw corrupt(`a string in the ${this.what} is not UTF-8`);
    }
  }

  expectEnd(position: number): void {
    if (position !== this.#bytes.length)
      throw corrupt(`the ${this.what} has ${this.#bytes.length - position} bytes past its last field`);
  }

  #need(position: number, size: number): void {
    if (position + size > this.#bytes.length)
      throw corrupt(`the ${this.what} ends at byte ${this.#bytes.length}, before a field at ${position}`);
  }
}

function corrupt(why: string): SluiceError {
  return new SluiceError("CORRUPT_MESSAGE", `offset commit record: ${why}`);
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
