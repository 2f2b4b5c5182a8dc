// One node of a cluster: registers in etcd, keeps a snapshot of the cluster metadata fresh (a watch,
// and a poll as a safety net), creates and deletes local topics as the metadata says, runs the
// controller while it holds the controller key, and hands partition states to the replica manager.
// The gateway asks it who leads what and goes through it for appends and topic changes.
import { SluiceError } from "../errors.ts";
import { PARTITIONS_PER_TOPIC_MAX } from "../limits.ts";
import { isInternalTopic, type LogManager, validateTopicName } from "../topics/log-manager.ts";
import { parseTopicConfig, topicConfigSchema } from "../topics/topic-config.ts";
import { ClusterStore, coordinatorUnavailable } from "./cluster-store.ts";
import { reconcile, replicationFactorOf } from "./controller.ts";
import { HighWatermarkCheckpoint } from "./hw-checkpoint.ts";
import {
  type ClusterSnapshot,
  NO_LEADER,
  type NodeRecord,
  type PartitionState,
  partitionId,
} from "./metadata.ts";
import { ReplicaManager } from "./replica-manager.ts";
import { sleep } from "./sleep.ts";

export interface ClusterNodeOptions {
  nodeId: number;
  advertisedUrl: string;
  etcdEndpoints: string[];
  etcdPrefix: string;
  sessionTimeoutMs: number;
  replicaLagTimeMaxMs: number;
  replicaFetchWaitMaxMs: number;
  /** Kafka's replica.high.watermark.checkpoint.interval.ms (hw-checkpoint.ts). */
  replicaHighWatermarkCheckpointIntervalMs: number;
  ackTimeoutMs: number;
  /** The shared authAdminToken when access control is on: sent on every request to another node. */
  interNodeToken?: string | undefined;
  logs: LogManager;
  log: (level: string, msg: string, fields?: Record<string, unknown>) => void;
}

/** The safety-net poll: a watch that missed something is caught up within this. */
const METADATA_POLL_MS = 1000;
/** How long a topic creation waits for its partitions to have leaders before answering. */
const TOPIC_READY_WAIT_MS = 10_000;
/** How long the first registration with etcd may take before the node gives up starting. */
const REGISTER_TIMEOUT_MS = 30_000;

export type Leader = { kind: "self" } | { kind: "remote"; node: NodeRecord } | { kind: "none" };

export class ClusterNode {
  readonly store: ClusterStore;
  readonly replicas: ReplicaManager;
  #snapshot: ClusterSnapshot | undefined;
  #refreshing: Promise<void> | undefined;
  #refreshAgain = false;
  #pollTimer: ReturnType<typeof setInterval> | undefined;
  /** Topics seen in etcd: one that disappears from there is deleted here too. */
  readonly #knownTopics = new Set<string>();
  /** Partitions whose high watermark was set when this node first took them over. */
  readonly #adopted = new Map<string, { topic: string; partition: number }>();
  readonly #highWatermarks: HighWatermarkCheckpoint;
  #lastEtcdOkMs = 0;
  #closed = false;

