// The consumer's group mode against a whole node on loopback (real clock, real server, real files):
// members split a topic's partitions and together read every record once, rebalance when members join,
// leave or are dropped, and a member started again resumes where the group last committed.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SluiceAdmin } from "../../lib/client/admin.ts";
import { type ConsumedRecord, type ConsumerOptions, SluiceConsumer } from "../../lib/client/consumer.ts";
import { eventually } from "../ws/helpers.ts";
import { type RealNode, startRealNode } from "./real-node.ts";

/** Kafka's group.min.session.timeout.ms, the shortest session the node takes. */
const SESSION_TIMEOUT_MS = 6_000;
const STABLE_WAIT_MS = 15_000;
/** How long the readers' application takes per record. */
const PROCESS_MS = 1;

let node: RealNode;
let admin: SluiceAdmin;

beforeAll(async () => {
  // No initial delay: the first member's join answers at once and each newcomer is a real rebalance.
  node = await startRealNode({ groupInitialRebalanceDelayMs: 0 });
  admin = new SluiceAdmin({ baseUrl: node.url });
});
afterAll(async () => {
  await node.close();
});

interface Read {
  reader: string;
  memberId: string | undefined;
  generationId: number | undefined;
  partition: number;
  offset: number;
}

/** A group consumer reading in the background into a shared list, as an application's poll loop. */
class Reader {
  readonly consumer: SluiceConsumer;
  loop: Promise<void> | undefined;
  failure: unknown;

  /**
   * processMs: each record takes the application this long, so records are still being handed out
   * when a rebalance starts, as in a real poll loop with work to do.
   */
  constructor(
    readonly name: string,
    readonly reads: Read[],
    options: ConsumerOptions,
    readonly processMs = 0,
  ) {
    this.consumer = new SluiceConsumer({ baseUrl: node.url, resetPolicy: "earliest", ...options });
  }

  async start(topic: string): Promise<this> {
    await this.consumer.subscribe([topic]);
    this.loop = this.#read().catch((error: unknown) => {
      this.failure = error;
    });
    return this;
  }

  async #read(): Promise<void> {
    for await (const record of this.consumer) {
      this.#note(record);
      if (this.processMs > 0) await Bun.sleep(this.processMs);
    }
  }

  #note(record: ConsumedRecord): void {
    const { memberId, generationId } = this.consumer.membership ?? {};
    this.reads.push({
      reader: this.name,
      memberId,
      generationId,
      partition: record.partition,
      offset: record.offset,
    });
  }

  async close(): Promise<void> {
    await this.consumer.close();
    await this.loop;
  }
}

async function produce(topic: string, partitions: number, perPartition: number, tag: string) {
  const records = Array.from({ length: partitions * perPartition }, (_, i) => ({
    value: `${tag}-${i}`,
    partition: i % partitions,
  }));
  await admin.produce(topic, records);
}

/** Every member joined in the same generation, the group Stable, and the partitions dealt out once. */
async function stable(
  group: string,
  readers: Reader[],
  partitions: number,
  boundMs = STABLE_WAIT_MS,
): Promise<number> {
  let generation = -1;
  await eventually(async () => {
    const memberships = readers.map((r) => r.consumer.membership);
    if (readers.some((r) => r.consumer.rebalancing) || memberships.some((m) => m === undefined)) return false;
    const generations = new Set(memberships.map((m) => m!.generationId));
    if (generations.size !== 1) return false;
    const described = await admin.describeGroup(group);
    if (described.state !== "Stable" || described.members.length !== readers.length) return false;
    generation = [...generations][0]!;
    return described.generationId === generation;
  }, boundMs);
  const assigned = readers.flatMap((r) => r.consumer.assignment().map((a) => a.partition));
  expect(assigned.toSorted((a, b) => a - b)).toEqual(Array.from({ length: partitions }, (_, p) => p));
  return generation;
}

/** Each offset below the partition's end read exactly `times` (a number, or per offset). */
async function readAll(topic: string, reads: Read[], readers: Reader[]): Promise<Map<string, number>> {
  const ends = new Map(
    (await admin.describeTopic(topic)).partitions.map((p) => [p.partition, p.highWatermark]),
  );
  const total = [...ends.values()].reduce((sum, end) => sum + end, 0);
  await eventually(() => {
    for (const reader of readers) if (reader.failure !== undefined) throw reader.failure;
    return new Set(reads.map((r) => `${r.partition}:${r.offset}`)).size >= total;
  }, STABLE_WAIT_MS);
  const counts = new Map<string, number>();
  for (const r of reads)
    counts.set(`${r.partition}:${r.offset}`, (counts.get(`${r.partition}:${r.offset}`) ?? 0) + 1);
  return counts;
}

function expectEachOnce(counts: Map<string, number>): void {
  const repeated = [...counts].filter(([, n]) => n !== 1);
  expect(repeated).toEqual([]);
}

