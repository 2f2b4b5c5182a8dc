// A typed client for every HTTP route of Sluice (README "HTTP API"): topics, JSON and raw produce,
// fetch, offsets, idempotent producer ids, consumer groups, health and metrics. The answer types are
// the server's own (type imports only, erased at build), so a change on the server fails tsc here.

import type { ClusterAnswer } from "../../routes/cluster.ts";
import type { ReassignmentRequest, ReassignmentStatus } from "../cluster/reassignments.ts";
import type { Acks } from "../gateway/append-batches.ts";
import { RECORD_BATCH_MEDIA_TYPE } from "../gateway/batch-frames.ts";
import type { ListedOffset } from "../gateway/list-offsets.ts";
import type { FetchPayloadFormat, PayloadFormat } from "../gateway/payload-format.ts";
import type { ProduceBatchesResult } from "../gateway/produce-batches.ts";
import type { IdempotentProducer, ProducedRecord, ProduceRecordsResult } from "../gateway/produce-records.ts";
import type { JsonRecord } from "../gateway/record-json.ts";
import type { AssignorName } from "../groups/assignors.ts";
import type { CommittedOffset, OffsetToCommit } from "../groups/committed-offsets.ts";
import type { GroupDescription, GroupSummary, JoinResult } from "../groups/group-coordinator.ts";
import type { TopicDescription, TopicSummary } from "../topics/log-manager.ts";
import type { TopicConfig, TopicConfigInput } from "../topics/topic-config.ts";
import { HttpClient, type HttpClientOptions } from "./http.ts";

export type {
  Acks,
  AssignorName,
  ClusterAnswer,
  CommittedOffset,
  FetchPayloadFormat,
  GroupDescription,
  GroupSummary,
  IdempotentProducer,
  JoinResult,
  JsonRecord,
  ListedOffset,
  PayloadFormat,
  ProduceBatchesResult,
  ProducedRecord,
  ProduceRecordsResult,
  ReassignmentRequest,
  ReassignmentStatus,
  TopicConfig,
  TopicConfigInput,
  TopicDescription,
  TopicSummary,
};

export { RECORD_BATCH_MEDIA_TYPE };

const API = "/api/v1";

export interface ProduceOptions {
  acks?: Acks;
  /** Answer only once the append is fsynced. */
  durable?: boolean;
  signal?: AbortSignal;
}

export interface ProduceRecordsOptions extends ProduceOptions {
  keyFormat?: PayloadFormat;
  valueFormat?: PayloadFormat;
  producer?: IdempotentProducer;
}

export interface FetchOptions {
  /** First offset to read; the log start when left out. */
  offset?: number;
  maxBytes?: number;
  minBytes?: number;
  /** A long poll: wait this long at most for minBytes. */
  maxWaitMs?: number;
  signal?: AbortSignal;
}

export interface JsonFetchOptions extends FetchOptions {
  keyFormat?: FetchPayloadFormat;
  valueFormat?: FetchPayloadFormat;
}

export interface FetchAnswer {
  records: JsonRecord[];
  nextOffset: number;
  highWatermark: number;
  logStartOffset: number;
  logEndOffset: number;
}

export interface BinaryFetchAnswer {
  /** RecordBatch v2 bytes as stored, back to back; empty when there were none. */
  batches: Uint8Array;
  nextOffset: number;
  highWatermark: number;
  logStartOffset: number;
}

/** earliest, latest, or the first record at least this late (ms since the epoch, or a Date). */
export type OffsetAt = "earliest" | "latest" | number | Date;

export type OffsetReset =
  | { to: "earliest" | "latest"; topic: string; partitions?: number[] }
  | { to: "timestamp"; topic: string; partitions?: number[]; timestamp: number }
  | { to: "offset"; topic: string; partitions?: number[]; offset: number };

export interface JoinOptions {
  topics: string[];
  memberId?: string;
  clientId?: string;
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  assignor?: AssignorName;
  signal?: AbortSignal;
}

/** Longest join wait the server allows (REBALANCE_TIMEOUT_MS_MAX) and the join's default. */
const JOIN_WAIT_MS_MAX = 30_000;

export class SluiceAdmin {
  readonly http: HttpClient;

  constructor(options: HttpClientOptions | HttpClient = {}) {
    this.http = options instanceof HttpClient ? options : new HttpClient(options);
  }

  // Topics --------------------------------------------------------------------------------------

  async listTopics(): Promise<TopicSummary[]> {
    return (await this.http.json<{ topics: TopicSummary[] }>("GET", `${API}/topics`)).topics;
  }

