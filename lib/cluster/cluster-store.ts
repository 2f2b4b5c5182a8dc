// The cluster's one connection to etcd (npm etcd3): the node's lease and registration, the
// controller election, consistent reads of the metadata, a watch that says when it changed, and
// compare-and-put writes. A lost lease (etcd away longer than the session timeout) is granted again
// and the node re-registers; nothing here blocks the data path while etcd is down.
import { Etcd3, type Lease, type Watcher } from "etcd3";
import { SluiceError } from "../errors.ts";
import {
  ClusterKeys,
  type ClusterSnapshot,
  type NodeRecord,
  type PartitionState,
  parseSnapshot,
  type TopicRecord,
} from "./metadata.ts";
import { sleep } from "./sleep.ts";

export interface ClusterStoreOptions {
  endpoints: string[];
  prefix: string;
  sessionTimeoutMs: number;
  self: NodeRecord;
  log: (level: string, msg: string, fields?: Record<string, unknown>) => void;
}

/** How long one etcd call may take before it counts as failed (etcd away). */
const ETCD_CALL_TIMEOUT_MS = 2000;

export class ClusterStore {
  readonly keys: ClusterKeys;
  readonly #client: Etcd3;
  #lease: Lease | undefined;
  #watcher: Watcher | undefined;
  #closed = false;

  constructor(readonly options: ClusterStoreOptions) {
    this.keys = new ClusterKeys(options.prefix);
    this.#client = new Etcd3({
      hosts: options.endpoints,
      dialTimeout: ETCD_CALL_TIMEOUT_MS,
      defaultCallOptions: (context) =>
        context.isStream ? {} : { deadline: new Date(Date.now() + ETCD_CALL_TIMEOUT_MS) },
    });
  }

  /**
   * After an unclean stop the node's previous registration may still be alive (its lease not yet
   * expired): a node that came straight back would keep leading with the same epoch, and nobody would
   * notice it had gone. So it waits until the old registration expires and the controller has moved
   * its leaderships away, as if its session had ended (Kafka fences a restarted broker the same way).
   */
  async awaitPreviousSessionEnd(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const selfId = this.options.self.id;
    for (;;) {
      const snapshot = await this.snapshot();
      const registered = snapshot.nodes.has(selfId);
      const leads = [...snapshot.partitions.values()].some((p) => p.state.leader === selfId);
      if (!registered && !leads) return;
      if (Date.now() > deadline) return;
      await sleep(100);
    }
  }

  /** Grants the node's lease and registers the node; retried by the caller until etcd answers. */
  async register(): Promise<void> {
    const ttlSeconds = Math.max(2, Math.ceil(this.options.sessionTimeoutMs / 1000));
    const lease = this.#client.lease(ttlSeconds);
    lease.on("lost", (error) => {
      if (this.#closed || this.#lease !== lease) return;
      this.options.log("warn", "etcd lease lost; registering again", { error: String(error) });
      this.#lease = undefined;
      void this.#registerUntilDone();
    });
    await lease.put(this.keys.node(this.options.self.id)).value(JSON.stringify(this.options.self));
    this.#lease = lease;
  }

  async #registerUntilDone(): Promise<void> {
    while (!this.#closed && this.#lease === undefined) {
      try {
        await this.register();
        this.options.log("info", "registered with etcd again");
      } catch {
        await Bun.sleep(500);
      }
    }
  }

  get registered(): boolean {
    return this.#lease !== undefined;
  }

  /** Becomes the controller when there is none: the key lives with this node's lease. */
  async campaignForController(): Promise<boolean> {
    const lease = this.#lease;
    if (lease === undefined) return false;
    const leaseId = await lease.grant();
    const key = this.keys.controller;
    const result = await this.#client
      .if(key, "Create", "==", 0)
      .then(
        this.#client
          .put(key)
          .value(JSON.stringify({ id: this.options.self.id }))
          .lease(leaseId),
      )
      .commit();
    return result.succeeded;
  }

  async snapshot(): Promise<ClusterSnapshot> {
    const response = await this.#client.getAll().prefix(`${this.options.prefix}/`).exec();
    const kvs = response.kvs.map((kv) => ({
      key: kv.key.toString(),
      value: kv.value.toString(),
      modRevision: kv.mod_revision,
    }));
    return parseSnapshot(this.keys, kvs, response.header.revision, (key) =>
      this.options.log("warn", "malformed cluster metadata skipped", { key }),
    );
  }

  /** Calls `onChange` after any change under the prefix (the watch reconnects by itself). */
  async watch(onChange: () => void): Promise<void> {
    this.#watcher = await this.#client.watch().prefix(`${this.options.prefix}/`).create();
    this.#watcher.on("put", onChange);
    this.#watcher.on("delete", onChange);
    this.#watcher.on("connected", onChange);
    this.#watcher.on("error", () => undefined);
  }

  /** Creates the topic's record unless one exists; false when it does. */
  async createTopic(topic: TopicRecord): Promise<boolean> {
    const key = this.keys.topic(topic.name);
    const result = await this.#client
      .if(key, "Create", "==", 0)
      .then(this.#client.put(key).value(JSON.stringify(topic)))
      .commit();
    return result.succeeded;
  }

  async putTopic(topic: TopicRecord): Promise<void> {
    await this.#client.put(this.keys.topic(topic.name)).value(JSON.stringify(topic));
  }

  async deleteTopic(name: string): Promise<void> {
    await this.#client.delete().key(this.keys.topic(name));
    await this.#client.delete().prefix(this.keys.topicPartitions(name));
  }

  /**
   * Writes a partition's state if its key is still at `modRevision` ("0": absent), Kafka's partition
   * epoch check: false when someone else changed it first. Returns the new mod revision on success.
   */
  async compareAndPutPartition(
    topic: string,
    partition: number,
    state: PartitionState,
    modRevision: string,
  ): Promise<string | undefined> {
    const key = this.keys.partition(topic, partition);
    const result = await this.#client
      .if(key, "Mod", "==", modRevision)
      .then(this.#client.put(key).value(JSON.stringify(state)))
      .commit();
    return result.succeeded ? result.header.revision : undefined;
  }

  /** Leaves at once on a clean stop: the lease's keys (registration, controller) go with it. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#watcher?.cancel().catch(() => undefined);
    await this.#lease?.revoke().catch(() => undefined);
    this.#client.close();
  }
}

/** An etcd failure as the API reports it. */
export function coordinatorUnavailable(error: unknown): SluiceError {
  return new SluiceError("COORDINATOR_NOT_AVAILABLE", `etcd cannot be reached: ${String(error)}`, {
    cause: error,
  });
}
