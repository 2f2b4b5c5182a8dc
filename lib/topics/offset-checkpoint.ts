// Kafka's per-log-dir offset checkpoint files (`recovery-point-offset-checkpoint` and friends):
//   0                               version
//   <n>                             number of entries
//   <topic> <partition> <offset>    one line per partition
// Written atomically (temporary file, fsync, rename).
import { SluiceError } from "../errors.ts";
import type { Storage } from "../storage/storage.ts";

const CHECKPOINT_VERSION = 0;

export type PartitionOffsets = Map<string, number>;

export function partitionKey(topic: string, partition: number): string {
  return `${topic} ${partition}`;
}

export function readOffsetCheckpoint(storage: Storage, path: string): PartitionOffsets {
  const bytes = storage.readFile(path);
  const offsets: PartitionOffsets = new Map();
  if (bytes === undefined) return offsets;
  const lines = new TextDecoder()
    .decode(bytes)
    .split("\n")
    .filter((line) => line.length > 0);
  const malformed = (why: string) => new SluiceError("STORAGE_ERROR", `${path} is malformed: ${why}`);
  if (lines[0] !== String(CHECKPOINT_VERSION)) throw malformed(`unknown version "${lines[0]}"`);
  if (Number(lines[1]) !== lines.length - 2) throw malformed("entry count does not match");
  for (const line of lines.slice(2)) {
    const [topic, partition, offset] = line.split(" ");
    const parsedOffset = Number(offset);
    if (
      topic === undefined ||
      !Number.isSafeInteger(Number(partition)) ||
      !Number.isSafeInteger(parsedOffset)
    ) {
      throw malformed(`bad line "${line}"`);
    }
    offsets.set(partitionKey(topic, Number(partition)), parsedOffset);
  }
  return offsets;
}

export function writeOffsetCheckpoint(storage: Storage, path: string, offsets: PartitionOffsets): void {
  const lines = [String(CHECKPOINT_VERSION), String(offsets.size)];
  for (const [key, offset] of offsets) lines.push(`${key} ${offset}`);
  storage.writeFileAtomic(path, new TextEncoder().encode(`${lines.join("\n")}\n`));
}
