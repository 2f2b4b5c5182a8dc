// A storage that reads a real directory tree and never writes to it: every change (append, truncate,
// rename, remove, new file) lands in memory on top of the files. `sluice check` runs the log's own
// recovery over it to learn what recovery would do, with the data directory left exactly as it was.
// Truncating a file costs nothing (the visible length shrinks); only appended bytes take memory.
import * as fs from "node:fs";
import { assert } from "../assert.ts";
import { toStorageError } from "./file-storage.ts";
import type { DirEntry, Storage, StorageFile } from "./storage.ts";

class OverlayFile implements StorageFile {
  /** Bytes of the real file still visible (a truncate may hide its tail). */
  #baseBytes: number;
  /** Bytes appended in memory after the visible base. */
  #tail = new Uint8Array(0);
  #tailBytes = 0;

  constructor(
    readonly path: string,
    /** The real file underneath, opened read-only; undefined for a file made in memory. */
    readonly baseFd: number | undefined,
  ) {
    this.#baseBytes = baseFd === undefined ? 0 : fs.fstatSync(baseFd).size;
  }

  size(): number {
    return this.#baseBytes + this.#tailBytes;
  }

  append(bytes: Uint8Array): number {
    const position = this.size();
    if (this.#tailBytes + bytes.length > this.#tail.length) {
      const grown = new Uint8Array(Math.max(this.#tail.length * 2, this.#tailBytes + bytes.length));
      grown.set(this.#tail.subarray(0, this.#tailBytes));
      this.#tail = grown;
    }
    this.#tail.set(bytes, this.#tailBytes);
    this.#tailBytes += bytes.length;
    return position;
  }

  readInto(position: number, target: Uint8Array): number {
    const end = Math.min(position + target.length, this.size());
    let read = 0;
    try {
      while (position + read < Math.min(end, this.#baseBytes)) {
        const want = Math.min(end, this.#baseBytes) - (position + read);
        const n = fs.readSync(this.baseFd!, target, read, want, position + read);
        if (n === 0) break;
        read += n;
      }
    } catch (error) {
      throw toStorageError(error, "read", this.path);
    }
    if (position + read >= this.#baseBytes && position + read < end) {
      const from = position + read - this.#baseBytes;
      const length = end - (position + read);
      target.set(this.#tail.subarray(from, from + length), read);
      read += length;
    }
    return read;
  }

  truncate(sizeBytes: number): void {
    if (sizeBytes <= this.#baseBytes) {
      this.#baseBytes = sizeBytes;
      this.#tailBytes = 0;
    } else {
      this.#tailBytes = Math.min(this.#tailBytes, sizeBytes - this.#baseBytes);
    }
  }

  datasync(): Promise<void> {
    return Promise.resolve();
  }

  close(): void {
    // The real descriptor stays open for other handles of the same path; closeAll() releases it.
  }

  contents(): Uint8Array {
    const bytes = new Uint8Array(this.size());
    this.readInto(0, bytes);
    return bytes;
  }
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash <= 0 ? (slash === 0 ? "/" : ".") : path.slice(0, slash);
}

function nameOf(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

export class OverlayStorage implements Storage {
  /** Files opened or made through the overlay, by path: their view wins over the disk. */
  readonly #files = new Map<string, OverlayFile>();
  readonly #dirs = new Set<string>();
  /** Paths removed (whole trees): the disk below them is hidden unless made again in memory. */
  readonly #removed = new Set<string>();
  readonly #fds: number[] = [];

  #isHidden(path: string): boolean {
    for (let p = path; ; p = parentOf(p)) {
      if (this.#removed.has(p)) return true;
      if (p === parentOf(p)) return false;
    }
  }

  #onDisk(path: string): boolean {
    return !this.#isHidden(path) && fs.existsSync(path);
  }

  open(path: string): StorageFile {
    let file = this.#files.get(path);
    if (file === undefined) {
      let fd: number | undefined;
      if (this.#onDisk(path)) {
        try {
          fd = fs.openSync(path, "r");
        } catch (error) {
          throw toStorageError(error, "open", path);
        }
        this.#fds.push(fd);
      }
      file = new OverlayFile(path, fd);
      this.#files.set(path, file);
    }
    return file;
  }

  exists(path: string): boolean {
    return this.#files.has(path) || this.#dirs.has(path) || this.#onDisk(path);
  }

  sizeOf(path: string): number | undefined {
    const file = this.#files.get(path);
    if (file !== undefined) return file.size();
    if (!this.#onDisk(path)) return undefined;
    return fs.statSync(path).size;
  }

  mkdirp(path: string): void {
    for (let p = path; !this.exists(p); p = parentOf(p)) this.#dirs.add(p);
  }

  list(dirPath: string): DirEntry[] {
    const entries = new Map<string, DirEntry>();
    if (this.#onDisk(dirPath)) {
      for (const entry of fs.readdirSync(dirPath, { withFileTypes: true })) {
        const path = `${dirPath}/${entry.name}`;
        if (!this.#isHidden(path))
          entries.set(entry.name, { name: entry.name, isDirectory: entry.isDirectory() });
      }
    }
    for (const path of this.#files.keys()) {
      if (parentOf(path) === dirPath) entries.set(nameOf(path), { name: nameOf(path), isDirectory: false });
    }
    for (const path of this.#dirs) {
      if (parentOf(path) === dirPath) entries.set(nameOf(path), { name: nameOf(path), isDirectory: true });
    }
    return [...entries.values()];
  }

  remove(path: string): void {
    for (const key of [...this.#files.keys()])
      if (key === path || key.startsWith(`${path}/`)) this.#files.delete(key);
    for (const key of [...this.#dirs]) if (key === path || key.startsWith(`${path}/`)) this.#dirs.delete(key);
    this.#removed.add(path);
  }

  rename(fromPath: string, toPath: string): void {
    const file = this.open(fromPath) as OverlayFile;
    const moved = new OverlayFile(toPath, undefined);
    moved.append(file.contents());
    this.remove(fromPath);
    this.remove(toPath);
    this.#removed.delete(toPath);
    this.#files.set(toPath, moved);
  }

  readFile(path: string): Uint8Array | undefined {
    const file = this.#files.get(path);
    if (file !== undefined) return file.contents();
    if (!this.#onDisk(path)) return undefined;
    try {
      return fs.readFileSync(path);
    } catch (error) {
      throw toStorageError(error, "read", path);
    }
  }

  writeFileAtomic(path: string, bytes: Uint8Array): void {
    const file = new OverlayFile(path, undefined);
    file.append(bytes);
    this.#removed.delete(path);
    this.#files.set(path, file);
  }

  syncDir(): Promise<void> {
    return Promise.resolve();
  }

  freeBytes(): number | undefined {
    return undefined;
  }

  sliceForSend(path: string): Blob {
    assert(false, `${path}: an overlay storage serves no one`);
    throw new Error("unreachable");
  }

  /** Paths a caller removed or replaced: what the same work would have changed on disk. */
  removedPaths(): string[] {
    return [...this.#removed].sort();
  }

  /** Releases the read-only descriptors. */
  closeAll(): void {
    for (const fd of this.#fds.splice(0)) fs.closeSync(fd);
  }
}
