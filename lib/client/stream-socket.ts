// One WebSocket to /api/v1/ws over the global WebSocket (Bun's and every browser's): JSON frames out,
// JSON and binary frames in, and requests answered by requestId (join, commit, leave) as promises.
// Browsers cannot set headers on a WebSocket, so a token travels as ?access_token=.
import type { ServerFrame } from "../gateway/ws-protocol.ts";
import { SluiceClientError } from "./http.ts";

/** Frames the consumer-group protocol adds (briefs: ws-groups-protocol), typed here until the server's are. */
export type GroupServerFrame =
  | {
      type: "joined";
      requestId: string | number;
      group: string;
      memberId: string;
      generationId: number;
      leader: boolean;
      assignment: Array<{ topic: string; partition: number; committedOffset: number | null }>;
    }
  | {
      type: "committed";
      requestId: string | number;
      group: string;
      offsets: Array<{ topic: string; partition: number; offset: number }>;
    }
  | { type: "left"; requestId?: string | number; group: string; memberId: string }
  | { type: "rebalance"; group: string; memberId: string; generationId: number };

export type IncomingFrame = ServerFrame | GroupServerFrame;

export interface StreamSocketHandlers {
  json(frame: IncomingFrame, textBytes: number): void;
  binary(frame: Uint8Array): void;
  closed(error: SluiceClientError): void;
}

/** ws(s)://…/api/v1/ws for an HTTP base URL; the page's own origin when the base is empty. */
export function streamUrl(baseUrl: string, token: string | undefined): string {
  const origin =
    baseUrl === "" ? (globalThis as { location?: { origin: string } }).location?.origin : baseUrl;
  if (origin === undefined) throw new TypeError("baseUrl is needed outside a browser page");
  const url = new URL(`${origin.replace(/\/+$/, "")}/api/v1/ws`);
  url.protocol = url.protocol === "https:" ? "wss:" : url.protocol === "http:" ? "ws:" : url.protocol;
  if (token !== undefined) url.searchParams.set("access_token", token);
  return url.toString();
}

interface PendingRequest {
  resolve(frame: IncomingFrame): void;
  reject(error: unknown): void;
}

export class StreamSocket {
  readonly #pending = new Map<string | number, PendingRequest>();
  #nextRequestId = 1;
  #closedError: SluiceClientError | undefined;

  private constructor(
    readonly socket: WebSocket,
    readonly handlers: StreamSocketHandlers,
  ) {
    socket.binaryType = "arraybuffer";
    socket.addEventListener("message", (event) => this.#receive(event.data as string | ArrayBuffer));
    socket.addEventListener("close", (event) => {
      const error = new SluiceClientError({
        status: 0,
        code: 0,
        name: "CLOSED",
        message: `the WebSocket closed (${event.code}${event.reason === "" ? "" : ` ${event.reason}`})`,
      });
      this.#closedError = error;
      for (const pending of this.#pending.values()) pending.reject(error);
      this.#pending.clear();
      handlers.closed(error);
    });
  }

  static connect(url: string, handlers: StreamSocketHandlers, timeoutMs: number): Promise<StreamSocket> {
    const socket = new WebSocket(url);
    const stream = new StreamSocket(socket, handlers);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.close();
        reject(new SluiceClientError({ status: 0, code: 0, name: "TIMEOUT", message: `${url}: no answer` }));
      }, timeoutMs);
      socket.addEventListener(
        "open",
        () => {
          clearTimeout(timer);
          resolve(stream);
        },
        { once: true },
      );
      socket.addEventListener(
        "error",
        () => {
          clearTimeout(timer);
          const message = `could not open ${url.replace(/access_token=[^&]*/, "access_token=…")}`;
          reject(new SluiceClientError({ status: 0, code: 0, name: "NETWORK_ERROR", message }));
        },
        { once: true },
      );
    });
  }

  get closed(): boolean {
    return this.#closedError !== undefined;
  }

  send(frame: object): void {
    if (this.#closedError !== undefined) throw this.#closedError;
    this.socket.send(JSON.stringify(frame));
  }

  /** Sends a frame with a fresh requestId; resolves with the answer that echoes it, rejects on its error. */
  request<T extends IncomingFrame>(frame: object): Promise<T> {
    if (this.#closedError !== undefined) return Promise.reject(this.#closedError);
    const requestId = `c${this.#nextRequestId++}`;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(requestId, { resolve: resolve as (frame: IncomingFrame) => void, reject });
      this.send({ ...frame, requestId });
    });
  }

  close(): void {
    this.socket.close(1000, "client closing");
  }

  #receive(data: string | ArrayBuffer): void {
    if (typeof data !== "string") {
      this.handlers.binary(new Uint8Array(data));
      return;
    }
    const frame = JSON.parse(data) as IncomingFrame;
    const requestId = (frame as { requestId?: string | number }).requestId;
    const pending = requestId === undefined ? undefined : this.#pending.get(requestId);
    if (pending !== undefined && frame.type !== "produced") {
      this.#pending.delete(requestId!);
      if (frame.type === "error") pending.reject(errorOfFrame(frame));
      else pending.resolve(frame);
      return;
    }
    this.handlers.json(frame, utf8Length(data));
  }
}

export function errorOfFrame(frame: Extract<ServerFrame, { type: "error" }>): SluiceClientError {
  return new SluiceClientError({
    status: 0,
    code: frame.code,
    name: frame.name,
    message: frame.message,
    ...(frame.field === undefined ? {} : { field: frame.field }),
    ...(frame.needed === undefined ? {} : { needed: frame.needed }),
  });
}

/** UTF-8 bytes of a string, as Sluice counts a JSON frame against byte credit, without encoding it. */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) continue;
    if (unit < 0x800) bytes += 1;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      // A surrogate pair: 4 bytes for 2 units.
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 2;
        i++;
      } else bytes += 2;
    } else bytes += 2;
  }
  return bytes;
}
