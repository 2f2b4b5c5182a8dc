// A consumer group's states and the moves between them, as in Kafka's classic group coordinator
// (GroupMetadata.validPreviousStates), so a move the coordinator did not mean to make is caught.
//
//   Empty                no members (maybe committed offsets); a join starts a rebalance
//   PreparingRebalance   waiting for every member to join (again), or for the rebalance timeout
//   CompletingRebalance  everyone has joined: the assignor runs and the new generation is handed out.
//                        Kafka waits here for the leader's SyncGroup; Sluice assigns on the server, so the
//                        group passes through this state in the same step and never rests in it
//   Stable               every member has its assignment; heartbeats keep members in
//   Dead                 deleted; the group object is dropped
import { assert } from "../assert.ts";

export const GROUP_STATES = ["Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead"] as const;
export type GroupState = (typeof GROUP_STATES)[number];

/** The states each state may be entered from. */
const PREVIOUS_STATES: Readonly<Record<GroupState, readonly GroupState[]>> = {
  // The last member leaving, or a rebalance that ends with no one joined.
  Empty: ["PreparingRebalance"],
  // A member joins, leaves, changes its subscription, or the topics it reads change.
  PreparingRebalance: ["Empty", "Stable", "CompletingRebalance"],
  CompletingRebalance: ["PreparingRebalance"],
  Stable: ["CompletingRebalance"],
  // Only an empty group is deleted (NON_EMPTY_GROUP otherwise).
  Dead: ["Empty"],
};

export function assertTransition(from: GroupState, to: GroupState): void {
  assert(PREVIOUS_STATES[to].includes(from), `a group cannot go from ${from} to ${to}`);
}