/** Within one generation, a partition is read by one member at most. */
function expectNoSharing(reads: Read[]): void {
  const owners = new Map<string, Set<string>>();
  for (const r of reads) {
    expect(r.generationId).toBeDefined();
    const key = `${r.generationId}/${r.partition}`;
    owners.set(key, (owners.get(key) ?? new Set()).add(r.reader));
  }
  const shared = [...owners].filter(([, readers]) => readers.size > 1);
  expect(shared).toEqual([]);
}

describe("members join and leave", () => {
  const topic = "g-split";
  const group = "g-split-readers";
  const partitions = 6;
  const reads: Read[] = [];
  const readers: Reader[] = [];

  afterAll(async () => {
    for (const reader of readers) await reader.close();
  });

  test("two consumers split the partitions and together read every record exactly once", async () => {
    await admin.createTopic(topic, { partitions });
    await produce(topic, partitions, 100, "before");
    readers.push(await new Reader("a", reads, { group }, PROCESS_MS).start(topic));
    readers.push(await new Reader("b", reads, { group }, PROCESS_MS).start(topic));
    // The second join is a rebalance of a group already reading: a's positions are committed on revoke.
    await produce(topic, partitions, 50, "during");
    const generation = await stable(group, readers, partitions);
    expect(readers.map((r) => r.consumer.assignment().length)).toEqual([partitions / 2, partitions / 2]);
    await produce(topic, partitions, 50, "after");
    expectEachOnce(await readAll(topic, reads, readers));
    expectNoSharing(reads);
    expect(reads.filter((r) => r.generationId === generation).map((r) => r.reader)).toContain("b");
  });

  test("a third joins: the group rebalances, every partition has one reader, nothing is read twice", async () => {
    const before = reads.length;
    const producing = produce(topic, partitions, 100, "third");
    readers.push(await new Reader("c", reads, { group }, PROCESS_MS).start(topic));
    await producing;
    const generation = await stable(group, readers, partitions);
    expect(readers.map((r) => r.consumer.assignment().length)).toEqual([2, 2, 2]);
    await produce(topic, partitions, 20, "third-after");
    expectEachOnce(await readAll(topic, reads, readers));
    expectNoSharing(reads);
    expect(reads.slice(before).some((r) => r.reader === "c" && r.generationId === generation)).toBe(true);
  });

  test("one closes: the others take its partitions over from where it committed", async () => {
    const leaving = readers.shift()!;
    const itsPartitions = leaving.consumer.assignment().map((a) => a.partition);
    await leaving.close();
    await stable(group, readers, partitions);
    const taken = readers.flatMap((r) => r.consumer.assignment().map((a) => a.partition));
    for (const partition of itsPartitions) expect(taken).toContain(partition);
    const before = reads.length;
    await produce(topic, partitions, 20, "after-leave");
    expectEachOnce(await readAll(topic, reads, readers));
    expectNoSharing(reads);
    const ofItsPartitions = reads.slice(before).filter((r) => itsPartitions.includes(r.partition));
    expect(ofItsPartitions.length).toBe(itsPartitions.length * 20);
    expect(ofItsPartitions.filter((r) => r.reader === leaving.name)).toEqual([]);
  });
});

describe("members started together", () => {
  test("three consumers started at once settle in one generation long before a heartbeat", async () => {
    const topic = "g-together";
    const group = "g-together-readers";
    const partitions = 3;
    await admin.createTopic(topic, { partitions });
    await produce(topic, partitions, 200, "t");
    const reads: Read[] = [];
    const readers = ["x", "y", "z"].map((name) => new Reader(name, reads, { group }, PROCESS_MS));
    try {
      // Each join lands while the others are joining or subscribing: the rebalances they cause must
      // not be missed (the default session's heartbeat, 15 s, would be the next chance to hear of them).
      await Promise.all(readers.map((reader) => reader.start(topic)));
      await stable(group, readers, partitions, 5_000);
      expect(readers.map((r) => r.consumer.assignment().length)).toEqual([1, 1, 1]);
      expectEachOnce(await readAll(topic, reads, readers));
      expectNoSharing(reads);
    } finally {
      for (const reader of readers) await reader.close();
    }
  });
});

