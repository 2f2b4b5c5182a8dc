// The server-side assignors, Kafka's range and round-robin, as pure functions: their documented
// splits, determinism whatever the input order, and on random inputs every partition dealt exactly
// once to a member that reads its topic.
import { describe, expect, test } from "bun:test";
import { ASSIGNOR_NAMES, assignorFor } from "../../lib/groups/assignors.ts";
import type { MemberSubscription } from "../../lib/groups/partition-assignor.ts";
import { seededRandom } from "../log/helpers.ts";

function counts(entries: Record<string, number>): (topic: string) => number {
  return (topic) => entries[topic] ?? 0;
}

function picks(assignment: Map<string, Array<{ topic: string; partitions: number[] }>>) {
  return Object.fromEntries(
    [...assignment].map(([member, topics]) => [
      member,
      topics.flatMap(({ topic, partitions }) => partitions.map((p) => `${topic}-${p}`)),
    ]),
  );
}

describe("range", () => {
  test("splits each topic into consecutive ranges, the first members taking one more", () => {
    const members = [
      { memberId: "a", topics: ["t"] },
      { memberId: "b", topics: ["t"] },
    ];
    expect(picks(assignorFor("range").assign(members, counts({ t: 5 })))).toEqual({
      a: ["t-0", "t-1", "t-2"],
      b: ["t-3", "t-4"],
    });
  });

  test("gives members the same partition numbers of co-partitioned topics", () => {
    const members = [
      { memberId: "b", topics: ["t1", "t2"] },
      { memberId: "a", topics: ["t2", "t1"] },
    ];
    expect(picks(assignorFor("range").assign(members, counts({ t1: 4, t2: 4 })))).toEqual({
      a: ["t1-0", "t1-1", "t2-0", "t2-1"],
      b: ["t1-2", "t1-3", "t2-2", "t2-3"],
    });
  });

  test("leaves members beyond the partition count with nothing, and skips topics that do not exist", () => {
    const members = ["a", "b", "c"].map((memberId) => ({ memberId, topics: ["t", "missing"] }));
    expect(picks(assignorFor("range").assign(members, counts({ t: 2 })))).toEqual({
      a: ["t-0"],
      b: ["t-1"],
      c: [],
    });
  });
});

describe("roundrobin", () => {
  test("deals every partition, by topic then number, to the members in turn", () => {
    const members = [
      { memberId: "a", topics: ["t1", "t2"] },
      { memberId: "b", topics: ["t1", "t2"] },
    ];
    expect(picks(assignorFor("roundrobin").assign(members, counts({ t1: 3, t2: 2 })))).toEqual({
      a: ["t1-0", "t1-2", "t2-1"],
      b: ["t1-1", "t2-0"],
    });
  });

  test("skips a member not subscribed to the partition's topic", () => {
    const members = [
      { memberId: "a", topics: ["t1"] },
      { memberId: "b", topics: ["t1", "t2"] },
      { memberId: "c", topics: ["t1"] },
    ];
    expect(picks(assignorFor("roundrobin").assign(members, counts({ t1: 2, t2: 3 })))).toEqual({
      a: ["t1-0"],
      b: ["t1-1", "t2-0", "t2-1", "t2-2"],
      c: [],
    });
  });
});

describe("every assignor", () => {
  for (const name of ASSIGNOR_NAMES) {
    test(`${name}: every partition goes to exactly one subscribed member, the same whatever the input order`, () => {
      const random = seededRandom(42);
      const topics = ["a", "b", "c", "d"];
      for (let round = 0; round < 200; round++) {
        const partitionCounts = Object.fromEntries(topics.map((t) => [t, Math.floor(random() * 9)]));
        const members: MemberSubscription[] = Array.from(
          { length: 1 + Math.floor(random() * 6) },
          (_, i) => ({
            memberId: `m${i}`,
            topics: topics.filter(() => random() < 0.6),
          }),
        ).filter((member) => member.topics.length > 0);
        if (members.length === 0) continue;
        const assignment = assignorFor(name).assign(members, counts(partitionCounts));
        const shuffled = [...members].sort(() => random() - 0.5);
        expect(assignorFor(name).assign(shuffled, counts(partitionCounts))).toEqual(assignment);
        const owners = new Map<string, string>();
        for (const [memberId, entries] of assignment) {
          const member = members.find((m) => m.memberId === memberId)!;
          for (const { topic, partitions } of entries) {
            expect(member.topics).toContain(topic);
            for (const partition of partitions) {
              expect(owners.has(`${topic}-${partition}`)).toBe(false);
              owners.set(`${topic}-${partition}`, memberId);
            }
          }
        }
        const subscribed = new Set(members.flatMap((m) => m.topics));
        const expected = [...subscribed].reduce((sum, topic) => sum + partitionCounts[topic]!, 0);
        expect(owners.size).toBe(expected);
      }
    });
  }
});
