// The admin UI's view of the Sluice HTTP API: typed calls, errors as ApiError with the server's code
// and message, and one place that hears of a 401 (the login screen). Everything here is public API:
// a script can do what the UI does.

import type { JsonRecord } from "../lib/gateway/record-json.ts";
import type { GroupDescription, GroupSummary } from "../lib/groups/group-coordinator.ts";
import type { TrafficSample } from "../lib/metrics/traffic-rates.ts";
import type { TopicDescription, TopicSummary } from "../lib/topics/log-manager.ts";
import type { NodeAnswer } from "../routes/node-answers.ts";

export type {
  GroupDescription,
  GroupSummary,
  JsonRecord,
  NodeAnswer,
  TopicDescription,
  TopicSummary,
  TrafficSample,
};

export interface FetchAnswer {
  records: JsonRecord[];
  nextOffset: number;
  highWatermark: number;
  logStartOffset: number;
  logEndOffset: number;
}

export interface ProduceAnswer {
  offsets: Array<{ partition: number; offset: number }>;
}

export interface ProducedRecord {
  key?: string | null;
  value: unknown;
  headers?: Record<string, string>;
  partition?: number;
}

export type PayloadFormat = "json" | "text" | "base64";

/** A refusal from the server, or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    override readonly name: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export interface SluiceApiOptions {
  /** Where the API lives: `${origin}/api/v1`. */
  baseUrl: string;
  token?: string;
  /** Called when the server answers 401: the token is missing or wrong. */
  onUnauthorized?: () => void;
}

export class SluiceApi {
  token: string | undefined;
  readonly #baseUrl: string;
  readonly #onUnauthorized: (() => void) | undefined;

  constructor(options: SluiceApiOptions) {
    this.#baseUrl = options.baseUrl;
    this.token = options.token;
    this.#onUnauthorized = options.onUnauthorized;
  }

  get baseUrl(): string {
    return this.#baseUrl;
  }

  node = () => this.#call<NodeAnswer>("GET", "/node");
  stats = () => this.#call<{ intervalMs: number; samples: TrafficSample[] }>("GET", "/stats");
  topics = async () => (await this.#call<{ topics: TopicSummary[] }>("GET", "/topics")).topics;
  topic = (name: string) => this.#call<TopicDescription>("GET", `/topics/${enc(name)}`);
  createTopic = (name: string, partitions: number, config: Record<string, unknown>) =>
    this.#call<TopicDescription>("POST", "/topics", { name, partitions, config });
  alterConfig = (name: string, config: Record<string, unknown>) =>
    this.#call<TopicDescription>("PATCH", `/topics/${enc(name)}/config`, { config });
  deleteTopic = (name: string) => this.#call<void>("DELETE", `/topics/${enc(name)}`);

  produce = (topic: string, records: ProducedRecord[], valueFormat: PayloadFormat = "json") =>
    this.#call<ProduceAnswer>("POST", `/topics/${enc(topic)}/records?acks=1`, {
      keyFormat: "text",
      valueFormat,
      records,
    });

  fetchRecords = (
    topic: string,
    partition: number,
    options: { offset: number; maxBytes?: number; valueFormat?: "auto" | "base64" },
  ) => {
    const query = new URLSearchParams({ offset: String(options.offset), max_wait_ms: "0" });
    if (options.maxBytes !== undefined) query.set("max_bytes", String(options.maxBytes));
    if (options.valueFormat !== undefined) query.set("value_format", options.valueFormat);
    return this.#call<FetchAnswer>("GET", `/topics/${enc(topic)}/partitions/${partition}/records?${query}`);
  };

  /** The offset at `at`: earliest, latest, or the first record at or after a time (ms). */
  offsetAt = async (topic: string, partition: number, at: "earliest" | "latest" | number) =>
    (
      await this.#call<{ offset: number }>(
        "GET",
        `/topics/${enc(topic)}/partitions/${partition}/offsets?at=${at}`,
      )
    ).offset;

  groups = async () => (await this.#call<{ groups: GroupSummary[] }>("GET", "/groups")).groups;
  group = (group: string) => this.#call<GroupDescription>("GET", `/groups/${enc(group)}`);
  deleteGroup = (group: string) => this.#call<void>("DELETE", `/groups/${enc(group)}`);
  resetGroup = (
    group: string,
    body: { to: "earliest" | "latest" | "timestamp"; topic: string; timestamp?: number },
  ) => this.#call<unknown>("POST", `/groups/${enc(group)}/offsets/reset`, body);

  /** The WebSocket URL, with the token as a query parameter (browsers cannot set its headers). */
  webSocketUrl(): string {
    const url = new URL(`${this.#baseUrl}/ws`, location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    if (this.token) url.searchParams.set("access_token", this.token);
    return url.toString();
  }

  /** The live stats stream's URL (EventSource cannot set headers either). */
  statsStreamUrl(): string {
    const url = new URL(`${this.#baseUrl}/stats/stream`, location.href);
    if (this.token) url.searchParams.set("access_token", this.token);
    return url.toString();
  }

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.token) headers["authorization"] = `Bearer ${this.token}`;
    let response: Response;
    try {
      response = await fetch(this.#baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new ApiError(0, 0, "NETWORK", `cannot reach Sluice: ${(error as Error).message}`);
    }
    if (response.status === 401) this.#onUnauthorized?.();
    if (!response.ok) throw await errorOf(response);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }
}

async function errorOf(response: Response): Promise<ApiError> {
  try {
    const { error } = (await response.json()) as {
      error: { code: number; name: string; message: string; field?: string };
    };
    return new ApiError(response.status, error.code, error.name, error.message, error.field);
  } catch {
    return new ApiError(response.status, 0, "HTTP", `${response.status} ${response.statusText}`);
  }
}

function enc(name: string): string {
  return encodeURIComponent(name);
}
