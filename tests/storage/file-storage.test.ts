import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileStorage } from "../../lib/storage/file-storage.ts";

test("an appended file reads back what was written", () => {
  const dir = mkdtempSync(join(tmpdir(), "sluice-"));
  try {
    const storage = new FileStorage();
    const file = storage.open(join(dir, "a.log"));
    expect(file.append(new Uint8Array([1, 2, 3]))).toBe(0);
    expect(file.append(new Uint8Array([4]))).toBe(3);
    const target = new Uint8Array(8);
    expect(file.readInto(1, target)).toBe(3);
    expect([...target.subarray(0, 3)]).toEqual([2, 3, 4]);
    file.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
