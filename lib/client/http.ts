// The client's one HTTP transport: a base URL, an optional bearer token, a timeout per request, and
// Sluice's JSON errors ({"error": {code, name, message, field?}}) turned into SluiceClientError. It uses
// only the global fetch, AbortSignal and URL, so it runs unchanged in Bun and in browsers.
import type { ErrorName } from "../errors.ts";

/** Client-side failures have no server code: these names, with code 0 and status 0 (no answer). */
export type ClientErrorName = "TIMEOUT" | "ABORTED" | "NETWORK_ERROR" | "BAD_RESPONSE" | "CLOSED";

export const REQUEST_TIMEOUT_MS_DEFAULT = 30_000;

/** An error Sluice answered with, or one the client met before an answer came. */
export class SluiceClientError extends Error {
  /** The HTTP status; 0 when no answer came (timeout, network, abort) or over a WebSocket. */
  readonly status: number;
  /** The stable numeric code of lib/errors.ts; 0 for client-side failures. */
  readonly code: number;
  readonly field: string | undefined;
  /** CREDIT_TOO_SMALL over a WebSocket: the credit the next frame needs. */
  readonly needed: number | undefined;

  constructor(
    init: {
      status: number;
      code: number;
      name: ErrorName | ClientErrorName | "INTERNAL" | (string & {});
      message: string;
      field?: string;
      needed?: number;
    },
    options?: { cause?: unknown },
  ) {
    super(init.message, options);
    this.name = init.name;
    this.status = init.status;
    this.code = init.code;
    this.field = init.field;
    this.needed = init.needed;
  }
}

export function isSluiceClientError(error: unknown, name?: string): error is SluiceClientError {
  return error instanceof SluiceClientError && (name === undefined || error.name === name);
}

export interface HttpClientOptions {
  /**
   * Where Sluice answers, e.g. "http://127.0.0.1:8080" (without /api/v1). Empty (the default) means
   * the page's own origin: the admin UI, served by Sluice, talks to its own node.
   */
  baseUrl?: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Per request, unless a call gives its own; long polls add their wait to it. */
  timeoutMs?: number;
  /** Another fetch (a test's, a proxy's); the global one by default. */
  fetch?: FetchFunction;
}

export type FetchFunction = (input: string, init: RequestInit) => Promise<Response>;

export type QueryValue = string | number | boolean | undefined;

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is, with `contentType`. */
  body?: Uint8Array;
  contentType?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export class HttpClient {
  readonly baseUrl: string;
  readonly token: string | undefined;
  readonly timeoutMs: number;
  readonly #fetch: FetchFunction;

  constructor(options: HttpClientOptions = {}) {
    this.baseUrl = (options.baseUrl ?? "").replace(/\/+$/, "");
    this.token = options.token;
    this.timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS_DEFAULT;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** The URL of `path` (starting with "/") with its query; undefined query values are left out. */
  url(path: string, query: Record<string, QueryValue> = {}): string {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined) search.set(key, String(value));
    const text = search.toString();
    return `${this.baseUrl}${path}${text === "" ? "" : `?${text}`}`;
  }

  /** Sends a request; any answer but 2xx throws SluiceClientError. */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.token !== undefined) headers["authorization"] = `Bearer ${this.token}`;
    let body: string | Uint8Array | undefined;
    if (options.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(options.json);
    } else if (options.body !== undefined) {
      headers["content-type"] = options.contentType ?? "application/octet-stream";
      body = options.body;
    }
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal === undefined ? timeout : AbortSignal.any([timeout, options.signal]);
    let response: Response;
    try {
      response = await this.#fetch(this.url(path, options.query), {
        method,
        headers,
        body: body as BodyInit | undefined,
        signal,
      });
    } catch (error) {
      throw transportError(error, { method, path, timeoutMs, timedOut: timeout.aborted });
    }
    if (!response.ok) throw await errorOf(response, method, path);
    return response;
  }

  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.request(method, path, options);
    try {
      return (await response.json()) as T;
    } catch (error) {
      throw new SluiceClientError(
        { status: response.status, code: 0, name: "BAD_RESPONSE", message: `${method} ${path}: not JSON` },
        { cause: error },
      );
    }
  }

  async text(method: string, path: string, options: RequestOptions = {}): Promise<string> {
    return (await this.request(method, path, options)).text();
  }

  /** A request whose answer has no body worth reading (204, 202). */
  async send(method: string, path: string, options: RequestOptions = {}): Promise<number> {
    const response = await this.request(method, path, options);
    await response.body?.cancel();
    return response.status;
  }
}

function transportError(
  error: unknown,
  context: { method: string; path: string; timeoutMs: number; timedOut: boolean },
): SluiceClientError {
  const where = `${context.method} ${context.path}`;
  if (context.timedOut) {
    return new SluiceClientError(
      { status: 0, code: 0, name: "TIMEOUT", message: `${where}: no answer within ${context.timeoutMs} ms` },
      { cause: error },
    );
  }
  if ((error as { name?: unknown })?.name === "AbortError") {
    return new SluiceClientError(
      { status: 0, code: 0, name: "ABORTED", message: `${where}: aborted` },
      { cause: error },
    );
  }
  const message = `${where}: ${error instanceof Error ? error.message : String(error)}`;
  return new SluiceClientError({ status: 0, code: 0, name: "NETWORK_ERROR", message }, { cause: error });
}

/** Sluice's error body when there is one, else the status line (a proxy's page, an empty 502). */
async function errorOf(response: Response, method: string, path: string): Promise<SluiceClientError> {
  const text = await response.text().catch(() => "");
  try {
    const { error } = JSON.parse(text) as {
      error?: { code?: unknown; name?: unknown; message?: unknown; field?: unknown };
    };
    if (error !== undefined && typeof error.code === "number" && typeof error.name === "string") {
      return new SluiceClientError({
        status: response.status,
        code: error.code,
        name: error.name,
        message: typeof error.message === "string" ? error.message : error.name,
        ...(typeof error.field === "string" ? { field: error.field } : {}),
      });
    }
  } catch {
    // not JSON: described below
  }
  const detail = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  return new SluiceClientError({
    status: response.status,
    code: 0,
    name: "BAD_RESPONSE",
    message: `${method} ${path}: ${response.status} ${response.statusText}${detail === "" ? "" : `: ${detail}`}`,
  });
}
