// Storage on real files: node:fs for appends and reads (synchronous, into the page cache, as Kafka's
// append is), fdatasync on libuv's thread pool so a group commit never blocks the event loop, and
// Bun.file slices for zero-copy sends.
import * as fs from "node:fs";
import { dirname } from "node:path";
import { assert } from "../assert.ts";
import { SluiceError } from "../errors.ts";
import type { DirEntry, Storage, StorageFile } from "./storage.ts";

export function toStorageError(error: unknown, action: string, path: string): SluiceError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ENOSPC" || code === "EDQUOT") {
    return new SluiceError("DISK_FULL", `no space left on device while trying to ${action} ${path}`, {
      cause: error,
    });
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new SluiceError("STORAGE_ERROR", `could not ${action} ${path}: ${reason}`, { cause: error });
}

class FileHandleFile implements StorageFile {
  #fd: number;
  #sizeBytes: number;
  #closed = false;

  constructor(readonly path: string) {
    try {
      // Read-write without O_APPEND: Linux ignores the position of a pwrite on an O_APPEND descriptor and
      // writes at the end, so after a failed undo of a partial write the bytes would land after the torn
      // ones while append() returned the position it meant. Without it, bytes go where we say they go.
      this.#fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_CREAT);
      this.#sizeBytes = fs.fstatSync(this.#fd).size;
    } catch (error) {
      throw toStorageError(error, "open", path);
    }
  }

  size(): number {
    this.#assertOpen();
    return this.#sizeBytes;
  }

  append(bytes: Uint8Array): number {
    this.#assertOpen();
    const position = this.#sizeBytes;
    let written = 0;
    try {
      // writeSync may write less than asked (a short write); keep going until all of it is down.
      while (written < bytes.length) {
        written += fs.writeSync(this.#fd, bytes, written, bytes.length - written, position + written);
      }
    } catch (error) {
      this.#undoPartialWrite(position, written);
      throw toStorageError(error, "append to", this.path);
    }
    this.#sizeBytes += bytes.length;
    return position;
  }

  /** A failed append must not leave half a batch behind: cut back to where it started. */
  #undoPartialWrite(position: number, written: number): void {
    if (written === 0) return;
    try {
      fs.ftruncateSync(this.#fd, position);
    } catch {
      // Recovery on the next open truncates a torn tail; nothing more can be done here.
    }
  }

  readInto(position: number, target: Uint8Array): number {
    this.#assertOpen();
    let total = 0;
    try {
      while (total < target.length) {
        const n = fs.readSync(this.#fd, target, total, target.length - total, position + total);
        if (n === 0) break;
        total += n;
      }
    } catch (error) {
      throw toStorageError(error, "read", this.path);
    }
    return total;
  }

  truncate(sizeBytes: number): void {
    this.#assertOpen();
    try {
      fs.ftruncateSync(this.#fd, sizeBytes);
    } catch (error) {
      throw toStorageError(error, "truncate", this.path);
    }
    this.#sizeBytes = sizeBytes;
  }

  datasync(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#assertOpen();
      fs.fdatasync(this.#fd, (error) =>
        error ? reject(toStorageError(error, "fsync", this.path)) : resolve(),
      );
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    fs.closeSync(this.#fd);
  }

  /** After close the descriptor number may already belong to another file: using it would write there. */
  #assertOpen(): void {
    assert(!this.#closed, `${this.path}: the file is closed`);
  }
}

export class FileStorage implements Storage {
  open(path: string): StorageFile {
    return new FileHandleFile(path);
  }

  exists(path: string): boolean {
    return fs.existsSync(path);
  }

  sizeOf(path: string): number | undefined {
    try {
      return fs.statSync(path).size;
    } catch {
      return undefined;
    }
  }

  mkdirp(path: string): void {
    try {
      fs.mkdirSync(path, { recursive: true });
    } catch (error) {
      throw toStorageError(error, "create directory", path);
    }
  }

  list(dirPath: string): DirEntry[] {
    try {
      return fs
        .readdirSync(dirPath, { withFileTypes: true })
        .map((entry) => ({ name: entry.name, isDirectory: entry.isDirectory() }));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw toStorageError(error, "list", dirPath);
    }
  }

  remove(path: string): void {
    try {
      fs.rmSync(path, { recursive: true, force: true });
    } catch (error) {
      throw toStorageError(error, "remove", path);
    }
  }

  rename(fromPath: string, toPath: string): void {
    try {
      fs.renameSync(fromPath, toPath);
    } catch (error) {
      throw toStorageError(error, "rename", fromPath);
    }
  }

  readFile(path: string): Uint8Array | undefined {
    try {
      return fs.readFileSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw toStorageError(error, "read", path);
    }
  }

  writeFileAtomic(path: string, bytes: Uint8Array): void {
    const tmpPath = `${path}.tmp`;
    try {
      const fd = fs.openSync(tmpPath, "w");
      try {
        fs.writeFileSync(fd, bytes);
        fs.fdatasyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmpPath, path);
      syncDirectory(dirname(path));
    } catch (error) {
      fs.rmSync(tmpPath, { force: true });
      throw toStorageError(error, "write", path);
    }
  }

  syncDir(dirPath: string): Promise<void> {
    return new Promise((resolve, reject) => {
      fs.open(dirPath, "r", (openError, fd) => {
        if (openError) return reject(toStorageError(openError, "open directory", dirPath));
        fs.fsync(fd, (syncError) => {
          fs.close(fd, () =>
            syncError ? reject(toStorageError(syncError, "fsync directory", dirPath)) : resolve(),
          );
        });
      });
    });
  }

  freeBytes(path: string): number | undefined {
    try {
      const stats = fs.statfsSync(path);
      return stats.bavail * stats.bsize;
    } catch {
      return undefined;
    }
  }

  sliceForSend(path: string, startByte: number, endByte: number): Blob {
    return Bun.file(path).slice(startByte, endByte);
  }
}

/** A rename is durable only once its directory is synced. */
function syncDirectory(dirPath: string): void {
  const fd = fs.openSync(dirPath, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