  private constructor(readonly options: ClusterNodeOptions) {
    this.store = new ClusterStore({
      endpoints: options.etcdEndpoints,
      prefix: options.etcdPrefix,
      sessionTimeoutMs: options.sessionTimeoutMs,
      self: { id: options.nodeId, url: options.advertisedUrl },
      log: options.log,
    });
    this.replicas = new ReplicaManager({
      selfId: options.nodeId,
      logs: options.logs,
      store: this.store,
      replicaLagTimeMaxMs: options.replicaLagTimeMaxMs,
      replicaFetchWaitMaxMs: options.replicaFetchWaitMaxMs,
      interNodeToken: options.interNodeToken,
      log: options.log,
      refresh: () => this.refresh(),
    });
    this.#highWatermarks = new HighWatermarkCheckpoint({
      logs: options.logs,
      intervalMs: options.replicaHighWatermarkCheckpointIntervalMs,
      partitions: () => this.#adopted.values(),
      log: options.log,
    });
  }

  static async start(options: ClusterNodeOptions): Promise<ClusterNode> {
    const node = new ClusterNode(options);
    const deadline = Date.now() + REGISTER_TIMEOUT_MS;
    for (;;) {
      try {
        await node.store.awaitPreviousSessionEnd(3 * options.sessionTimeoutMs + 2000);
        await node.store.register();
        break;
      } catch (error) {
        if (Date.now() > deadline) throw coordinatorUnavailable(error);
        await sleep(500);
      }
    }
    await node.store.watch(() => node.refresh());
    node.#pollTimer = setInterval(() => node.refresh(), METADATA_POLL_MS);
    await node.refresh();
    node.#highWatermarks.start();
    return node;
  }

  get nodeId(): number {
    return this.options.nodeId;
  }

  get snapshot(): ClusterSnapshot | undefined {
    return this.#snapshot;
  }

  /** Reads the metadata again and acts on it; calls while one runs coalesce into one more run. */
  refresh(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#refreshing) {
      this.#refreshAgain = true;
      return this.#refreshing;
    }
    this.#refreshing = (async () => {
      do {
        this.#refreshAgain = false;
        try {
          await this.#refreshOnce();
        } catch (error) {
          this.options.log("debug", "cluster metadata refresh failed", { error: String(error) });
        }
      } while (this.#refreshAgain && !this.#closed);
    })().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #refreshOnce(): Promise<void> {
    const snapshot = await this.store.snapshot();
    this.#lastEtcdOkMs = Date.now();
    if (this.#closed) return;
    this.#snapshot = snapshot;
    this.#applyTopics(snapshot);
    this.#adoptPartitions(snapshot);
    await this.replicas.apply(snapshot);
    if (snapshot.controllerId === undefined && this.store.registered) {
      if (await this.store.campaignForController()) {
        this.options.log("info", "became controller");
        this.#refreshAgain = true;
      }
    } else if (snapshot.controllerId === this.options.nodeId) {
      if ((await reconcile(snapshot, { store: this.store, log: this.options.log })) > 0)
        this.#refreshAgain = true;
    }
  }

  /** Local topics follow etcd: created with their config, altered, deleted. */
  #applyTopics(snapshot: ClusterSnapshot): void {
    const { logs } = this.options;
    for (const topic of snapshot.topics.values()) {
      this.#knownTopics.add(topic.name);
      try {
        if (!logs.hasTopic(topic.name)) {
          // The offsets topic is the cluster's too (lib/cluster/group-coordination.ts), made by Sluice.
          const internal = isInternalTopic(topic.name) ? { internal: true } : {};
          logs.createTopic(topic.name, { partitions: topic.partitions, config: topic.config, ...internal });
          continue;
        }
        const wanted = parseTopicConfig(topic.config);
        if (JSON.stringify(logs.describeTopic(topic.name).config) !== JSON.stringify(wanted)) {
          const changes: Record<string, unknown> = {};
          for (const key of Object.keys(topicConfigSchema.shape)) changes[key] = topic.config[key] ?? null;
          logs.alterTopicConfig(topic.name, changes);
        }
      } catch (error) {
        this.options.log("warn", "could not apply a topic from the cluster", {
          topic: topic.name,
          error: String(error),
        });
      }
    }
    for (const name of [...this.#knownTopics]) {
      if (snapshot.topics.has(name)) continue;
      this.#knownTopics.delete(name);
      if (logs.hasTopic(name) && !isInternalTopic(name)) {
        logs.deleteTopic(name);
        this.#onTopicDeleted?.(name);
      }
    }
  }

  /**
   * The first time this process takes a replicated partition, its high watermark is the checkpointed
   * one (hw-checkpoint.ts), else the log start, never past the log end; from there the leader tells
   * it again (or, as leader, its followers' positions move it on).
   */
  #adoptPartitions(snapshot: ClusterSnapshot): void {
    for (const versioned of snapshot.partitions.values()) {
      const id = partitionId(versioned.topic, versioned.partition);
      if (this.#adopted.has(id) || !versioned.state.replicas.includes(this.options.nodeId)) continue;
      if (!this.options.logs.hasTopic(versioned.topic)) continue;
      const log = this.options.logs.partition(versioned.topic, versioned.partition);
      log.replication.highWatermarkFollowsLogEnd = false;
      const { topic, partition } = versioned;
      log.resetHighWatermark(this.#highWatermarks.checkpointed(topic, partition) ?? log.logStartOffset);
      this.#adopted.set(id, { topic, partition });
    }
  }

  #onTopicDeleted: ((topic: string) => void) | undefined;

  /** Called after the cluster deleted a local topic (long polls on it answer at once). */
  onTopicDeleted(listener: (topic: string) => void): void {
    this.#onTopicDeleted = listener;
  }

  // -------------------------------------------------------------------------------------------
  // Who leads

  partitionState(topic: string, partition: number): PartitionState | undefined {
    return this.#snapshot?.partitions.get(partitionId(topic, partition))?.state;
  }

  leaderOf(topic: string, partition: number): Leader {
    if (this.replicas.leads(topic, partition)) return { kind: "self" };
    const state = this.partitionState(topic, partition);
    if (state === undefined || state.leader === NO_LEADER) return { kind: "none" };
    if (state.leader === this.options.nodeId) return { kind: "none" }; // not taken up yet
    const node = this.#snapshot?.nodes.get(state.leader);
    return node === undefined ? { kind: "none" } : { kind: "remote", node };
  }

  /** Whether the local log has the partition: a topic of this node alone, or one it holds a replica of. */
  servesLocally(topic: string, partition: number): boolean {
    if (!this.manages(topic)) return true;
    const state = this.partitionState(topic, partition);
    return state === undefined || state.replicas.includes(this.options.nodeId);
  }

  /**
   * For reads of the local log (WebSocket subscriptions): throws NOT_LEADER_OR_FOLLOWER, naming the
   * nodes that hold the partition, when this node holds no replica of it (its log is empty here).
   */
  checkLocalReplica(topic: string, partition: number): void {
    if (this.servesLocally(topic, partition)) return;
    const state = this.partitionState(topic, partition);
    const holders = (state?.replicas ?? [])
      .map((id) => this.#snapshot?.nodes.get(id))
      .flatMap((node) => (node === undefined ? [] : [`node ${node.id} (${node.url})`]));
    throw new SluiceError(
      "NOT_LEADER_OR_FOLLOWER",
      `node ${this.nodeId} holds no replica of ${topic}-${partition}; subscribe on ` +
        (holders.length > 0 ? holders.join(" or ") : "a node that holds one (none is live now)"),
      { field: "partition" },
    );
  }

  /** Whether the topic is the cluster's (not a local-only internal topic). */
  manages(topic: string): boolean {
    return this.#snapshot?.topics.has(topic) ?? false;
  }

  // -------------------------------------------------------------------------------------------
  // Topics through etcd

  async createTopic(name: string, partitions: number | undefined, config: Record<string, unknown>) {
    validateTopicName(name);
    if (isInternalTopic(name)) {
      throw new SluiceError("INVALID_TOPIC_NAME", `topic name "${name}" is reserved for Sluice's own use`, {
        field: "name",
      });
    }
    const count = partitions ?? 1;
    if (!Number.isSafeInteger(count) || count < 1 || count > PARTITIONS_PER_TOPIC_MAX) {
      throw new SluiceError(
        "INVALID_PARTITIONS",
        `partitions must be 1 to ${PARTITIONS_PER_TOPIC_MAX}, not ${count}`,
        {
          field: "partitions",
        },
      );
    }
    parseTopicConfig(config);
    const live = this.#snapshot?.nodes.size ?? 0;
    const factor = replicationFactorOf(config, live);
    if (factor > live) {
      throw new SluiceError(
        "INVALID_REPLICATION_FACTOR",
        `replication.factor ${factor} is more than the ${live} live nodes`,
        { field: "config.replication.factor" },
      );
    }
    const record = {
      name,
      partitions: count,
      config: { ...config, "replication.factor": factor },
      createdMs: Date.now(),
    };
    let created: boolean;
    try {
      created = await this.store.createTopic(record);
    } catch (error) {
      throw coordinatorUnavailable(error);
    }
    if (!created)
      throw new SluiceError("TOPIC_ALREADY_EXISTS", `topic "${name}" already exists`, { field: "name" });
    await this.#waitFor(() => this.#topicReady(name, count), TOPIC_READY_WAIT_MS);
    return this.options.logs.describeTopic(name);
  }

  #topicReady(name: string, partitions: number): boolean {
    if (!this.options.logs.hasTopic(name)) return false;
    for (let p = 0; p < partitions; p++) {
      const state = this.partitionState(name, p);
      if (state === undefined || state.leader === NO_LEADER) return false;
    }
    return true;
  }

  async deleteTopic(name: string): Promise<void> {
    if (isInternalTopic(name) || !this.manages(name)) {
      this.options.logs.deleteTopic(name); // the local rules answer (internal, unknown)
      return;
    }
    try {
      await this.store.deleteTopic(name);
    } catch (error) {
      throw coordinatorUnavailable(error);
    }
    await this.#waitFor(() => !this.options.logs.hasTopic(name), TOPIC_READY_WAIT_MS);
  }

  async alterTopicConfig(name: string, changes: Record<string, unknown>) {
    const record = this.#snapshot?.topics.get(name);
    if (record === undefined) return this.options.logs.alterTopicConfig(name, changes);
    const config = { ...record.config };
    for (const [key, value] of Object.entries(changes)) {
      if (value === null) delete config[key];
      else config[key] = value;
    }
    if (config["replication.factor"] !== record.config["replication.factor"]) {
      throw new SluiceError("INVALID_CONFIG", "replication.factor cannot be changed here (reassignment)", {
        field: "config.replication.factor",
      });
    }
    const parsed = parseTopicConfig(config);
    try {
      await this.store.putTopic({ ...record, config });
    } catch (error) {
      throw coordinatorUnavailable(error);
    }
    await this.#waitFor(
      () => JSON.stringify(this.options.logs.describeTopic(name).config) === JSON.stringify(parsed),
      TOPIC_READY_WAIT_MS,
    );
    return this.options.logs.describeTopic(name);
  }

  async #waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) {
        throw new SluiceError(
          "REQUEST_TIMED_OUT",
          "the cluster did not apply the change in time; it may still",
        );
      }
      await this.refresh();
      if (!condition()) await sleep(50);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Health

  describe() {
    const snapshot = this.#snapshot;
    const registered = new Map([...(snapshot?.nodes.values() ?? [])].map((node) => [node.id, node]));
    // A node that holds replicas but has no live registration is down: listed, so the operator sees it.
    const perNode = new Map<number, { leaders: number; replicas: number }>();
    const countsOf = (id: number) => {
      const counts = perNode.get(id) ?? { leaders: 0, replicas: 0 };
      perNode.set(id, counts);
      return counts;
    };
    for (const id of registered.keys()) countsOf(id);
    let offline = 0;
    let underReplicated = 0;
    for (const { state } of snapshot?.partitions.values() ?? []) {
      if (state.leader === NO_LEADER) offline++;
      else countsOf(state.leader).leaders++;
      for (const replica of state.replicas) countsOf(replica).replicas++;
      // Replicas a reassignment is adding do not count until they join (Kafka's rule too).
      if (state.isr.length < state.replicas.length - state.addingReplicas.length) underReplicated++;
    }
    const nodes = [...perNode]
      .sort(([a], [b]) => a - b)
      .map(([id, counts]) => {
        const node = registered.get(id);
        return node === undefined
          ? { id, live: false, ...counts }
          : { id, url: node.url, live: true, ...counts };
      });
    return {
      nodeId: this.options.nodeId,
      controllerId: snapshot?.controllerId ?? null,
      etcd: {
        reachable: Date.now() - this.#lastEtcdOkMs < 3 * METADATA_POLL_MS,
        registered: this.store.registered,
      },
      nodes,
      partitions: {
        total: snapshot?.partitions.size ?? 0,
        ledHere: perNode.get(this.options.nodeId)?.leaders ?? 0,
        offline,
        underReplicated,
      },
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#pollTimer);
    await this.#refreshing?.catch(() => undefined);
    await this.replicas.close();
    this.#highWatermarks.close();
    await this.store.close();
  }
}
