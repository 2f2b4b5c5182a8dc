// `sluice consume --group` as users run it: CLI processes against a node in its own process. Two
// followers split the partitions and print each record once; what they printed is committed and shows
// in `sluice groups describe`; a run without --follow reads to the end, commits, and the next run of
// the same group starts there.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SluiceAdmin } from "../../lib/client/admin.ts";
import { eventually } from "../ws/helpers.ts";
import { BUN_MAIN, NodeProcess, REPO_ROOT, runSluice, tempDir } from "./helpers.ts";

let dir: ReturnType<typeof tempDir>;
let node: NodeProcess;
let admin: SluiceAdmin;
const sluice = (args: string[], stdin?: string) =>
  runSluice(args, { env: { SLUICE_URL: node.url }, ...(stdin === undefined ? {} : { stdin }) });

beforeAll(async () => {
  dir = tempDir("consume-group");
  // No initial rebalance delay: each consumer's first join answers at once.
  node = await NodeProcess.start(dir.path, { args: ["--group-initial-rebalance-delay-ms", "0"] });
  admin = new SluiceAdmin({ baseUrl: node.url });
});
afterAll(async () => {
  await node.stop();
  dir[Symbol.dispose]();
});

interface Printed {
  partition: number;
  offset: number;
  value: string;
}

/** `sluice consume ... --follow` running, its stdout gathered as it comes. */
class Follower {
  readonly proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  text = "";
  readonly #reading: Promise<void>;

  constructor(args: string[]) {
    const proc = Bun.spawn([...BUN_MAIN, "consume", ...args, "--follow", "--url", node.url], {
      cwd: REPO_ROOT,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    this.proc = proc;
    this.#reading = (async () => {
      const decoder = new TextDecoder();
      const reader = proc.stdout.getReader();
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
        this.text += decoder.decode(chunk.value, { stream: true });
    })();
  }

  get printed(): Printed[] {
    return this.text
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Printed);
  }

  async stop(): Promise<{ exitCode: number; stderr: string }> {
    this.proc.kill("SIGTERM");
    const exitCode = await this.proc.exited;
    await this.#reading;
    return { exitCode, stderr: await new Response(this.proc.stderr).text() };
  }

  kill(): void {
    if (this.proc.exitCode === null) this.proc.kill("SIGKILL");
  }
}

describe("sluice consume --group", () => {
  test("two consumers split the partitions, print each record once, and their commits show in groups describe", async () => {
    const topic = "cg-split";
    const group = "cg-split-readers";
    const partitions = 4;
    expect((await sluice(["topics", "create", topic, "--partitions", String(partitions)])).exitCode).toBe(0);
    const followers = [new Follower([topic, "--group", group]), new Follower([topic, "--group", group])];
    try {
      await eventually(async () => {
        const groups = await admin.listGroups();
        if (!groups.some((g) => g.group === group)) return false;
        const described = await admin.describeGroup(group);
        return (
          described.state === "Stable" &&
          described.members.length === 2 &&
          described.members.every((m) => m.assignment.flatMap((a) => a.partitions).length === partitions / 2)
        );
      }, 15_000);
      const lines = Array.from({ length: 100 }, (_, i) => `v${i}`).join("\n");
      // Keys spread the records over the partitions (murmur2 of the key, as Kafka).
      const keyed = lines
        .split("\n")
        .map((v, i) => `k${i}:${v}`)
        .join("\n");
      expect((await sluice(["produce", topic, "--key-separator", ":"], `${keyed}\n`)).exitCode).toBe(0);
      await eventually(() => followers.reduce((sum, f) => sum + f.printed.length, 0) >= 100, 15_000);

      const stopped = await Promise.all(followers.map((f) => f.stop()));
      expect(stopped.map((s) => s.exitCode)).toEqual([0, 0]);
      const all = followers.flatMap((f) => f.printed);
      expect(all.map((r) => r.value).toSorted()).toEqual(lines.split("\n").toSorted());
      // Each printed only its own partitions.
      const [first, second] = followers.map((f) => new Set(f.printed.map((r) => r.partition)));
      expect([...first!].filter((p) => second!.has(p))).toEqual([]);

      const ends = new Map(
        (await admin.describeTopic(topic)).partitions.map((p) => [p.partition, p.highWatermark]),
      );
      const described = JSON.parse((await sluice(["groups", "describe", group, "--json"])).stdout);
      expect(described.members).toEqual([]);
      for (const [partition, end] of ends) {
        expect(described.partitions).toContainEqual(
          expect.objectContaining({ topic, partition, committedOffset: end, lag: 0 }),
        );
      }
      const table = (await sluice(["groups", "describe", group])).stdout;
      for (const [partition, end] of ends)
        expect(table).toMatch(new RegExp(`${topic}\\s+${partition}\\s+-\\s+${end}\\s+${end}\\s+0`));
    } finally {
      for (const f of followers) f.kill();
    }
  }, 30_000);

  test("without --follow it reads to the end and commits; the next run starts after the commit", async () => {
    const topic = "cg-batch";
    const group = "cg-batch-readers";
    expect((await sluice(["topics", "create", topic, "--partitions", "2"])).exitCode).toBe(0);
    const first = Array.from({ length: 20 }, (_, i) => `a${i}`);
    expect((await sluice(["produce", topic], `${first.join("\n")}\n`)).exitCode).toBe(0);
    const run1 = await sluice(["consume", topic, "--group", group, "--format", "raw"]);
    expect(run1.exitCode).toBe(0);
    expect(run1.stdout.split("\n").filter(Boolean).toSorted()).toEqual(first.toSorted());

    const second = Array.from({ length: 5 }, (_, i) => `b${i}`);
    expect((await sluice(["produce", topic], `${second.join("\n")}\n`)).exitCode).toBe(0);
    const run2 = await sluice(["consume", topic, "--group", group, "--format", "raw"]);
    expect(run2.exitCode).toBe(0);
    expect(run2.stdout.split("\n").filter(Boolean).toSorted()).toEqual(second.toSorted());
    const described = JSON.parse((await sluice(["groups", "describe", group, "--json"])).stdout);
    expect(described.partitions.map((p: { lag: number }) => p.lag)).toEqual([0, 0]);

    // --max-records stops early: what was not printed is not committed.
    expect((await sluice(["produce", topic, "--partition", "0"], "c0\nc1\nc2\n")).exitCode).toBe(0);
    const run3 = await sluice(["consume", topic, "--group", group, "--format", "raw", "--max-records", "1"]);
    expect(run3.stdout).toBe("c0\n");
    const run4 = await sluice(["consume", topic, "--group", group, "--format", "raw"]);
    expect(run4.stdout).toBe("c1\nc2\n");
  }, 30_000);

  test("--group takes neither --partition nor an offset or time in --from (exit 2)", async () => {
    expect((await sluice(["topics", "create", "cg-usage"])).exitCode).toBe(0);
    const partition = await sluice(["consume", "cg-usage", "--group", "g", "--partition", "0"]);
    expect(partition.exitCode).toBe(2);
    expect(partition.stderr).toContain("--partition");
    expect((await sluice(["consume", "cg-usage", "--group", "g", "--from", "5"])).exitCode).toBe(2);
  });
});