  createTopic(
    name: string,
    options: { partitions?: number; config?: TopicConfigInput } = {},
  ): Promise<TopicDescription> {
    return this.http.json("POST", `${API}/topics`, { json: { name, ...options } });
  }

  describeTopic(name: string): Promise<TopicDescription> {
    return this.http.json("GET", `${API}/topics/${enc(name)}`);
  }

  /** Changes the given keys; null puts a key back to its default. */
  alterTopicConfig(
    name: string,
    config: { [K in keyof TopicConfigInput]?: TopicConfigInput[K] | null },
  ): Promise<TopicDescription> {
    return this.http.json("PATCH", `${API}/topics/${enc(name)}/config`, { json: { config } });
  }

  async deleteTopic(name: string): Promise<void> {
    await this.http.send("DELETE", `${API}/topics/${enc(name)}`);
  }

  // Produce -------------------------------------------------------------------------------------

  /** JSON produce; with acks 0 the answer says nothing, so this resolves to null. */
  async produce(
    topic: string,
    records: ProducedRecord[],
    options: ProduceRecordsOptions = {},
  ): Promise<ProduceRecordsResult | null> {
    const { keyFormat, valueFormat, producer } = options;
    const response = await this.http.request("POST", `${API}/topics/${enc(topic)}/records`, {
      query: produceQuery(options),
      json: { keyFormat, valueFormat, records, producer },
      signal: options.signal,
    });
    if (response.status === 202) {
      await response.body?.cancel();
      return null;
    }
    return (await response.json()) as ProduceRecordsResult;
  }

  /** Raw produce: RecordBatch v2 bytes back to back, appended as sent; null with acks 0. */
  async produceBatches(
    topic: string,
    partition: number,
    batches: Uint8Array,
    options: ProduceOptions = {},
  ): Promise<ProduceBatchesResult | null> {
    const response = await this.http.request("POST", `${partitionPath(topic, partition)}/batches`, {
      query: produceQuery(options),
      body: batches,
      contentType: RECORD_BATCH_MEDIA_TYPE,
      signal: options.signal,
    });
    if (response.status === 202) {
      await response.body?.cancel();
      return null;
    }
    return (await response.json()) as ProduceBatchesResult;
  }

  /** A new idempotent producer id (epoch 0), or the next epoch of one this node issued. */
  initProducer(
    current: { producerId: number; producerEpoch?: number } | undefined = undefined,
  ): Promise<{ producerId: number; producerEpoch: number }> {
    return this.http.json("POST", `${API}/producers`, { json: current ?? {} });
  }

  // Fetch and offsets ---------------------------------------------------------------------------

  fetch(topic: string, partition: number, options: JsonFetchOptions = {}): Promise<FetchAnswer> {
    return this.http.json("GET", `${partitionPath(topic, partition)}/records`, {
      query: { ...fetchQuery(options), key_format: options.keyFormat, value_format: options.valueFormat },
      timeoutMs: this.#longPollTimeoutMs(options.maxWaitMs),
      signal: options.signal,
    });
  }

  /** The batches as stored (sent with sendfile); decode them with decodeBatches (./record-batches.ts). */
  async fetchBinary(
    topic: string,
    partition: number,
    options: FetchOptions = {},
  ): Promise<BinaryFetchAnswer> {
    const response = await this.http.request("GET", `${partitionPath(topic, partition)}/records`, {
      query: { ...fetchQuery(options), format: "binary" },
      timeoutMs: this.#longPollTimeoutMs(options.maxWaitMs),
      signal: options.signal,
    });
    const header = (name: string) => Number(response.headers.get(`x-sluice-${name}`));
    return {
      batches: response.status === 204 ? new Uint8Array(0) : new Uint8Array(await response.arrayBuffer()),
      nextOffset: header("next-offset"),
      highWatermark: header("high-watermark"),
      logStartOffset: header("log-start-offset"),
    };
  }

  offset(topic: string, partition: number, at: OffsetAt): Promise<ListedOffset> {
    const text = at instanceof Date ? String(at.getTime()) : String(at);
    return this.http.json("GET", `${partitionPath(topic, partition)}/offsets`, { query: { at: text } });
  }

  // Consumer groups -----------------------------------------------------------------------------

  async listGroups(): Promise<GroupSummary[]> {
    return (await this.http.json<{ groups: GroupSummary[] }>("GET", `${API}/groups`)).groups;
  }

  describeGroup(group: string): Promise<GroupDescription> {
    return this.http.json("GET", `${API}/groups/${enc(group)}`);
  }

