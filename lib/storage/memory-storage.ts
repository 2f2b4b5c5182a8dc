// An in-memory Storage with fault injection, because real disks cannot be made to fail on demand. It runs
// the same contract suite as FileStorage (tests/storage/storage-contract.test.ts), so code tested on it
// behaves the same on files.
//
// Durability model. Each file keeps its written bytes and a count of how many of them are durable:
//   - datasync() makes every byte written so far durable at the moment it is called (the promise
//     settles later, so a crash cannot land between the call and the sync);
//   - writeFileAtomic() is durable at once, as the real one fsyncs the file and its directory;
//   - create (open), rename, remove, mkdirp and a truncate that shrinks a file are metadata operations,
//     treated as durable at once for simplicity. Real file systems journal metadata but may reorder it
//     against data; code that needs ordering across files must not lean on this simplification.
// Bytes below the durable count never change except through flipBit, so one array holds both copies.
//
// Faults (set through the methods below, read through `faults`; they stay set across crash()):
//   failDatasync(count = 1)       the next `count` datasync() calls on any file reject with STORAGE_ERROR
//                                 and make nothing durable. Unlike Linux, a later datasync that succeeds
//                                 makes the bytes durable again; do not rely on retrying a failed sync.
//   diskFullAfterBytes(bytes)     a write budget across the whole storage: appends and writeFileAtomic
//                                 succeed until `bytes` more bytes are written, then a write that does not
//                                 fit throws DISK_FULL and leaves the file exactly as before (the partial
//                                 write is truncated back and its bytes returned to the budget, as a real
//                                 disk frees them). `undefined` lifts it. freeBytes() reports what is left.
//   shortWrites(enabled = true)   appends go down in several small writes, through the same
//                                 write-until-done loop as FileStorage; invisible to the caller.
//   holdDatasyncs()               a slow disk: datasync() calls made until the returned release() is
//                                 called take effect as usual but do not settle before it, so a test
//                                 can hold writes in flight for as long as it needs, without timing.
//   crash({tornTailBytes, seed})  power loss: every file goes back to its durable length plus a prefix of
//                                 its unsynced bytes, at most `tornTailBytes` long (0 by default), whose
//                                 length a PRNG seeded with `seed` picks. Files open before the crash
//                                 throw STORAGE_ERROR on use (close() is allowed); open them again.
//   flipBit(path, position, bit)  flips one stored bit, in the written and the durable copy alike.
//   clearFaults()                 removes every fault.
// `stats` counts low-level writes and datasync calls, so tests can check that a loop ran or a group
// commit shared one sync.
import { assert } from "../assert.ts";
import { isSluiceError, SluiceError } from "../errors.ts";
import { seededRandom } from "../random.ts";
import { toStorageError } from "./file-storage.ts";
import type { DirEntry, Storage, StorageFile } from "./storage.ts";

export interface MemoryStorageFaults {
  /** How many of the next datasync() calls fail. */
  datasyncFailures: number;
  /** Bytes that may still be written before the disk is full; undefined means no limit. */
  diskBudgetBytes: number | undefined;
  shortWrites: boolean;
}

export interface MemoryStorageStats {
  /** Low-level writes: one per append without short writes, several with. */
  writeCalls: number;
  datasyncCalls: number;
}

export interface CrashOptions {
  /** Longest prefix of each file's unsynced bytes that may survive; 0 keeps only durable bytes. */
  tornTailBytes?: number;
  /** Seeds the PRNG that picks each torn length, so a crash is reproducible. */
  seed?: number;
}

interface FileNode {
  kind: "file";
  /** Backing array; only the first sizeBytes are file contents. */
  bytes: Uint8Array;
  sizeBytes: number;
  /** The first durableBytes of the file survive a crash. */
  durableBytes: number;
}

interface WriteRange {
  offset: number;
  length: number;
  position: number;
}

interface DirNode {
  kind: "dir";
  children: Map<string, FileNode | DirNode>;
}

