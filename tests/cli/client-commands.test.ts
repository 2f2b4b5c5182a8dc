// The client commands against a real node in its own process: topics, produce, consume, groups,
// with the exit codes scripts rely on (4 not found, 5 conflict, 3 unreachable, 2 bad usage).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { NodeProcess, runSluice, tempDir } from "./helpers.ts";

let dir: ReturnType<typeof tempDir>;
let node: NodeProcess;
const sluice = (args: string[], stdin?: string) =>
  runSluice(
    args,
    stdin === undefined ? { env: { SLUICE_URL: node.url } } : { env: { SLUICE_URL: node.url }, stdin },
  );

beforeAll(async () => {
  dir = tempDir("client");
  node = await NodeProcess.start(dir.path);
});

afterAll(async () => {
  await node.stop();
  dir[Symbol.dispose]();
});

describe("sluice topics", () => {
  test("create, list, describe, alter and delete a topic; a second create exits 5, a missing topic 4", async () => {
    expect(
      (await sluice(["topics", "create", "orders", "--partitions", "3", "--config", "retention.ms=3600000"]))
        .exitCode,
    ).toBe(0);
    const again = await sluice(["topics", "create", "orders"]);
    expect(again.exitCode).toBe(5);
    expect(again.stderr).toContain("already exists");

    const list = await sluice(["topics", "list", "--json"]);
    expect(JSON.parse(list.stdout)).toContainEqual({ name: "orders", partitions: 3, sizeBytes: 0 });
    expect((await sluice(["topics", "list"])).stdout).toMatch(/^orders\s+3\s+0 B$/m);

    expect((await sluice(["topics", "alter", "orders", "--config", "retention.ms=1000"])).exitCode).toBe(0);
    const described = JSON.parse((await sluice(["topics", "describe", "orders", "--json"])).stdout);
    expect(described.config["retention.ms"]).toBe(1000);
    expect(described.partitions).toHaveLength(3);
    expect((await sluice(["topics", "alter", "orders", "--reset", "retention.ms"])).exitCode).toBe(0);
    const reset = JSON.parse((await sluice(["topics", "describe", "orders", "--json"])).stdout);
    expect(reset.config["retention.ms"]).toBe(604_800_000);

    expect((await sluice(["topics", "delete", "orders"])).exitCode).toBe(0);
    expect((await sluice(["topics", "describe", "orders"])).exitCode).toBe(4);
  });

  test("a bad topic config is the node's 400: exit 1 with its message; a bad flag exits 2", async () => {
    const bad = await sluice(["topics", "create", "x", "--config", "retention.ms=soon"]);
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toContain("retention.ms");
    expect((await sluice(["topics", "create", "x", "--partitions", "zero"])).exitCode).toBe(2);
    expect((await sluice(["topics", "explode"])).exitCode).toBe(2);
  });

  test("a node that is not there exits 3", async () => {
    const result = await runSluice(["topics", "list", "--url", "http://127.0.0.1:1"]);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain("is the node running");
  });
});

