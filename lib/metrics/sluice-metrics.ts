// Every metric a Sluice node exposes, named and explained in one place: traffic in and out per
// partition, HTTP latency and concurrency, the logs' offsets and sizes (read at scrape time), and
// how often a gateway limit turned a request away.
import { assert } from "../assert.ts";
import type { Clock } from "../clock.ts";
import { FETCH_MAX_WAIT_MS_MAX } from "../gateway/limits.ts";
import type { PartitionLog } from "../log/partition-log.ts";
import type { LogManager } from "../topics/log-manager.ts";
import type { Counter } from "./counter.ts";
import type { Gauge } from "./gauge.ts";
import type { Histogram } from "./histogram.ts";
import { Registry } from "./registry.ts";

/** The gateway limits whose refusals are counted, named after their constants in lib/gateway/limits.ts. */
export const LIMIT_NAMES = [
  "request_body_bytes",
  "records_per_request",
  "fetch_waiters",
  "ws_connections",
  "ws_subscriptions",
  "ws_frame_bytes",
  "produce_rate",
] as const;
export type LimitName = (typeof LIMIT_NAMES)[number];

/**
 * Upper bounds in seconds of the request latency buckets: a loopback append takes well under a
 * millisecond, and a long poll may take up to its 30 s maximum.
 */
export const HTTP_DURATION_BUCKETS_S = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
] as const;

assert(
  HTTP_DURATION_BUCKETS_S.at(-1)! * 1000 >= FETCH_MAX_WAIT_MS_MAX,
  "the longest long poll must fall in a finite latency bucket",
);

/** The route label of a request no route matched: raw paths would let clients mint series. */
export const UNMATCHED_ROUTE = "unmatched";

/** What Bun's server reports about itself; only the HTTP layer sees the server (lib/platform). */
export interface ServerStats {
  /** Requests being handled, including responses still streaming out. */
  readonly pendingRequests: number;
  /** Open WebSocket connections. */
  readonly pendingWebSockets: number;
}

/**
 * The hook for consumer lag: the group coordinator (lib/groups/group-coordinator.ts) is passed here and
 * sluice_consumer_group_lag is exposed from it at each scrape.
 */
export interface ConsumerLagSource {
  /**
   * Per group and committed partition: the log end offset minus the group's committed offset, at
   * least 0 (on one node the high watermark is the log end).
   */
  lags(): Iterable<{ group: string; topic: string; partition: number; lag: number }>;
}

export interface TrafficCounts {
  records: number;
  bytes: number;
}

/** Everything counted in and out of one topic since the node started (or the topic was last deleted). */
export interface TopicTraffic {
  recordsIn: number;
  bytesIn: number;
  recordsOut: number;
  bytesOut: number;
}

export interface RequestOutcome {
  method: string;
  /** The pattern that matched (/api/v1/topics/:topic), or UNMATCHED_ROUTE. */
  route: string;
  status: number;
}

export interface SluiceMetricsOptions {
  /** Times requests; the log manager's clock, so tests can move it. */
  clock?: Clock;
  consumerLag?: ConsumerLagSource;
}

const PARTITION_LABELS = ["topic", "partition"] as const;

export class SluiceMetrics {
  readonly registry = new Registry();
  readonly clock: Clock;
  readonly #recordsIn: Counter;
  readonly #bytesIn: Counter;
  readonly #recordsOut: Counter;
  readonly #bytesOut: Counter;
  readonly #limitHits: Counter;
  readonly #requestDuration: Histogram;
  readonly #requestsInFlight: Gauge;
  #server: ServerStats | undefined;
  #consumerLag: ConsumerLagSource | undefined;

