// Consumer groups under test: a coordinator over a real data directory (or MemoryStorage) with a
// ManualClock and member ids that sort in join order, restartable cleanly or as after a crash, and the
// same behind a real loopback HTTP server, with small request helpers.
import { expect } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManualClock } from "../../lib/clock.ts";
import { GroupCoordinator, type JoinResult } from "../../lib/groups/group-coordinator.ts";
import type { Storage } from "../../lib/storage/storage.ts";
import { LogManager } from "../../lib/topics/log-manager.ts";
import { createApp } from "../../routes/app.ts";
import { START_MS } from "../log/helpers.ts";

export { expectError, sendJson, until } from "../gateway/helpers.ts";
export { START_MS } from "../log/helpers.ts";

export interface CoordinatorOptions {
  dataDir?: string;
  storage?: Storage;
  clock?: ManualClock;
  /** 0 unless a test is about the initial delay. */
  initialRebalanceDelayMs?: number;
  onReplaySkipped?: (error: unknown, where: string) => void;
}

export interface OpenCoordinator {
  logs: LogManager;
  groups: GroupCoordinator;
  clock: ManualClock;
  dataDir: string;
  /** Stops it: clean writes the shutdown marker; unclean abandons the logs as a crash would. */
  stop(options?: { clean?: boolean }): Promise<void>;
}

export function freshDataDir(): string {
  return mkdtempSync(join(tmpdir(), "sluice-groups-"));
}

export function removeDataDir(dataDir: string): void {
  rmSync(dataDir, { recursive: true, force: true });
}

export function openCoordinator(options: CoordinatorOptions = {}): OpenCoordinator {
  const dataDir = options.dataDir ?? freshDataDir();
  const clock = options.clock ?? new ManualClock(START_MS);
  const logs = LogManager.open({ dataDir, clock, ...(options.storage ? { storage: options.storage } : {}) });
  let next = 0;
  const groups = GroupCoordinator.open({
    logs,
    initialRebalanceDelayMs: options.initialRebalanceDelayMs ?? 0,
    newMemberId: (clientId) => `${clientId}-${String(next++).padStart(4, "0")}`,
    ...(options.onReplaySkipped ? { onReplaySkipped: options.onReplaySkipped } : {}),
  });
  const stop = async ({ clean = true } = {}) => {
    groups.close();
    if (clean) return logs.close();
    // No shutdown marker and nothing synced: the next open recovers, as after a crash.
    for (const topic of logs.listTopics()) {
      for (let p = 0; p < topic.partitions; p++) logs.partition(topic.name, p).closeWithoutFlush();
    }
  };
  return { logs, groups, clock, dataDir, stop };
}

export interface GroupNode extends OpenCoordinator, AsyncDisposable {
  /** http://127.0.0.1:<port>/api/v1 */
  api: string;
  /** Stops the node and starts another on the same data directory and clock. */
  restart(options?: { clean?: boolean }): Promise<GroupNode>;
  /** Stops it and removes its data directory. */
  close(): Promise<void>;
}

/** A coordinator served over a real loopback socket. */
export function startGroupNode(options: CoordinatorOptions = {}): GroupNode {
  const opened = openCoordinator(options);
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: createApp({ logs: opened.logs, groups: opened.groups }).fetch,
  });
  const stop = async (stopOptions: { clean?: boolean } = {}) => {
    await server.stop(true);
    await opened.stop(stopOptions);
  };
  const close = async () => {
    await stop();
    removeDataDir(opened.dataDir);
  };
  return {
    ...opened,
    api: `http://127.0.0.1:${server.port}/api/v1`,
    stop,
    close,
    async restart(restartOptions = {}) {
      await stop(restartOptions);
      return startGroupNode({ ...options, dataDir: opened.dataDir, clock: opened.clock });
    },
    [Symbol.asyncDispose]: close,
  };
}

/** POST /groups/{group}/members; the answer comes when the rebalance completes. */
export function joinRequest(
  node: GroupNode,
  group: string,
  body: Record<string, unknown>,
): Promise<Response> {
  return fetch(`${node.api}/groups/${encodeURIComponent(group)}/members`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

export async function joined(response: Promise<Response>): Promise<JoinResult> {
  const answer = await response;
  expect(answer.status).toBe(200);
  return (await answer.json()) as JoinResult;
}

/** The partitions of `topic` in a join's assignment. */
export function partitionsOf(result: JoinResult, topic: string): number[] {
  return result.assignment.find((entry) => entry.topic === topic)?.partitions ?? [];
}