describe("committed offsets across a restart", () => {
  /** The next `count` records of the consumer, as offsets. */
  async function take(consumer: SluiceConsumer, count: number): Promise<number[]> {
    const offsets: number[] = [];
    if (count === 0) return offsets;
    for await (const record of consumer) {
      offsets.push(record.offset);
      if (offsets.length === count) break;
    }
    return offsets;
  }

  /** Closes the socket without leaving or committing, as a killed process would. */
  function crash(consumer: SluiceConsumer): void {
    consumer.socket.socket.close();
  }

  async function committed(group: string, topic: string): Promise<number | undefined> {
    return (await admin.committedOffsets(group, topic)).find((o) => o.partition === 0)?.offset;
  }

  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

  test("manual commit: a restarted member reads from the last commit; only uncommitted records again", async () => {
    const topic = "g-manual";
    const group = "g-manual-readers";
    await admin.createTopic(topic);
    await produce(topic, 1, 30, "m");
    const first = new SluiceConsumer({
      baseUrl: node.url,
      group,
      autoCommit: false,
      resetPolicy: "earliest",
    });
    await first.subscribe([topic]);
    expect(await take(first, 10)).toEqual(range(0, 10));
    await first.commit();
    expect(await committed(group, topic)).toBe(10);
    expect(await take(first, 5)).toEqual(range(10, 15));
    await first.close();
    // Without auto commit, the close commits nothing: offsets 10..14 were read but not committed.
    expect(await committed(group, topic)).toBe(10);

    const second = new SluiceConsumer({
      baseUrl: node.url,
      group,
      autoCommit: false,
      resetPolicy: "earliest",
    });
    await second.subscribe([topic]);
    expect(await take(second, 20)).toEqual(range(10, 30));
    await second.close();
  });

  test("auto commit: on close, and every interval; after a crash only the records since are read again", async () => {
    const topic = "g-auto";
    const group = "g-auto-readers";
    await admin.createTopic(topic);
    await produce(topic, 1, 40, "a");
    const options = { baseUrl: node.url, group, resetPolicy: "earliest" as const };
    const first = new SluiceConsumer(options);
    await first.subscribe([topic]);
    expect(await take(first, 12)).toEqual(range(0, 12));
    await first.close();
    expect(await committed(group, topic)).toBe(12);

    const second = new SluiceConsumer({ ...options, autoCommitIntervalMs: 50 });
    await second.subscribe([topic]);
    expect(await take(second, 8)).toEqual(range(12, 20));
    await eventually(async () => (await committed(group, topic)) === 20);
    // Taken from what is already buffered, then the process dies before the next interval.
    expect(await take(second, 3)).toEqual(range(20, 23));
    crash(second);
    await eventually(async () => (await admin.describeGroup(group)).members.length === 0);
    expect(await committed(group, topic)).toBe(20);

    const third = new SluiceConsumer(options);
    await third.subscribe([topic]);
    expect(await take(third, 20)).toEqual(range(20, 40));
    await third.close();
    expect(await committed(group, topic)).toBe(40);
  });
});

describe("session timeout", () => {
  test(
    "a member whose heartbeats stop is dropped, and rejoins as a new member without its old id",
    async () => {
      const topic = "g-silent";
      const group = "g-silent-readers";
      const partitions = 2;
      await admin.createTopic(topic, { partitions });
      const reads: Read[] = [];
      // Auto commit only on revoke (a commit counts as a sign of life): the dropped member's is refused.
      const options = { group, sessionTimeoutMs: SESSION_TIMEOUT_MS, autoCommitIntervalMs: 600_000 };
      const quiet = await new Reader("quiet", reads, options).start(topic);
      const steady = await new Reader("steady", reads, options).start(topic);
      try {
        await stable(group, [quiet, steady], partitions);
        const oldMemberId = quiet.consumer.membership!.memberId;

        // Fault injection: the quiet member's heartbeats are lost on the way; its joins still go out.
        const socket = quiet.consumer.socket;
        const send = socket.send.bind(socket);
        const joins: Array<{ memberId?: string }> = [];
        let losingHeartbeats = true;
        socket.send = (frame: object) => {
          const { type } = frame as { type: string };
          if (type === "heartbeat" && losingHeartbeats) return;
          if (type === "join") joins.push(frame as { memberId?: string });
          send(frame);
        };
        // The node drops it after its session and pushes it a rebalance; the other reads everything.
        await eventually(() => {
          const memberId = quiet.consumer.membership?.memberId;
          return memberId !== undefined && memberId !== oldMemberId;
        }, SESSION_TIMEOUT_MS * 2);
        losingHeartbeats = false;
        await stable(group, [quiet, steady], partitions);

        const newMemberId = quiet.consumer.membership!.memberId;
        expect(newMemberId).not.toBe(oldMemberId);
        // It first tried its old id (UNKNOWN_MEMBER_ID), then joined without one.
        expect(joins.map((j) => j.memberId)).toEqual([oldMemberId, undefined]);
        const members = (await admin.describeGroup(group)).members.map((m) => m.memberId);
        expect(members.toSorted()).toEqual([newMemberId, steady.consumer.membership!.memberId].toSorted());

        await produce(topic, partitions, 10, "s");
        expectEachOnce(await readAll(topic, reads, [quiet, steady]));
        expect(quiet.failure).toBeUndefined();
      } finally {
        await quiet.close();
        await steady.close();
      }
    },
    SESSION_TIMEOUT_MS * 4,
  );
});