  constructor(logs: LogManager, options: SluiceMetricsOptions = {}) {
    const registry = this.registry;
    this.clock = options.clock ?? logs.clock;
    const partitionCounter = (name: string, help: string) =>
      registry.counter({ name, help, labelNames: PARTITION_LABELS });
    this.#recordsIn = partitionCounter(
      "sluice_records_in_total",
      "Records appended by produce requests (JSON and raw batches).",
    );
    this.#bytesIn = partitionCounter(
      "sluice_bytes_in_total",
      "Bytes of record batches appended by produce requests, as received.",
    );
    this.#recordsOut = partitionCounter(
      "sluice_records_out_total",
      "Records answered to fetches: the offsets a consumer moved past.",
    );
    this.#bytesOut = partitionCounter(
      "sluice_bytes_out_total",
      "Bytes of record batches read from the log to answer fetches (JSON or binary).",
    );
    this.#requestDuration = registry.histogram({
      name: "sluice_http_request_duration_seconds",
      help: "Time from a request's arrival to its response being ready, by route pattern and status class.",
      labelNames: ["method", "route", "status"],
      buckets: HTTP_DURATION_BUCKETS_S,
    });
    this.#requestsInFlight = registry.gauge({
      name: "sluice_http_requests_in_flight",
      help: "HTTP requests being handled now, long polls included.",
    });
    registry.gauge({
      name: "sluice_http_pending_requests",
      help: "Requests the HTTP server holds, responses still being sent included (Bun's count).",
      collect: (gauge) => {
        if (this.#server !== undefined) gauge.set({}, this.#server.pendingRequests);
      },
    });
    registry.gauge({
      name: "sluice_websocket_connections",
      help: "Open WebSocket connections (Bun's count).",
      collect: (gauge) => {
        if (this.#server !== undefined) gauge.set({}, this.#server.pendingWebSockets);
      },
    });
    this.#limitHits = registry.counter({
      name: "sluice_limit_hits_total",
      help: "Requests a gateway limit turned away or cut short, by limit (lib/gateway/limits.ts).",
      labelNames: ["limit"],
    });
    for (const limit of LIMIT_NAMES) this.#limitHits.inc({ limit }, 0);
    registerPartitionGauges(registry, logs);
    if (options.consumerLag !== undefined) this.watchConsumerLag(options.consumerLag);
  }

  /**
   * Exposes sluice_consumer_group_lag from `source` from now on (the app's group coordinator, made
   * after these metrics when they are passed in); a later source replaces an earlier one.
   */
  watchConsumerLag(source: ConsumerLagSource): void {
    if (this.#consumerLag === undefined) {
      this.registry.gauge({
        name: "sluice_consumer_group_lag",
        help: "Records between a consumer group's committed offset and the partition's log end offset.",
        labelNames: ["group", "topic", "partition"],
        collect: (gauge) => {
          for (const { group, topic, partition, lag } of this.#consumerLag!.lags())
            gauge.set({ group, topic, partition }, lag);
        },
      });
    }
    this.#consumerLag = source;
  }

  recordsIn(topic: string, partition: number, counts: TrafficCounts): void {
    this.#recordsIn.inc({ topic, partition }, counts.records);
    this.#bytesIn.inc({ topic, partition }, counts.bytes);
  }

  recordsOut(topic: string, partition: number, counts: TrafficCounts): void {
    this.#recordsOut.inc({ topic, partition }, counts.records);
    this.#bytesOut.inc({ topic, partition }, counts.bytes);
  }

  /** The traffic counters summed over each topic's partitions: what the admin UI's rates are made of. */
  trafficByTopic(): Map<string, TopicTraffic> {
    const byTopic = new Map<string, TopicTraffic>();
    const fields: Array<[Counter, keyof TopicTraffic]> = [
      [this.#recordsIn, "recordsIn"],
      [this.#bytesIn, "bytesIn"],
      [this.#recordsOut, "recordsOut"],
      [this.#bytesOut, "bytesOut"],
    ];
    for (const [counter, field] of fields) {
      for (const { labels, total } of counter.totals()) {
        const topic = labels["topic"]!;
        let traffic = byTopic.get(topic);
        if (traffic === undefined) {
          traffic = { recordsIn: 0, bytesIn: 0, recordsOut: 0, bytesOut: 0 };
          byTopic.set(topic, traffic);
        }
        traffic[field] += total;
      }
    }
    return byTopic;
  }

  limitHit(limit: LimitName): void {
    this.#limitHits.inc({ limit });
  }

  /** A deleted topic's traffic series go with it, as Kafka drops a deleted topic's metrics. */
  forgetTopic(topic: string): void {
    for (const counter of [this.#recordsIn, this.#bytesIn, this.#recordsOut, this.#bytesOut]) {
      counter.remove({ topic });
    }
  }

  /** Call when a request arrives; returns its start time for requestFinished. */
  requestStarted(): number {
    this.#requestsInFlight.inc();
    return this.clock.monotonicMs();
  }

  requestFinished(outcome: RequestOutcome, startedMs: number): void {
    this.#requestsInFlight.dec();
    const durationS = (this.clock.monotonicMs() - startedMs) / 1000;
    const status = `${Math.floor(outcome.status / 100)}xx`;
    this.#requestDuration.observe({ method: outcome.method, route: outcome.route, status }, durationS);
  }

  /** The server that serves this app, once a request has shown it. */
  watchServer(server: ServerStats): void {
    this.#server = server;
  }

  /** The whole exposition, as GET /metrics answers it. */
  render(): string {
    return this.registry.render();
  }
}

/** Offsets and sizes read from the logs at each scrape: nothing to keep current between scrapes. */
function registerPartitionGauges(registry: Registry, logs: LogManager): void {
  const gauges: Array<[name: string, help: string, read: (log: PartitionLog) => number]> = [
    ["sluice_log_start_offset", "First offset still in the partition's log.", (log) => log.logStartOffset],
    ["sluice_log_end_offset", "Offset the partition's next record will get.", (log) => log.logEndOffset],
    ["sluice_high_watermark", "Offset up to which consumers may read.", (log) => log.highWatermark],
    ["sluice_partition_size_bytes", "Bytes of the partition's segment files.", (log) => log.sizeBytes],
  ];
  for (const [name, help, read] of gauges) {
    registry.gauge({
      name,
      help,
      labelNames: PARTITION_LABELS,
      collect: (gauge) => {
        for (const topic of logs.listTopics()) {
          for (let partition = 0; partition < topic.partitions; partition++) {
            gauge.set({ topic: topic.name, partition }, read(logs.partition(topic.name, partition)));
          }
        }
      },
    });
  }
}
