// The group coordinator over real data directories (and MemoryStorage for a full disk): committed
// offsets kept in `__consumer_offsets` and replayed at startup after clean and unclean stops, tombstones
// on delete, compaction, resets, lag, and the checks on what a commit may carry.
import { afterEach, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { decodeOffsetCommitKey, decodeOffsetCommitValue } from "../../lib/groups/offset-commit-record.ts";
import { OFFSETS_TOPIC_PARTITIONS, offsetsPartitionFor } from "../../lib/groups/offsets-topic.ts";
import { encodeBatch, utf8 } from "../../lib/log/record-batch.ts";
import { MemoryStorage } from "../../lib/storage/memory-storage.ts";
import { CONSUMER_OFFSETS_TOPIC } from "../../lib/topics/log-manager.ts";
import { batch, expectSluiceError, readRecords, START_MS, thrownBy } from "../log/helpers.ts";
import { freshDataDir, type OpenCoordinator, openCoordinator, removeDataDir } from "./helpers.ts";

const opened: OpenCoordinator[] = [];
const dataDirs: string[] = [];

afterEach(async () => {
  for (const coordinator of opened.splice(0)) await coordinator.stop().catch(() => undefined);
  for (const dataDir of dataDirs.splice(0)) removeDataDir(dataDir);
});

function open(options: Parameters<typeof openCoordinator>[0] = {}): OpenCoordinator {
  const dataDir = options.dataDir ?? freshDataDir();
  if (options.storage === undefined && !dataDirs.includes(dataDir)) dataDirs.push(dataDir);
  const coordinator = openCoordinator({ ...options, dataDir });
  opened.push(coordinator);
  return coordinator;
}

/** Stops `node` and opens its data directory again, as a restart does. */
async function restart(node: OpenCoordinator, clean: boolean): Promise<OpenCoordinator> {
  await node.stop({ clean });
  opened.splice(opened.indexOf(node), 1);
  return open({ dataDir: node.dataDir, clock: node.clock });
}

/** `count` records into each partition of `topic`, one per ms from `fromMs`. */
function produce(node: OpenCoordinator, topic: string, count: number, fromMs = START_MS): void {
  const partitions = node.logs.partitionCount(topic);
  for (let p = 0; p < partitions; p++) {
    const timestamps = Array.from({ length: count }, (_, i) => fromMs + i);
    node.logs.partition(topic, p).appendSync(batch({ count, timestamps }));
  }
}

const offsetsOf = (node: OpenCoordinator, group: string) =>
  node.groups.committedOffsets(group).map(({ topic, partition, offset, metadata }) => ({
    topic,
    partition,
    offset,
    metadata,
  }));

describe("the offsets topic", () => {
  test("is made by the first commit: compacted, four partitions, the group's records in Kafka's partition", () => {
    const node = open();
    node.logs.createTopic("orders", { partitions: 2 });
    expect(node.logs.hasTopic(CONSUMER_OFFSETS_TOPIC)).toBe(false);
    node.groups.commit("billing", { offsets: [{ topic: "orders", partition: 1, offset: 5, metadata: "m" }] });
    const topic = node.logs.describeTopic(CONSUMER_OFFSETS_TOPIC);
    expect(topic.partitions).toHaveLength(OFFSETS_TOPIC_PARTITIONS);
    expect(topic.config["cleanup.policy"]).toBe("compact");
    const home = offsetsPartitionFor("billing", OFFSETS_TOPIC_PARTITIONS);
    expect(topic.partitions.map((p) => p.logEndOffset)).toEqual(
      Array.from({ length: OFFSETS_TOPIC_PARTITIONS }, (_, p) => (p === home ? 1 : 0)),
    );
    const [record] = readRecords(node.logs.partition(CONSUMER_OFFSETS_TOPIC, home));
    expect(decodeOffsetCommitKey(record!.key!)).toEqual({ group: "billing", topic: "orders", partition: 1 });
    expect(decodeOffsetCommitValue(record!.value!)).toEqual({
      offset: 5,
      metadata: "m",
      commitTimestampMs: START_MS,
    });
    expect(readdirSync(node.dataDir)).toContain(`${CONSUMER_OFFSETS_TOPIC}-${home}`);
  });

  test("is Sluice's own: users may neither create nor delete it", () => {
    const node = open();
    expectSluiceError(
      thrownBy(() => node.logs.createTopic(CONSUMER_OFFSETS_TOPIC)),
      "INVALID_TOPIC_NAME",
      "name",
    );
    node.logs.createTopic("orders");
    node.groups.commit("g", { offsets: [{ topic: "orders", partition: 0, offset: 0 }] });
    expectSluiceError(
      thrownBy(() => node.logs.deleteTopic(CONSUMER_OFFSETS_TOPIC)),
      "TOPIC_IS_INTERNAL",
    );
  });
});

describe("restarts", () => {
  for (const clean of [true, false]) {
    test(`committed offsets survive ${clean ? "a clean" : "an unclean"} restart, the latest commit per partition winning`, async () => {
      const node = open();
      node.logs.createTopic("orders", { partitions: 3 });
      node.logs.createTopic("audit");
      for (let round = 1; round <= 5; round++) {
        node.groups.commit("billing", {
          offsets: [0, 1, 2].map((partition) => ({
            topic: "orders",
            partition,
            offset: round * 10 + partition,
          })),
        });
      }
      node.groups.commit("billing", {
        offsets: [{ topic: "audit", partition: 0, offset: 3, metadata: "x" }],
      });
      node.groups.commit("shipping", { offsets: [{ topic: "orders", partition: 0, offset: 1 }] });
      const before = { billing: offsetsOf(node, "billing"), shipping: offsetsOf(node, "shipping") };
      const again = await restart(node, clean);
      expect(again.logs.recovery.cleanShutdown).toBe(clean);
      expect(again.groups.replay).toEqual({ records: 17, skipped: 0 });
      expect({ billing: offsetsOf(again, "billing"), shipping: offsetsOf(again, "shipping") }).toEqual(
        before,
      );
      expect(
        offsetsOf(again, "billing").find((entry) => entry.topic === "orders" && entry.partition === 2)
          ?.offset,
      ).toBe(52);
      expect(again.groups.list().map(({ group, state }) => [group, state])).toEqual([
        ["billing", "Empty"],
        ["shipping", "Empty"],
      ]);
    });
  }

  test("compaction keeps the latest commit per key, and a replay after it gives the same offsets", async () => {
    const node = open();
    node.logs.createTopic("orders", { partitions: 4 });
    node.groups.commit("g", { offsets: [{ topic: "orders", partition: 0, offset: 0 }] });
    // Small segments so that there are closed segments to clean.
    node.logs.alterTopicConfig(CONSUMER_OFFSETS_TOPIC, { "segment.bytes": 1024 });
    for (let round = 0; round < 100; round++) {
      node.groups.commit("g", {
        offsets: [0, 1, 2, 3].map((partition) => ({ topic: "orders", partition, offset: round })),
      });
    }
    const before = offsetsOf(node, "g");
    const log = node.logs.partition(
      CONSUMER_OFFSETS_TOPIC,
      offsetsPartitionFor("g", OFFSETS_TOPIC_PARTITIONS),
    );
    const sizeBefore = log.sizeBytes;
    const cleaned = await node.logs.runCleaner();
    expect(cleaned.recordsRemoved).toBeGreaterThan(300);
    expect(log.sizeBytes).toBeLessThan(sizeBefore / 4);
    const again = await restart(node, true);
    expect(offsetsOf(again, "g")).toEqual(before);
    expect(again.groups.replay.records).toBeLessThan(60);
  });

  test("replay passes over records it cannot read and keeps the rest", async () => {
    const skipped: string[] = [];
    const node = open();
    node.logs.createTopic("orders");
    node.groups.commit("g", { offsets: [{ topic: "orders", partition: 0, offset: 7 }] });
    const home = offsetsPartitionFor("g", OFFSETS_TOPIC_PARTITIONS);
    node.logs
      .partition(CONSUMER_OFFSETS_TOPIC, home)
      .appendSync(
        encodeBatch([{ key: utf8("not a key"), value: utf8("nor a value") }], { timestampMs: START_MS }),
      );
    await node.stop();
    opened.splice(opened.indexOf(node), 1);
    const again = open({ dataDir: node.dataDir, onReplaySkipped: (_error, where) => skipped.push(where) });
    expect(again.groups.replay).toEqual({ records: 2, skipped: 1 });
    expect(skipped).toEqual([`__consumer_offsets-${home} offset 1`]);
    expect(offsetsOf(again, "g")).toEqual([{ topic: "orders", partition: 0, offset: 7, metadata: "" }]);
  });
});

describe("deleting a group", () => {
  test("writes a tombstone for each committed offset, and the group stays gone after a restart", async () => {
    const node = open();
    node.logs.createTopic("orders", { partitions: 2 });
    node.groups.commit("billing", {
      offsets: [
        { topic: "orders", partition: 0, offset: 4 },
        { topic: "orders", partition: 1, offset: 9 },
      ],
    });
    node.groups.commit("shipping", { offsets: [{ topic: "orders", partition: 0, offset: 1 }] });
    expect(node.groups.deleteGroup("billing")).toEqual({ offsetsDeleted: 2 });
    const log = node.logs.partition(
      CONSUMER_OFFSETS_TOPIC,
      offsetsPartitionFor("billing", OFFSETS_TOPIC_PARTITIONS),
    );
    const tombstones = readRecords(log).filter((record) => record.value === null);
    expect(tombstones.map((record) => decodeOffsetCommitKey(record.key!))).toEqual([
      { group: "billing", topic: "orders", partition: 0 },
      { group: "billing", topic: "orders", partition: 1 },
    ]);
    expectSluiceError(
      thrownBy(() => node.groups.describe("billing")),
      "GROUP_ID_NOT_FOUND",
      "group",
    );
    const again = await restart(node, false);
    expect(again.groups.list().map((group) => group.group)).toEqual(["shipping"]);
    expect(again.groups.committedOffsets("billing")).toEqual([]);
  });

  test("is refused while the group has members, and for a group that does not exist", async () => {
    const node = open();
    node.logs.createTopic("orders");
    const member = await node.groups.join("g", { topics: ["orders"] });
    expectSluiceError(
      thrownBy(() => node.groups.deleteGroup("g")),
      "NON_EMPTY_GROUP",
    );
    node.groups.leave("g", member.memberId);
    // No members and no offsets: the group is gone as soon as its last member leaves.
    expectSluiceError(
      thrownBy(() => node.groups.deleteGroup("g")),
      "GROUP_ID_NOT_FOUND",
    );
  });
});

describe("resetting offsets", () => {
  test("is refused while the group has active members, as Kafka's tool refuses it", async () => {
    const node = open();
    node.logs.createTopic("orders");
    await node.groups.join("g", { topics: ["orders"] });
    const error = thrownBy(() => node.groups.resetOffsets("g", { to: "earliest", topic: "orders" }));
    expectSluiceError(error, "NON_EMPTY_GROUP");
    expect((error as Error).message).toContain("Stable with 1 active member");
  });

  test("moves to the earliest, the latest, the first record at a time, or an offset kept within the log", () => {
    const node = open();
    node.logs.createTopic("orders", { partitions: 2, config: { "segment.bytes": 1024 } });
    produce(node, "orders", 10, START_MS);
    const reset = (target: Parameters<typeof node.groups.resetOffsets>[1]) =>
      node.groups.resetOffsets("g", target).map((entry) => [entry.partition, entry.offset]);
    expect(reset({ to: "latest", topic: "orders" })).toEqual([
      [0, 10],
      [1, 10],
    ]);
    expect(reset({ to: "earliest", topic: "orders", partitions: [1] })).toEqual([[1, 0]]);
    expect(reset({ to: "timestamp", topic: "orders", timestampMs: START_MS + 4 })).toEqual([
      [0, 4],
      [1, 4],
    ]);
    // Later than every record: the log end, where Kafka's tool lands.
    expect(reset({ to: "timestamp", topic: "orders", timestampMs: START_MS + 1_000 })).toEqual([
      [0, 10],
      [1, 10],
    ]);
    expect(reset({ to: "offset", topic: "orders", partitions: [0], offset: 3 })).toEqual([[0, 3]]);
    expect(reset({ to: "offset", topic: "orders", partitions: [1], offset: 99 })).toEqual([[1, 10]]);
    node.logs.partition("orders", 0).deleteRetainedSegments();
    expect(offsetsOf(node, "g").map((entry) => entry.offset)).toEqual([3, 10]);
  });

  test("names the topic or partition that does not exist", () => {
    const node = open();
    node.logs.createTopic("orders");
    expectSluiceError(
      thrownBy(() => node.groups.resetOffsets("g", { to: "earliest", topic: "nope" })),
      "UNKNOWN_TOPIC_OR_PARTITION",
      "topic",
    );
    expectSluiceError(
      thrownBy(() => node.groups.resetOffsets("g", { to: "earliest", topic: "orders", partitions: [0, 3] })),
      "UNKNOWN_TOPIC_OR_PARTITION",
      "partitions[1]",
    );
    expect(node.groups.list()).toEqual([]);
  });
});

describe("commits", () => {
  test("check each offset: the partition exists, the offset is a safe integer, the metadata fits", () => {
    const node = open();
    node.logs.createTopic("orders");
    const commit = (offsets: Array<Record<string, unknown>>) =>
      thrownBy(() => node.groups.commit("g", { offsets: offsets as never }));
    expectSluiceError(
      commit([{ topic: "nope", partition: 0, offset: 1 }]),
      "UNKNOWN_TOPIC_OR_PARTITION",
      "offsets[0].partition",
    );
    expectSluiceError(
      commit([
        { topic: "orders", partition: 0, offset: 1 },
        { topic: "orders", partition: 1, offset: 1 },
      ]),
      "UNKNOWN_TOPIC_OR_PARTITION",
      "offsets[1].partition",
    );
    expectSluiceError(
      commit([{ topic: "orders", partition: 0, offset: -1 }]),
      "INVALID_REQUEST",
      "offsets[0].offset",
    );
    expectSluiceError(
      commit([{ topic: "orders", partition: 0, offset: 2 ** 53 }]),
      "INVALID_REQUEST",
      "offsets[0].offset",
    );
    expectSluiceError(
      commit([{ topic: "orders", partition: 0, offset: 1, metadata: "é".repeat(2049) }]),
      "OFFSET_METADATA_TOO_LARGE",
      "offsets[0].metadata",
    );
    expectSluiceError(commit([]), "INVALID_REQUEST", "offsets");
    expectSluiceError(
      thrownBy(() => node.groups.commit("", { offsets: [{ topic: "orders", partition: 0, offset: 1 }] })),
      "INVALID_GROUP_ID",
      "group",
    );
    expect(node.groups.list()).toEqual([]);
  });

  test("from a member of a group the coordinator does not know is UNKNOWN_MEMBER_ID", () => {
    const node = open();
    node.logs.createTopic("orders");
    const offsets = [{ topic: "orders", partition: 0, offset: 1 }];
    expectSluiceError(
      thrownBy(() => node.groups.commit("g", { offsets, memberId: "ghost", generationId: 3 })),
      "UNKNOWN_MEMBER_ID",
    );
  });

  test("that cannot be written leave the committed offsets as they were", () => {
    const storage = new MemoryStorage();
    const node = open({ dataDir: "/data", storage });
    node.logs.createTopic("orders");
    node.groups.commit("g", { offsets: [{ topic: "orders", partition: 0, offset: 1 }] });
    storage.diskFullAfterBytes(0);
    expectSluiceError(
      thrownBy(() => node.groups.commit("g", { offsets: [{ topic: "orders", partition: 0, offset: 2 }] })),
      "DISK_FULL",
    );
    storage.clearFaults();
    expect(offsetsOf(node, "g")).toEqual([{ topic: "orders", partition: 0, offset: 1, metadata: "" }]);
  });
});

describe("describe and lag", () => {
  test("per partition: the member, the committed offset, the log end and the lag (null before any commit)", async () => {
    const node = open();
    node.logs.createTopic("orders", { partitions: 2 });
    produce(node, "orders", 5);
    const member = await node.groups.join("g", { topics: ["orders"], clientId: "c" });
    node.groups.commit("g", {
      offsets: [{ topic: "orders", partition: 0, offset: 2 }],
      memberId: member.memberId,
      generationId: member.generationId,
    });
    expect(node.groups.describe("g")).toEqual({
      group: "g",
      state: "Stable",
      generationId: 1,
      assignor: "range",
      members: [
        {
          memberId: member.memberId,
          clientId: "c",
          topics: ["orders"],
          sessionTimeoutMs: 45_000,
          rebalanceTimeoutMs: 30_000,
          assignment: [{ topic: "orders", partitions: [0, 1] }],
        },
      ],
      partitions: [
        {
          topic: "orders",
          partition: 0,
          memberId: member.memberId,
          committedOffset: 2,
          logEndOffset: 5,
          lag: 3,
        },
        {
          topic: "orders",
          partition: 1,
          memberId: member.memberId,
          committedOffset: null,
          logEndOffset: 5,
          lag: null,
        },
      ],
    });
    expect([...node.groups.lags()]).toEqual([{ group: "g", topic: "orders", partition: 0, lag: 3 }]);
  });

  test("a committed partition whose topic was deleted shows no log end and no lag", () => {
    const node = open();
    node.logs.createTopic("gone");
    node.groups.commit("g", { offsets: [{ topic: "gone", partition: 0, offset: 1 }] });
    node.logs.deleteTopic("gone");
    expect(node.groups.describe("g").partitions).toEqual([
      { topic: "gone", partition: 0, memberId: null, committedOffset: 1, logEndOffset: null, lag: null },
    ]);
    expect([...node.groups.lags()]).toEqual([]);
  });
});