describe("sluice produce and consume", () => {
  test("lines from stdin with keys come back in JSON and raw output, per partition in order", async () => {
    expect((await sluice(["topics", "create", "lines", "--partitions", "2"])).exitCode).toBe(0);
    const lines = Array.from({ length: 200 }, (_, i) => `key-${i % 7}\t{"n":${i}}`);
    const produced = await sluice(["produce", "lines", "--key-separator", "\t"], `${lines.join("\n")}\n`);
    expect(produced.exitCode).toBe(0);
    expect(produced.stdout).toBe("");
    expect(produced.stderr).toBe(""); // not a terminal: no progress

    const consumed = await sluice(["consume", "lines"]);
    expect(consumed.exitCode).toBe(0);
    const records = consumed.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(records).toHaveLength(200);
    for (const partition of [0, 1]) {
      const mine = records.filter((r) => r.partition === partition);
      expect(mine.map((r) => r.offset)).toEqual(mine.map((_, i) => i));
      const ns = mine.map((r) => r.value.n);
      expect(ns).toEqual([...ns].sort((a, b) => a - b)); // a key's records keep their order
    }
    // Same key, same partition.
    for (const key of new Set(records.map((r) => r.key))) {
      expect(new Set(records.filter((r) => r.key === key).map((r) => r.partition)).size).toBe(1);
    }
    const raw = await sluice([
      "consume",
      "lines",
      "--format",
      "raw",
      "--partition",
      "0",
      "--key-separator",
      "=",
    ]);
    const rawLines = raw.stdout.trim().split("\n");
    expect(rawLines).toHaveLength(records.filter((r) => r.partition === 0).length);
    expect(rawLines[0]).toMatch(/^key-\d={"n":\d+}$/);
  });

  test("--file, --from an offset or a time, --max-records, and latest without --follow prints nothing", async () => {
    expect((await sluice(["topics", "create", "numbers"])).exitCode).toBe(0);
    using files = tempDir("client-file");
    const file = join(files.path, "in.txt");
    writeFileSync(file, `${Array.from({ length: 50 }, (_, i) => String(i)).join("\n")}\n`);
    expect((await sluice(["produce", "numbers", "--file", file])).exitCode).toBe(0);
    const values = async (args: string[]) =>
      (await sluice(["consume", "numbers", "--format", "raw", ...args])).stdout.split("\n").filter(Boolean);
    expect(await values([])).toHaveLength(50);
    expect(await values(["--from", "45"])).toEqual(["45", "46", "47", "48", "49"]);
    expect(await values(["--from", "10", "--max-records", "3"])).toEqual(["10", "11", "12"]);
    expect(await values(["--from", "latest"])).toEqual([]);
    expect(await values(["--from", `@${Date.now() + 60_000}`])).toEqual([]);
    expect(await values(["--from", new Date(Date.now() - 60_000).toISOString()])).toHaveLength(50);
    expect((await sluice(["consume", "numbers", "--from", "yesterday"])).exitCode).toBe(2);
    expect((await sluice(["consume", "missing"])).exitCode).toBe(4);
    expect((await sluice(["produce", "missing"], "x\n")).exitCode).toBe(4);
  });

  test("--follow prints records produced after it started and stops cleanly on SIGTERM", async () => {
    expect((await sluice(["topics", "create", "live"])).exitCode).toBe(0);
    const follower = Bun.spawn(
      [process.execPath, "main.ts", "consume", "live", "--follow", "--format", "raw", "--url", node.url],
      {
        cwd: join(import.meta.dir, "..", ".."),
        stdout: "pipe",
        stderr: "pipe",
      },
    );
    await Bun.sleep(700); // connected and subscribed; nothing to print yet
    expect((await sluice(["produce", "live"], "one\ntwo\n")).exitCode).toBe(0);
    const reader = follower.stdout.getReader();
    let seen = "";
    const decoder = new TextDecoder();
    for (let i = 0; i < 50 && !seen.includes("two\n"); i++) {
      const chunk = await reader.read();
      if (chunk.done) break;
      seen += decoder.decode(chunk.value);
    }
    expect(seen).toBe("one\ntwo\n");
    follower.kill("SIGTERM");
    expect(await follower.exited).toBe(0);
  });
});

describe("sluice groups", () => {
  test("list, describe and reset a group's committed offsets; a missing group exits 4", async () => {
    expect((await sluice(["topics", "create", "g-topic", "--partitions", "2"])).exitCode).toBe(0);
    expect((await sluice(["produce", "g-topic", "--partition", "1"], "a\nb\nc\n")).exitCode).toBe(0);
    const reset = await sluice(["groups", "reset", "readers", "--topic", "g-topic", "--to", "latest"]);
    expect(reset.exitCode).toBe(0);
    expect(reset.stdout).toMatch(/^g-topic\s+1\s+3$/m);
    const listed = JSON.parse((await sluice(["groups", "list", "--json"])).stdout);
    expect(listed.map((g: { group: string }) => g.group)).toContain("readers");
    const described = JSON.parse((await sluice(["groups", "describe", "readers", "--json"])).stdout);
    expect(described.partitions).toContainEqual(
      expect.objectContaining({ partition: 1, committedOffset: 3, lag: 0 }),
    );
    const back = await sluice([
      "groups",
      "reset",
      "readers",
      "--topic",
      "g-topic",
      "--to",
      "1",
      "--partitions",
      "1",
    ]);
    expect(back.stdout).toMatch(/^g-topic\s+1\s+1$/m);
    expect((await sluice(["groups", "describe", "readers"])).stdout).toMatch(/g-topic\s+1\s+-\s+1\s+3\s+2/);
    expect((await sluice(["groups", "describe", "nobody"])).exitCode).toBe(4);
    expect((await sluice(["groups", "reset", "readers", "--topic", "g-topic"])).exitCode).toBe(2);
  });
});