type MemoryNode = FileNode | DirNode;

/** Seed of the PRNG that sizes short writes; a constant so runs repeat. */
const SHORT_WRITE_SEED = 0x5eed;

export class MemoryStorage implements Storage {
  readonly #device = new Device();
  readonly #root: DirNode = { kind: "dir", children: new Map() };

  get faults(): Readonly<MemoryStorageFaults> {
    return this.#device.faults;
  }

  get stats(): Readonly<MemoryStorageStats> {
    return this.#device.stats;
  }

  failDatasync(count = 1): void {
    assert(Number.isSafeInteger(count) && count >= 0, `failDatasync count must be >= 0, got ${count}`);
    this.#device.faults.datasyncFailures = count;
  }

  diskFullAfterBytes(bytes: number | undefined): void {
    assert(bytes === undefined || (Number.isSafeInteger(bytes) && bytes >= 0), `bad budget ${bytes}`);
    this.#device.faults.diskBudgetBytes = bytes;
  }

  shortWrites(enabled = true): void {
    this.#device.faults.shortWrites = enabled;
    this.#device.shortWriteRandom = seededRandom(SHORT_WRITE_SEED);
  }

  /** datasync() calls made from now on settle only once the returned function is called. */
  holdDatasyncs(): () => void {
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.#device.datasyncsHeldUntil = released;
    return () => {
      if (this.#device.datasyncsHeldUntil === released) this.#device.datasyncsHeldUntil = undefined;
      release();
    };
  }

  clearFaults(): void {
    this.failDatasync(0);
    this.diskFullAfterBytes(undefined);
    this.shortWrites(false);
  }

  crash(options: CrashOptions = {}): void {
    const tornTailBytes = options.tornTailBytes ?? 0;
    assert(Number.isSafeInteger(tornTailBytes) && tornTailBytes >= 0, `bad tornTailBytes ${tornTailBytes}`);
    const random = seededRandom(options.seed ?? 0);
    // Sorted paths, so the same seed tears the same files the same way whatever the creation order.
    for (const [, node] of [...walkFiles(this.#root, "")].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const unsyncedBytes = node.sizeBytes - node.durableBytes;
      const tornMax = Math.min(tornTailBytes, unsyncedBytes);
      const tornBytes = Math.floor(random() * (tornMax + 1));
      node.sizeBytes = node.durableBytes + tornBytes;
      node.bytes.fill(0, node.sizeBytes);
    }
    this.#device.generation += 1;
  }

  flipBit(path: string, bytePosition: number, bit: number): void {
    const node = this.#lookup(path);
    assert(node?.kind === "file", `flipBit: no file at ${path}`);
    assert(Number.isSafeInteger(bytePosition) && bytePosition >= 0 && bytePosition < node.sizeBytes);
    assert(Number.isInteger(bit) && bit >= 0 && bit < 8, `bit must be 0..7, got ${bit}`);
    node.bytes[bytePosition]! ^= 1 << bit;
  }

  /** Bytes of a file that would survive a crash, or undefined when it does not exist. */
  durableSizeOf(path: string): number | undefined {
    const node = this.#lookup(path);
    return node?.kind === "file" ? node.durableBytes : undefined;
  }

  open(path: string): StorageFile {
    const parts = splitPath(path);
    const parent = this.#parentDir(parts, "open", path);
    const name = parts.at(-1)!;
    let node = parent.children.get(name);
    if (node === undefined) {
      node = { kind: "file", bytes: new Uint8Array(0), sizeBytes: 0, durableBytes: 0 };
      parent.children.set(name, node);
    }
    if (node.kind === "dir") throw posixError("EISDIR", "open", path);
    return new MemoryFile(path, node, this.#device);
  }

  exists(path: string): boolean {
    return this.#lookup(path) !== undefined;
  }

  sizeOf(path: string): number | undefined {
    const node = this.#lookup(path);
    if (node === undefined) return undefined;
    return node.kind === "file" ? node.sizeBytes : 0;
  }

  mkdirp(path: string): void {
    let dir = this.#root;
    for (const part of splitPath(path)) {
      const child = dir.children.get(part);
      if (child === undefined) {
        const created: DirNode = { kind: "dir", children: new Map() };
        dir.children.set(part, created);
        dir = created;
      } else if (child.kind === "dir") {
        dir = child;
      } else {
        throw posixError("EEXIST", "create directory", path);
      }
    }
  }

  list(dirPath: string): DirEntry[] {
    const node = this.#lookup(dirPath);
    if (node === undefined) return [];
    if (node.kind === "file") throw posixError("ENOTDIR", "list", dirPath);
    return [...node.children]
      .map(([name, child]) => ({ name, isDirectory: child.kind === "dir" }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  remove(path: string): void {
    const parts = splitPath(path);
    assert(parts.length > 0, "refusing to remove the root");
    const parent = this.#lookupParts(parts.slice(0, -1));
    if (parent?.kind === "dir") parent.children.delete(parts.at(-1)!);
  }

  rename(fromPath: string, toPath: string): void {
    const fromParts = splitPath(fromPath);
    const toParts = splitPath(toPath);
    const fromParent = this.#lookupParts(fromParts.slice(0, -1));
    const node = fromParent?.kind === "dir" ? fromParent.children.get(fromParts.at(-1)!) : undefined;
    if (fromParent?.kind !== "dir" || node === undefined) throw posixError("ENOENT", "rename", fromPath);
    const toParent = this.#parentDir(toParts, "rename", fromPath);
    const toName = toParts.at(-1)!;
    if (toParts.join("/") === fromParts.join("/")) return;
    const isOwnSubtree = toParts.length > fromParts.length && fromParts.every((p, i) => toParts[i] === p);
    if (node.kind === "dir" && isOwnSubtree) throw posixError("EINVAL", "rename", fromPath);
    const target = toParent.children.get(toName);
    if (target?.kind === "dir" && node.kind === "file") throw posixError("EISDIR", "rename", fromPath);
    if (target?.kind === "file" && node.kind === "dir") throw posixError("ENOTDIR", "rename", fromPath);
    if (target?.kind === "dir" && target.children.size > 0) throw posixError("ENOTEMPTY", "rename", fromPath);
    fromParent.children.delete(fromParts.at(-1)!);
    toParent.children.set(toName, node);
  }

  readFile(path: string): Uint8Array | undefined {
    const node = this.#lookup(path);
    if (node === undefined) return undefined;
    if (node.kind === "dir") throw posixError("EISDIR", "read", path);
    return node.bytes.slice(0, node.sizeBytes);
  }

  writeFileAtomic(path: string, bytes: Uint8Array): void {
    // The same steps as FileStorage: a full temporary file, made durable, renamed over the target.
    const tmpPath = `${path}.tmp`;
    const target = this.#lookup(path);
    if (target?.kind === "dir") throw posixError("EISDIR", "write", path);
    const file = this.open(tmpPath) as MemoryFile;
    try {
      file.truncate(0);
      file.append(bytes);
      file.markDurable();
    } catch (error) {
      this.remove(tmpPath);
      if (isSluiceError(error, "DISK_FULL")) {
        throw new SluiceError("DISK_FULL", `no space left on device while trying to write ${path}`, {
          cause: error,
        });
      }
      throw error;
    } finally {
      file.close();
    }
    this.rename(tmpPath, path);
  }

  /** Directory entries are durable at once here (see the header), so there is nothing to sync. */
  syncDir(_dirPath: string): Promise<void> {
    return Promise.resolve();
  }

  freeBytes(_path: string): number | undefined {
    return this.#device.faults.diskBudgetBytes;
  }

  sliceForSend(path: string, startByte: number, endByte: number): Blob {
    const node = this.#lookup(path);
    if (node?.kind !== "file") throw posixError("ENOENT", "read", path);
    assert(0 <= startByte && startByte <= endByte && endByte <= node.sizeBytes, "slice past written bytes");
    return new Blob([node.bytes.slice(startByte, endByte)]);
  }

  #lookup(path: string): MemoryNode | undefined {
    return this.#lookupParts(splitPath(path));
  }

  #lookupParts(parts: string[]): MemoryNode | undefined {
    let node: MemoryNode = this.#root;
    for (const part of parts) {
      if (node.kind !== "dir") return undefined;
      const child: MemoryNode | undefined = node.children.get(part);
      if (child === undefined) return undefined;
      node = child;
    }
    return node;
  }

  /** The directory that holds the last part of `parts`, which must exist, as the OS requires. */
  #parentDir(parts: string[], action: string, path: string): DirNode {
    assert(parts.length > 0, `${action}: a path is required`);
    const parent = this.#lookupParts(parts.slice(0, -1));
    if (parent === undefined) throw posixError("ENOENT", action, path);
    if (parent.kind !== "dir") throw posixError("ENOTDIR", action, path);
    return parent;
  }
}

/** The simulated disk under every file: faults, counters and the crash generation. */
class Device {
  readonly faults: MemoryStorageFaults = {
    datasyncFailures: 0,
    diskBudgetBytes: undefined,
    shortWrites: false,
  };
  readonly stats: MemoryStorageStats = { writeCalls: 0, datasyncCalls: 0 };
  /** Set by holdDatasyncs(): datasyncs settle only after it resolves. */
  datasyncsHeldUntil: Promise<void> | undefined;
  /** Bumped by crash(); handles from an earlier generation belong to the process that died. */
  generation = 0;
  shortWriteRandom = seededRandom(SHORT_WRITE_SEED);

  /** Throws unless a handle opened in `generation` may still be used. */
  checkGeneration(generation: number, action: string, path: string): void {
    if (generation !== this.generation) {
      throw new SluiceError("STORAGE_ERROR", `could not ${action} ${path}: file handle lost in a crash`);
    }
  }

  /**
   * One low-level write, like writeSync: up to `length` bytes of `source` from `offset`, put at
   * `position`; returns how many went down. Short writes and the disk budget make it write less; with no
   * room at all it throws ENOSPC.
   */
  writeSome(node: FileNode, source: Uint8Array, range: WriteRange): number {
    this.stats.writeCalls += 1;
    let length = range.length;
    if (this.faults.shortWrites && length > 1) {
      length = 1 + Math.floor(this.shortWriteRandom() * Math.ceil(length / 2));
    }
    const budget = this.faults.diskBudgetBytes;
    if (budget !== undefined) {
      if (budget === 0 && length > 0) throw errnoError("ENOSPC", "no space left on device");
      length = Math.min(length, budget);
      this.faults.diskBudgetBytes = budget - length;
    }
    const end = range.position + length;
    ensureCapacity(node, end);
    node.bytes.set(source.subarray(range.offset, range.offset + length), range.position);
    node.sizeBytes = Math.max(node.sizeBytes, end);
    return length;
  }

  /** Gives back budget for bytes a failed append truncated away, as a real disk frees them. */
  refundBytes(bytes: number): void {
    if (this.faults.diskBudgetBytes !== undefined) this.faults.diskBudgetBytes += bytes;
  }

  /** Counts a datasync and consumes one injected failure, if any is pending. */
  takeDatasyncFailure(): boolean {
    this.stats.datasyncCalls += 1;
    if (this.faults.datasyncFailures === 0) return false;
    this.faults.datasyncFailures -= 1;
    return true;
  }
}

class MemoryFile implements StorageFile {
  #closed = false;
  readonly #node: FileNode;
  readonly #device: Device;
  readonly #generation: number;

  constructor(
    readonly path: string,
    node: FileNode,
    device: Device,
  ) {
    this.#node = node;
    this.#device = device;
    this.#generation = device.generation;
  }

  size(): number {
    this.#checkUsable("stat");
    return this.#node.sizeBytes;
  }

  append(bytes: Uint8Array): number {
    this.#checkUsable("append to");
    const position = this.#node.sizeBytes;
    let written = 0;
    try {
      // The loop FileStorage runs: a write may go down short, so keep going until all of it is down.
      while (written < bytes.length) {
        written += this.#device.writeSome(this.#node, bytes, {
          offset: written,
          length: bytes.length - written,
          position: position + written,
        });
      }
    } catch (error) {
      this.#undoPartialWrite(position);
      throw toStorageError(error, "append to", this.path);
    }
    return position;
  }

  /** As FileStorage does: cut back to where the append started, which frees the partial bytes. */
  #undoPartialWrite(position: number): void {
    this.#device.refundBytes(this.#node.sizeBytes - position);
    this.#node.sizeBytes = position;
    this.#node.bytes.fill(0, position);
  }

  readInto(position: number, target: Uint8Array): number {
    this.#checkUsable("read");
    assert(Number.isSafeInteger(position) && position >= 0, `bad read position ${position}`);
    const end = Math.min(this.#node.sizeBytes, position + target.length);
    if (end <= position) return 0;
    target.set(this.#node.bytes.subarray(position, end));
    return end - position;
  }

  truncate(sizeBytes: number): void {
    this.#checkUsable("truncate");
    assert(Number.isSafeInteger(sizeBytes) && sizeBytes >= 0, `bad truncate size ${sizeBytes}`);
    ensureCapacity(this.#node, sizeBytes);
    this.#node.bytes.fill(0, Math.min(sizeBytes, this.#node.sizeBytes));
    this.#node.sizeBytes = sizeBytes;
    // Shrinking is a metadata operation, durable at once (see the top of the file); growing adds zeros
    // that are durable only after a datasync.
    this.#node.durableBytes = Math.min(this.#node.durableBytes, sizeBytes);
  }

  async datasync(): Promise<void> {
    this.#checkUsable("fsync");
    const failed = this.#device.takeDatasyncFailure();
    if (!failed) this.markDurable();
    await this.#device.datasyncsHeldUntil;
    if (failed) {
      throw new SluiceError("STORAGE_ERROR", `could not fsync ${this.path}: injected datasync failure`);
    }
  }

  /** Makes every written byte durable; writeFileAtomic uses it for its fsync. */
  markDurable(): void {
    this.#node.durableBytes = this.#node.sizeBytes;
  }

  close(): void {
    this.#closed = true;
  }

  #checkUsable(action: string): void {
    assert(!this.#closed, `${action} ${this.path}: the file is closed`);
    this.#device.checkGeneration(this.#generation, action, this.path);
  }
}

/** Path parts from "/"; "." and empty parts drop out and ".." climbs, as the OS resolves them. */
function splitPath(path: string): string[] {
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return parts;
}

function* walkFiles(dir: DirNode, prefix: string): Generator<[string, FileNode]> {
  for (const [name, child] of dir.children) {
    const path = `${prefix}/${name}`;
    if (child.kind === "file") yield [path, child];
    else yield* walkFiles(child, path);
  }
}

function ensureCapacity(node: FileNode, sizeBytes: number): void {
  if (sizeBytes <= node.bytes.length) return;
  const grown = new Uint8Array(Math.max(sizeBytes, node.bytes.length * 2, 64));
  grown.set(node.bytes.subarray(0, node.sizeBytes));
  node.bytes = grown;
}

/** An Error shaped like the one node:fs throws, with its errno code. */
function errnoError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

/** The SluiceError FileStorage makes from the same OS error. */
function posixError(code: string, action: string, path: string): SluiceError {
  return toStorageError(errnoError(code, `${action} '${path}'`), action, path);
}
