// Consumer-group frames for the WebSocket tests: join and wait for the coordinator to hold the join,
// read a `joined` answer, and check that a generation's assignments split a topic's partitions.
import { expect } from "bun:test";
import type { JoinedFrame, RebalanceFrame } from "../../lib/gateway/ws-protocol.ts";
import type { GroupDescription } from "../../lib/groups/group-coordinator.ts";
import { until } from "../gateway/helpers.ts";
import type { StreamClient, StreamNode } from "./helpers.ts";

export const GROUP = "billing";
export const TOPIC = "orders";
/** Kafka's minimum, so session timeouts take few clock steps. */
export const SESSION_MS = 6_000;
export const DELAY_MS = 3_000;

/**
 * Sends a join for TOPIC to GROUP (fields override) and, when `pending` is given, waits until the
 * coordinator holds that many joins (leave it out for a join that completes the rebalance at once).
 */
export async function sendJoin(
  node: StreamNode,
  client: StreamClient,
  fields: Record<string, unknown> & { requestId: string | number },
  pending?: number,
): Promise<void> {
  client.send({ type: "join", group: GROUP, topics: [TOPIC], sessionTimeoutMs: SESSION_MS, ...fields });
  if (pending !== undefined) await until(() => node.groups.group(GROUP)?.pendingJoins === pending);
}

/** The next frame must be the `joined` answering `requestId`. */
export async function expectJoined(client: StreamClient, requestId: string | number): Promise<JoinedFrame> {
  const joined = await client.expectFrame("joined");
  expect({ requestId: joined.requestId, group: joined.group }).toEqual({ requestId, group: GROUP });
  return joined;
}

/** The next frame must be a pushed `rebalance` for `memberId`. */
export async function expectRebalance(client: StreamClient, memberId: string): Promise<RebalanceFrame> {
  const rebalance = await client.expectFrame("rebalance");
  expect({ group: rebalance.group, memberId: rebalance.memberId }).toEqual({ group: GROUP, memberId });
  return rebalance;
}

/** "topic-partition" for each partition a join assigned. */
export function assigned(joined: JoinedFrame): string[] {
  return joined.assignment.map(({ topic, partition }) => `${topic}-${partition}`);
}

/** The answers share one generation, exactly one leads, and together they hold each partition once. */
export function expectSplit(answers: JoinedFrame[], partitionCount: number): void {
  const generations = new Set(answers.map((answer) => answer.generationId));
  expect(generations.size).toBe(1);
  expect(answers.filter((answer) => answer.leader)).toHaveLength(1);
  const all = answers.flatMap(assigned).sort();
  const expected = Array.from({ length: partitionCount }, (_, p) => `${TOPIC}-${p}`).sort();
  expect(all).toEqual(expected);
  for (const answer of answers) expect(answer.assignment.length).toBeGreaterThan(0);
}

export async function describeGroup(node: StreamNode): Promise<GroupDescription> {
  const response = await fetch(`${node.api}/groups/${GROUP}`);
  expect(response.status).toBe(200);
  return (await response.json()) as GroupDescription;
}
