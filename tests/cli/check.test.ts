// `sluice check` on data directories a real node wrote, then damaged by hand: a corrupt tail, an index
// pointing at the wrong place, a torn index. It must find each, exit 6, and change no byte.
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { NodeProcess, postJson, runSluice, tempDir } from "./helpers.ts";

const RECORDS = 60;
const PARTITION_DIR = "t-0";

/** A stopped node's data dir: topic t, one partition, several small segments, an index entry per batch. */
async function writeDataDir(dataDir: string): Promise<void> {
  await using node = await NodeProcess.start(dataDir);
  const created = await postJson(`${node.url}/api/v1/topics`, {
    name: "t",
    partitions: 1,
    config: { "index.interval.bytes": 0, "segment.bytes": 1024 },
  });
  expect(created.status).toBe(201);
  for (let i = 0; i < RECORDS; i++) {
    const answer = await postJson(`${node.url}/api/v1/topics/t/records`, {
      records: [{ key: `k${i}`, value: { i, padding: "x".repeat(40) }, timestamp: 1_700_000_000_000 + i }],
    });
    expect(answer.status).toBe(200);
  }
  expect(await node.stop()).toBe(0);
}

/** Every file under dir with its size, mtime and content hash. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, name);
    const stat = statSync(path);
    if (!stat.isFile()) continue;
    const hash = createHash("sha1").update(readFileSync(path)).digest("hex");
    files[name] = `${stat.size} ${stat.mtimeMs} ${hash}`;
  }
  return files;
}

function segmentFiles(dataDir: string, suffix: string): string[] {
  return readdirSync(join(dataDir, PARTITION_DIR))
    .filter((name) => name.endsWith(suffix))
    .sort()
    .map((name) => join(dataDir, PARTITION_DIR, name));
}

/** Byte positions of the batches in a .log (each starts with int64 baseOffset, int32 length). */
function batchPositions(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const positions: number[] = [];
  for (let position = 0; position + 12 <= bytes.length; position += 12 + view.getInt32(position + 8))
    positions.push(position);
  return positions;
}

async function check(dataDir: string) {
  const result = await runSluice(["check", "--data-dir", dataDir, "--json"]);
  return { exitCode: result.exitCode, report: JSON.parse(result.stdout), stderr: result.stderr };
}

describe("sluice check", () => {
  test("a data dir after a clean stop checks OK: every batch read, nothing to recover, exit 0", async () => {
    using dir = tempDir("check");
    await writeDataDir(dir.path);
    const { exitCode, report } = await check(dir.path);
    expect(exitCode).toBe(0);
    expect(report).toMatchObject({ topics: 1, partitions: 1, batches: RECORDS, damaged: false });
    expect(report.segments).toBeGreaterThan(1);
    expect(report.recovery).toMatchObject({ cleanShutdown: true, segmentsScanned: 0, truncatedBytes: 0 });
    const text = await runSluice(["check", "--data-dir", dir.path]);
    expect(text.stdout).toContain("result: OK");
  });

  test("a corrupt batch in the tail is found by its CRC, recovery's cut is forecast, and no file changes", async () => {
    using dir = tempDir("check");
    await writeDataDir(dir.path);
    const lastLog = segmentFiles(dir.path, ".log").at(-1)!;
    const bytes = readFileSync(lastLog);
    const lastBatch = batchPositions(bytes).at(-1)!;
    bytes[bytes.length - 3]! ^= 0xff; // inside the last record's value: only the CRC can tell
    writeFileSync(lastLog, bytes);
    // As after a crash: no clean-shutdown marker, so the next start recovers the tail.
    rmSync(join(dir.path, ".kafka_cleanshutdown"));
    const before = snapshot(dir.path);

    const { exitCode, report } = await check(dir.path);
    expect(exitCode).toBe(6);
    expect(report.damaged).toBe(true);
    const damage = report.findings.filter((f: { severity: string }) => f.severity === "damage");
    expect(damage).toHaveLength(1);
    expect(damage[0].file).toBe(`${PARTITION_DIR}/${lastLog.split("/").at(-1)}`);
    expect(damage[0].message).toContain(`CRC-32C mismatch in batch at byte ${lastBatch}`);
    expect(report.recovery.cleanShutdown).toBe(false);
    expect(report.recovery.truncatedBytes).toBe(bytes.length - lastBatch);
    expect(report.batches).toBe(RECORDS - 1);
    expect(snapshot(dir.path)).toEqual(before);

    const text = await runSluice(["check", "--data-dir", dir.path]);
    expect(text.exitCode).toBe(6);
    expect(text.stdout).toContain(`would truncate ${bytes.length - lastBatch} bytes`);
    expect(text.stdout).toContain("result: DAMAGED");

    // The forecast is what the node's recovery then does.
    await using node = await NodeProcess.start(dir.path);
    const opened = node.logs.find((line) => line.msg === "data directory opened");
    expect(opened?.truncatedBytes).toBe(report.recovery.truncatedBytes);
    expect(await node.stop()).toBe(0);
    expect((await check(dir.path)).exitCode).toBe(0);
  });

  test("an index entry pointing inside a batch, and a torn index, are damage; the logs are still whole", async () => {
    using dir = tempDir("check");
    await writeDataDir(dir.path);
    const [firstIndex, secondIndex] = segmentFiles(dir.path, ".index");
    // Entry 1 keeps its order (so the load-time sanity check passes) but points one byte into a batch.
    const index = readFileSync(firstIndex!);
    const view = new DataView(index.buffer, index.byteOffset, index.byteLength);
    expect(index.length).toBeGreaterThanOrEqual(16);
    view.setInt32(8 + 4, view.getInt32(8 + 4) + 1);
    writeFileSync(firstIndex!, index);
    // A torn index: not a whole number of 8-byte entries.
    writeFileSync(secondIndex!, readFileSync(secondIndex!).subarray(0, 11));
    const before = snapshot(dir.path);

    const { exitCode, report } = await check(dir.path);
    expect(exitCode).toBe(6);
    const messages = report.findings.map((f: { file: string; message: string }) => `${f.file}: ${f.message}`);
    expect(messages).toHaveLength(2);
    expect(messages[0]).toContain("entry 1 says offset");
    expect(messages[0]).toContain("no valid batch starts there");
    expect(messages[1]).toContain("fails the sanity check");
    expect(report.batches).toBe(RECORDS);
    // After a clean stop the node trusts the segments but still rebuilds indexes that fail their check.
    expect(report.recovery.rebuiltIndexes).toBe(1);
    expect(snapshot(dir.path)).toEqual(before);
  });

  test("a directory that does not exist is a usage error (exit 2)", async () => {
    using dir = tempDir("check");
    const result = await runSluice(["check", "--data-dir", join(dir.path, "missing")]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("is not a directory");
  });
});
