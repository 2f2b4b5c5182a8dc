// `leader-epoch-checkpoint`: which leader epoch started at which offset, as Kafka keeps it. Text:
//   0                 version
//   <n>               number of entries
//   <epoch> <offset>  one line per entry, epochs and offsets strictly increasing
// Written to a temporary file, synced and renamed, so a crash leaves the old or the new one whole.
import { SluiceError } from "../errors.ts";
import type { Storage } from "../storage/storage.ts";

export const LEADER_EPOCH_CHECKPOINT_FILE = "leader-epoch-checkpoint";
const CHECKPOINT_VERSION = 0;

export interface EpochEntry {
  epoch: number;
  startOffset: number;
}

export class LeaderEpochCache {
  #entries: EpochEntry[];

  private constructor(
    readonly storage: Storage,
    readonly path: string,
    entries: EpochEntry[],
    /** The file was malformed: the cache starts empty and the log re-adds epochs from its batches. */
    readonly needsRebuild: boolean,
  ) {
    this.#entries = entries;
  }

  static load(storage: Storage, path: string): LeaderEpochCache {
    const bytes = storage.readFile(path);
    if (bytes === undefined) return new LeaderEpochCache(storage, path, [], false);
    try {
      return new LeaderEpochCache(
        storage,
        path,
        parseCheckpoint(new TextDecoder().decode(bytes), path),
        false,
      );
    } catch (error) {
      // Derived data, like the indexes: every batch carries its epoch, so a bad file is rebuilt.
      if (error instanceof SluiceError) return new LeaderEpochCache(storage, path, [], true);
      throw error;
    }
  }

  get entries(): readonly EpochEntry[] {
    return this.#entries;
  }

  latestEpoch(): number | undefined {
    return this.#entries.at(-1)?.epoch;
  }

  /** Records that `epoch` starts at `startOffset`, when it is newer than the latest one. */
  assign(epoch: number, startOffset: number): void {
    const latest = this.#entries.at(-1);
    if (latest !== undefined && epoch <= latest.epoch) return;
    // An older epoch that started here saw no batch: the newer one replaces it (Kafka does the same).
    while ((this.#entries.at(-1)?.startOffset ?? -1) >= startOffset) this.#entries.pop();
    this.#entries.push({ epoch, startOffset });
    this.#write();
  }

  /** The end offset of `epoch`: the start of the first later epoch, or `logEndOffset` for the latest. */
  endOffsetFor(epoch: number, logEndOffset: number): number | undefined {
    const later = this.#entries.find((entry) => entry.epoch > epoch);
    if (later) return later.startOffset;
    return this.#entries.some((entry) => entry.epoch <= epoch) ? logEndOffset : undefined;
  }

  /** Drops entries that start at or after `offset` (after the log is truncated there). */
  truncateFromEnd(offset: number): void {
    const kept = this.#entries.filter((entry) => entry.startOffset < offset);
    if (kept.length === this.#entries.length) return;
    this.#entries = kept;
    this.#write();
  }

  /**
   * Drops entries wholly before `offset` (after retention moves the log start); the epoch in force at
   * `offset` now starts there, as in Kafka.
   */
  truncateFromStart(offset: number): void {
    const firstKept = this.#entries.findLastIndex((entry) => entry.startOffset <= offset);
    if (firstKept < 0 || (this.#entries[firstKept]!.startOffset === offset && firstKept === 0)) return;
    this.#entries = this.#entries.slice(firstKept);
    this.#entries[0] = { epoch: this.#entries[0]!.epoch, startOffset: offset };
    this.#write();
  }

  /** Drops every entry (the log was emptied and restarted elsewhere). */
  clear(): void {
    if (this.#entries.length === 0 && this.storage.exists(this.path)) return;
    this.#entries = [];
    this.#write();
  }

  #write(): void {
    const lines = [String(CHECKPOINT_VERSION), String(this.#entries.length)];
    for (const entry of this.#entries) lines.push(`${entry.epoch} ${entry.startOffset}`);
    this.storage.writeFileAtomic(this.path, new TextEncoder().encode(`${lines.join("\n")}\n`));
  }
}

function parseCheckpoint(text: string, path: string): EpochEntry[] {
  const lines = text.split("\n").filter((line) => line.length > 0);
  const corrupt = (why: string) => new SluiceError("STORAGE_ERROR", `${path} is malformed: ${why}`);
  if (lines[0] !== String(CHECKPOINT_VERSION)) throw corrupt(`unknown version ${lines[0]}`);
  const count = Number(lines[1]);
  if (!Number.isSafeInteger(count) || count !== lines.length - 2) throw corrupt("entry count does not match");
  const entries = lines.slice(2).map((line) => {
    const parts = line.split(" ");
    const [epoch, startOffset] = parts.map((part) => (/^-?\d+$/.test(part) ? Number(part) : Number.NaN));
    if (parts.length !== 2 || !Number.isSafeInteger(epoch) || !Number.isSafeInteger(startOffset)) {
      throw corrupt(`bad line "${line}"`);
    }
    return { epoch: epoch!, startOffset: startOffset! };
  });
  for (let i = 1; i < entries.length; i++) {
    if (entries[i]!.epoch <= entries[i - 1]!.epoch || entries[i]!.startOffset < entries[i - 1]!.startOffset) {
      throw corrupt("epochs and offsets must increase");
    }
  }
  return entries;
}
