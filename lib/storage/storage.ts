// The one I/O boundary. The log engine takes a Storage and never touches node:fs or Bun directly, so a
// fault-injecting in-memory storage (memory-storage.ts) can run the same tests as the real files.
//
// Errors: implementations throw SluiceError DISK_FULL when the device is full and STORAGE_ERROR for
// any other failure, with the OS error as the cause. Appends are all-or-nothing from the caller's
// view: after a failed append the file is truncated back to its previous size when possible.

export interface StorageFile {
  readonly path: string;
  /** Bytes in the file, including bytes written but not yet synced. */
  size(): number;
  /** Appends all of `bytes` at the end and returns the position they start at. */
  append(bytes: Uint8Array): number;
  /** Reads up to `target.length` bytes at `position`; returns how many were read (fewer at EOF). */
  readInto(position: number, target: Uint8Array): number;
  /** Cuts the file to `sizeBytes`. */
  truncate(sizeBytes: number): void;
  /** Makes everything written so far durable (fdatasync); resolves once it is. */
  datasync(): Promise<void>;
  close(): void;
}

export interface DirEntry {
  name: string;
  isDirectory: boolean;
}

export interface Storage {
  /** Opens a file for reading and appending, creating it when missing. */
  open(path: string): StorageFile;
  exists(path: string): boolean;
  /** Size in bytes of a file, or undefined when it does not exist. */
  sizeOf(path: string): number | undefined;
  mkdirp(path: string): void;
  list(dirPath: string): DirEntry[];
  /** Removes a file or a whole directory tree; missing paths are fine. */
  remove(path: string): void;
  rename(fromPath: string, toPath: string): void;
  /** Whole file contents, or undefined when it does not exist. */
  readFile(path: string): Uint8Array | undefined;
  /** Replaces a file atomically: write a temporary file, fsync it, rename it over, fsync the directory. */
  writeFileAtomic(path: string, bytes: Uint8Array): void;
  /**
   * Makes a directory's entries durable (fsync of the directory): a new segment file survives a
   * power loss only once the directory that names it is synced.
   */
  syncDir(dirPath: string): Promise<void>;
  /** Free bytes on the device holding `path`, when the platform can tell. */
  freeBytes(path: string): number | undefined;
  /**
   * A range of a file as a Blob that an HTTP response can send without copying through JavaScript
   * (Bun sends a file-backed Blob with sendfile(2)). The range must already be written.
   */
  sliceForSend(path: string, startByte: number, endByte: number): Blob;
}

/** Joins path parts with "/"; storage paths are always POSIX-style. */
export function joinPath(...parts: string[]): string {
  return parts.join("/").replace(/\/+/g, "/");
}
