// A produce in cluster mode: each partition's batches go to its leader. Batches for partitions this
// node leads are appended here (after the leader's checks: leadership, min.insync.replicas for
// acks=all) and, for acks=all, answered once the ISR has them; batches for partitions another node
// leads are forwarded there as raw batches, whatever form the client sent them in (JSON, raw, the
// WebSocket), and its answer is passed on.
import { Buffer } from "node:buffer";
import { ERRORS, type ErrorName, SluiceError } from "../errors.ts";
import type { AppendBatchesOptions, PendingBatch } from "../gateway/append-batches.ts";
import { RECORD_BATCH_MEDIA_TYPE } from "../gateway/batch-frames.ts";
import type { Gateway } from "../gateway/gateway.ts";
import type { AppendResult } from "../log/partition-log.ts";
import type { ClusterNode } from "./cluster-node.ts";
import type { NodeRecord } from "./metadata.ts";
import { peerHeaders } from "./peer-auth.ts";

/** Marks a request one node sent another: the receiver answers it itself or refuses, never forwards again. */
export const FORWARDED_HEADER = "x-sluice-forwarded-by";

type AppendLocal = (
  gateway: Gateway,
  topic: string,
  batches: PendingBatch[],
  options: AppendBatchesOptions,
) => Promise<AppendResult[]>;

export async function appendReplicated(
  gateway: Gateway,
  cluster: ClusterNode,
  topic: string,
  batches: PendingBatch[],
  options: AppendBatchesOptions,
  appendLocal: AppendLocal,
): Promise<AppendResult[]> {
  const local: number[] = [];
  const remote = new Map<number, { node: NodeRecord; indexes: number[] }>();
  // Every leader is known before anything is written, so a request fails whole when one is missing.
  for (const [i, batch] of batches.entries()) {
    gateway.logs.partition(topic, batch.partition); // an unknown partition is a 404 first
    const leader = cluster.leaderOf(topic, batch.partition);
    if (leader.kind === "self") {
      cluster.replicas.checkAppend(topic, batch.partition, options.acks === "all");
      local.push(i);
    } else if (leader.kind === "remote") {
      const entry = remote.get(batch.partition) ?? { node: leader.node, indexes: [] };
      entry.indexes.push(i);
      remote.set(batch.partition, entry);
    } else {
      throw new SluiceError(
        "LEADER_NOT_AVAILABLE",
        `partition ${topic}-${batch.partition} has no leader now; retry shortly`,
        { field: batch.field },
      );
    }
  }
  const results = new Array<AppendResult>(batches.length);
  const forwards = [...remote].map(async ([partition, { node, indexes }]) => {
    const answered = await forwardBatches(
      node,
      topic,
      partition,
      indexes.map((i) => batches[i]!.bytes),
      options,
      cluster,
    );
    for (const [j, i] of indexes.entries()) results[i] = answered[j]!;
  });
  const appendHere = (async () => {
    if (local.length === 0) return;
    const appended = await appendLocal(
      gateway,
      topic,
      local.map((i) => batches[i]!),
      options,
    );
    const lastByPartition = new Map<number, number>();
    for (const [j, i] of local.entries()) {
      results[i] = appended[j]!;
      const partition = batches[i]!.partition;
      lastByPartition.set(partition, Math.max(lastByPartition.get(partition) ?? -1, appended[j]!.lastOffset));
    }
    for (const partition of lastByPartition.keys()) cluster.replicas.appended(topic, partition);
    if (options.acks !== "all") return;
    await Promise.all(
      [...lastByPartition].map(([partition, lastOffset]) =>
        cluster.replicas.awaitCommit(topic, partition, lastOffset, cluster.options.ackTimeoutMs),
      ),
    );
  })();
  // Both settle before the answer: a failure in one must not leave the other running unobserved.
  const settled = await Promise.allSettled([appendHere, ...forwards]);
  const failure = settled.find((outcome) => outcome.status === "rejected");
  if (failure) throw failure.reason;
  return results;
}

const forwardAnswer = (
  body: unknown,
): Array<Omit<AppendResult, "logStartOffset">> & { logStartOffset?: number } =>
  (body as { batches: Array<Omit<AppendResult, "logStartOffset">> }).batches;

async function forwardBatches(
  node: NodeRecord,
  topic: string,
  partition: number,
  batches: Uint8Array[],
  options: AppendBatchesOptions,
  cluster: ClusterNode,
): Promise<AppendResult[]> {
  const acks = options.acks === "all" ? "all" : String(options.acks);
  const url =
    `${node.url}/api/v1/topics/${encodeURIComponent(topic)}/partitions/${partition}/batches` +
    `?acks=${acks}&durable=${options.durable}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: {
        ...peerHeaders(cluster.options.interNodeToken),
        "content-type": RECORD_BATCH_MEDIA_TYPE,
        [FORWARDED_HEADER]: String(cluster.nodeId),
      },
      body: Buffer.concat(batches),
    });
  } catch (error) {
    throw new SluiceError(
      "LEADER_NOT_AVAILABLE",
      `the leader of ${topic}-${partition} (node ${node.id}) cannot be reached: ${String(error)}`,
      { cause: error },
    );
  }
  if (response.status === 202) {
    // acks=0: the leader says nothing of where the batches went.
    return batches.map(() => ({
      baseOffset: -1,
      lastOffset: -1,
      recordCount: 0,
      logAppendTime: -1,
      logStartOffset: -1,
    }));
  }
  const body = (await response.json().catch(() => undefined)) as
    | {
        batches?: unknown;
        logStartOffset?: number;
        error?: { name?: string; message?: string; field?: string };
      }
    | undefined;
  if (!response.ok || body?.batches === undefined) {
    throw remoteError(
      body?.error,
      () => new SluiceError("LEADER_NOT_AVAILABLE", `node ${node.id} answered ${response.status}`),
    );
  }
  const logStartOffset = body.logStartOffset ?? 0;
  return forwardAnswer(body).map((result) => ({ ...result, logStartOffset }));
}

/**
 * Another node's error, as that node named it, so the client sees the same error from any node;
 * `otherwise` when its answer names none this node knows.
 */
export function remoteError(
  error: { name?: string; message?: string; field?: string } | undefined,
  otherwise: () => SluiceError,
): SluiceError {
  const name = error?.name;
  if (name !== undefined && name in ERRORS) {
    const field = error?.field;
    return new SluiceError(name as ErrorName, error?.message ?? name, field === undefined ? {} : { field });
  }
  return otherwise();
}