  async deleteGroup(group: string): Promise<void> {
    await this.http.send("DELETE", `${API}/groups/${enc(group)}`);
  }

  /** All or none. A member names itself and its generation; a standalone consumer neither. */
  async commitOffsets(
    group: string,
    offsets: OffsetToCommit[],
    member: { memberId: string; generationId: number } | undefined = undefined,
  ): Promise<CommittedOffset[]> {
    const body = { offsets, ...member };
    const answer = await this.http.json<{ offsets: CommittedOffset[] }>(
      "POST",
      `${API}/groups/${enc(group)}/offsets`,
      { json: body },
    );
    return answer.offsets;
  }

  async committedOffsets(group: string, topic?: string): Promise<CommittedOffset[]> {
    const path = `${API}/groups/${enc(group)}/offsets`;
    return (await this.http.json<{ offsets: CommittedOffset[] }>("GET", path, { query: { topic } })).offsets;
  }

  /** Only while the group has no members (NON_EMPTY_GROUP otherwise). */
  async resetOffsets(group: string, reset: OffsetReset): Promise<CommittedOffset[]> {
    const path = `${API}/groups/${enc(group)}/offsets/reset`;
    return (await this.http.json<{ offsets: CommittedOffset[] }>("POST", path, { json: reset })).offsets;
  }

  /** A long poll answered when the group's rebalance completes. */
  joinGroup(group: string, options: JoinOptions): Promise<JoinResult> {
    const { signal, ...body } = options;
    return this.http.json("POST", `${API}/groups/${enc(group)}/members`, {
      json: body,
      timeoutMs: this.http.timeoutMs + (options.rebalanceTimeoutMs ?? JOIN_WAIT_MS_MAX) + 3_000,
      signal,
    });
  }

  async heartbeat(group: string, memberId: string, generationId: number): Promise<void> {
    const path = `${API}/groups/${enc(group)}/members/${enc(memberId)}/heartbeat`;
    await this.http.send("POST", path, { json: { generationId } });
  }

  async leaveGroup(group: string, memberId: string): Promise<void> {
    await this.http.send("DELETE", `${API}/groups/${enc(group)}/members/${enc(memberId)}`);
  }

  // Cluster -------------------------------------------------------------------------------------

  /** Nodes, controller and partition health (`enabled: false` on a node that runs alone). */
  cluster(): Promise<ClusterAnswer> {
    return this.http.json("GET", `${API}/cluster`);
  }

  /** Starts moving partitions to new replica lists (cluster mode); answers once they are started. */
  async reassignPartitions(partitions: ReassignmentRequest[]): Promise<ReassignmentStatus[]> {
    const answer = await this.http.json<{ reassignments: ReassignmentStatus[] }>(
      "POST",
      `${API}/cluster/reassignments`,
      { json: { partitions } },
    );
    return answer.reassignments;
  }

  async listReassignments(): Promise<ReassignmentStatus[]> {
    const answer = await this.http.json<{ reassignments: ReassignmentStatus[] }>(
      "GET",
      `${API}/cluster/reassignments`,
    );
    return answer.reassignments;
  }

  /** Goes back to the partition's replicas before the move. */
  cancelReassignment(topic: string, partition: number): Promise<ReassignmentStatus> {
    return this.http.json("DELETE", `${API}/cluster/reassignments/${enc(topic)}/${partition}`);
  }

  // Operations ----------------------------------------------------------------------------------

  healthz(): Promise<{ status: "ok" }> {
    return this.http.json("GET", "/healthz");
  }

  readyz(): Promise<{ status: "ready"; topics: number }> {
    return this.http.json("GET", "/readyz");
  }

  /** Prometheus text exposition. */
  metrics(): Promise<string> {
    return this.http.text("GET", "/metrics");
  }

  #longPollTimeoutMs(maxWaitMs: number | undefined): number {
    return this.http.timeoutMs + (maxWaitMs ?? 0);
  }
}

function enc(name: string): string {
  return encodeURIComponent(name);
}

function partitionPath(topic: string, partition: number): string {
  return `${API}/topics/${enc(topic)}/partitions/${partition}`;
}

function produceQuery(options: ProduceOptions): Record<string, string | boolean | undefined> {
  return { acks: options.acks === undefined ? undefined : String(options.acks), durable: options.durable };
}

function fetchQuery(options: FetchOptions): Record<string, number | undefined> {
  return {
    offset: options.offset,
    max_bytes: options.maxBytes,
    min_bytes: options.minBytes,
    max_wait_ms: options.maxWaitMs,
  };
}
