// Reassignment as pure functions of the partition state (Kafka's KIP-455): start, complete, cancel.
import { expect, test } from "bun:test";
import { initialState, reelect } from "../../lib/cluster/placement.ts";
import {
  cancelReassignment,
  checkTarget,
  completeReassignment,
  originalReplicas,
  startReassignment,
  targetReplicas,
} from "../../lib/cluster/reassignment.ts";
import { isSluiceError } from "../../lib/errors.ts";

test("starting a move widens the replicas to target + original and keeps leader, epoch and ISR", () => {
  const moving = startReassignment(initialState([1, 2]), [3, 2]);
  expect(moving).toEqual({
    leader: 1,
    leaderEpoch: 0,
    replicas: [3, 2, 1],
    isr: [1, 2],
    addingReplicas: [3],
    removingReplicas: [1],
  });
  expect(targetReplicas(moving)).toEqual([3, 2]);
  expect(originalReplicas(moving)).toEqual([2, 1]);
});

test("it completes only once every target replica is in the ISR; a leaving leader hands over with a new epoch", () => {
  const moving = startReassignment(initialState([1, 2]), [3, 2]);
  expect(completeReassignment(moving)).toBeUndefined();
  const caughtUp = { ...moving, isr: [1, 2, 3] };
  expect(completeReassignment(caughtUp)).toEqual({
    leader: 3,
    leaderEpoch: 1,
    replicas: [3, 2],
    isr: [3, 2],
    addingReplicas: [],
    removingReplicas: [],
  });
});

test("a leader that stays keeps its epoch; growing the replica count works the same way", () => {
  const grown = startReassignment(initialState([1]), [1, 2, 3]);
  expect(grown).toMatchObject({ replicas: [1, 2, 3], addingReplicas: [2, 3], removingReplicas: [] });
  expect(completeReassignment({ ...grown, isr: [1, 3] })).toBeUndefined();
  expect(completeReassignment({ ...grown, isr: [1, 3, 2] })).toEqual({
    ...initialState([1, 2, 3]),
    isr: [1, 2, 3],
  });
  // Shrinking needs nothing to catch up: it completes at once.
  expect(completeReassignment(startReassignment(initialState([1, 2, 3]), [2]))).toMatchObject({
    leader: 2,
    leaderEpoch: 1,
    replicas: [2],
    isr: [2],
  });
});

test("a new move replaces the one under way, from the same original replicas", () => {
  const first = { ...startReassignment(initialState([1, 2]), [3, 4]), isr: [1, 2, 3] };
  const second = startReassignment(first, [2, 5]);
  expect(second).toMatchObject({ replicas: [2, 5, 1], addingReplicas: [5], removingReplicas: [1] });
  // 3 is no longer wanted: it leaves the ISR with the replica set.
  expect(second.isr).toEqual([1, 2]);
});

test("cancelling goes back to the original replicas while one of them is in sync", () => {
  const moving = { ...startReassignment(initialState([1, 2]), [3, 4]), isr: [1, 2, 3] };
  expect(cancelReassignment(moving)).toEqual({ ...initialState([1, 2]) });
  // The leader moved to an added replica meanwhile (its node died): going back re-elects an original one.
  const leaderAdded = { ...moving, leader: 3, leaderEpoch: 2, isr: [3, 2] };
  expect(cancelReassignment(leaderAdded)).toMatchObject({
    leader: 2,
    leaderEpoch: 3,
    replicas: [1, 2],
    isr: [2],
  });
  expect(cancelReassignment({ ...moving, leader: 3, isr: [3] })).toBeUndefined();
  expect(cancelReassignment(initialState([1]))).toBeUndefined();
});

test("a dead leader mid-move is replaced from the ISR like any other (an added replica only once in sync)", () => {
  const moving = startReassignment(initialState([1, 2]), [3, 2]);
  expect(reelect(moving, new Set([2, 3]), false)).toMatchObject({ leader: 2, leaderEpoch: 1, isr: [2] });
});

test("a target must name distinct live nodes", () => {
  const live = new Set([1, 2, 3]);
  expect(() => checkTarget([1, 2], live)).not.toThrow();
  for (const [target, words] of [
    [[], "at least one"],
    [[1, 1], "repeat"],
    [[1, 9], "node 9 is not live"],
  ] as const) {
    let thrown: unknown;
    try {
      checkTarget(target, live);
    } catch (error) {
      thrown = error;
    }
    expect(isSluiceError(thrown, "INVALID_REPLICA_ASSIGNMENT")).toBe(true);
    expect((thrown as Error).message).toContain(words);
  }
});
