// The admin UI's view of the Sluice API: lib/client's SluiceAdmin for everything a script can do too,
// plus the node overview and traffic rates (routes/node.ts) through the same HTTP client. One place
// hears of a 401 (the login screen); errors are lib/client's SluiceClientError.

import { type OffsetReset, SluiceAdmin } from "../lib/client/admin.ts";
import { HttpClient, SluiceClientError } from "../lib/client/http.ts";
import type { JsonRecord } from "../lib/gateway/record-json.ts";
import type { GroupDescription, GroupSummary } from "../lib/groups/group-coordinator.ts";
import type { TrafficSample } from "../lib/metrics/traffic-rates.ts";
import type { TopicDescription, TopicSummary } from "../lib/topics/log-manager.ts";
import type { ClusterAnswer } from "../routes/cluster.ts";
import type { NodeAnswer } from "../routes/node-answers.ts";

export type {
  ClusterAnswer,
  GroupDescription,
  GroupSummary,
  JsonRecord,
  NodeAnswer,
  TopicDescription,
  TopicSummary,
  TrafficSample,
};
export { SluiceClientError as ApiError };

export interface ProduceAnswer {
  offsets: Array<{ partition: number; offset: number }>;
}

export interface ProducedRecord {
  key?: string | null;
  value: unknown;
  headers?: Record<string, string>;
  partition?: number;
}

export interface SluiceApiOptions {
  token?: string;
  /** Called when the server answers 401: the token is missing or wrong. */
  onUnauthorized?: () => void;
}

export class SluiceApi {
  #admin: SluiceAdmin;
  readonly #onUnauthorized: (() => void) | undefined;

  constructor(options: SluiceApiOptions) {
    this.#onUnauthorized = options.onUnauthorized;
    this.#admin = this.#adminWith(options.token);
  }

  get token(): string | undefined {
    return this.#admin.http.token;
  }

  /** A new token (sign in) or none (sign out): the next calls carry it. */
  set token(token: string | undefined) {
    this.#admin = this.#adminWith(token);
  }

  node = () => this.#admin.http.json<NodeAnswer>("GET", "/api/v1/node");
  cluster = () => this.#admin.http.json<ClusterAnswer>("GET", "/api/v1/cluster");
  stats = () =>
    this.#admin.http.json<{ intervalMs: number; samples: TrafficSample[] }>("GET", "/api/v1/stats");
  topics = () => this.#admin.listTopics();
  topic = (name: string) => this.#admin.describeTopic(name);
  createTopic = (name: string, partitions: number, config: Record<string, unknown>) =>
    this.#admin.createTopic(name, { partitions, config: config as never });
  alterConfig = (name: string, config: Record<string, unknown>) =>
    this.#admin.alterTopicConfig(name, config as never);
  deleteTopic = (name: string) => this.#admin.deleteTopic(name);

  produce = async (topic: string, records: ProducedRecord[], valueFormat: "json" | "text") =>
    (await this.#admin.produce(topic, records as never, {
      acks: 1,
      keyFormat: "text",
      valueFormat,
    })) as ProduceAnswer;

  fetchRecords = (
    topic: string,
    partition: number,
    options: { offset: number; maxBytes: number; valueFormat: "auto" | "base64" },
  ) => this.#admin.fetch(topic, partition, { ...options, maxWaitMs: 0 });

  /** The offset at `at`: earliest, latest, or the first record at or after a time (ms). */
  offsetAt = async (topic: string, partition: number, at: "earliest" | "latest" | number) =>
    (await this.#admin.offset(topic, partition, at)).offset;

  groups = () => this.#admin.listGroups();
  group = (group: string) => this.#admin.describeGroup(group);
  deleteGroup = (group: string) => this.#admin.deleteGroup(group);
  resetGroup = (group: string, reset: OffsetReset) => this.#admin.resetOffsets(group, reset);

  /** The live stats stream's URL (EventSource cannot set headers, so a token goes in the query). */
  statsStreamUrl(): string {
    const url = new URL("/api/v1/stats/stream", location.href);
    if (this.token) url.searchParams.set("access_token", this.token);
    return url.toString();
  }

  #adminWith(token: string | undefined): SluiceAdmin {
    const onUnauthorized = this.#onUnauthorized;
    return new SluiceAdmin(
      new HttpClient({
        token,
        fetch: async (input, init) => {
          const response = await fetch(input, init);
          if (response.status === 401) onUnauthorized?.();
          return response;
        },
      }),
    );
  }
}
