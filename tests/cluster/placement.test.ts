// The controller's decisions as pure functions: where replicas go, and who leads after nodes die.
import { expect, test } from "bun:test";
import { NO_LEADER } from "../../lib/cluster/metadata.ts";
import { assignReplicas, initialState, reelect } from "../../lib/cluster/placement.ts";

/** No reassignment under way. */
const steady = { addingReplicas: [], removingReplicas: [] };

test("replicas go round robin over the live nodes, leaders spread", () => {
  expect(assignReplicas(3, 2, [3, 1, 2], 0)).toEqual([
    [1, 2],
    [2, 3],
    [3, 1],
  ]);
  expect(assignReplicas(1, 3, [1, 2, 3], 4)[0]).toEqual([2, 3, 1]);
});

test("a dead leader is replaced by the first live ISR member, with a new epoch", () => {
  const state = initialState([1, 2, 3]);
  expect(reelect(state, new Set([2, 3]), false)).toEqual({
    leader: 2,
    leaderEpoch: 1,
    replicas: [1, 2, 3],
    isr: [2, 3],
    ...steady,
  });
});

test("a dead follower leaves the ISR without a leader change; nothing changes when all live", () => {
  const state = initialState([1, 2, 3]);
  expect(reelect(state, new Set([1, 2]), false)).toEqual({ ...state, isr: [1, 2] });
  expect(reelect(state, new Set([1, 2, 3]), false)).toBeUndefined();
});

test("with no live ISR member the partition waits for one, keeping the last; unclean election picks any live replica", () => {
  const state = { leader: 1, leaderEpoch: 4, replicas: [1, 2, 3], isr: [1], ...steady };
  const offline = reelect(state, new Set([2, 3]), false)!;
  expect(offline).toEqual({ leader: NO_LEADER, leaderEpoch: 5, replicas: [1, 2, 3], isr: [1], ...steady });
  // The last ISR member returns: it leads again.
  expect(reelect(offline, new Set([1, 2, 3]), false)).toMatchObject({ leader: 1, leaderEpoch: 6, isr: [1] });
  expect(reelect(state, new Set([2, 3]), true)).toEqual({
    leader: 2,
    leaderEpoch: 5,
    replicas: [1, 2, 3],
    isr: [2],
    ...steady,
  });
});
