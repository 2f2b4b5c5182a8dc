// The HTTP listener and its WebSockets: the one place Sluice calls Bun.serve. The rest of Sluice sees
// a WebSocket as a WebSocketPeer (send, buffered bytes, pause, close) and answers it with a
// WebSocketSession, so nothing outside lib/platform/ depends on Bun's ServerWebSocket.
import { readFileSync } from "node:fs";
import type { Server, ServerWebSocket } from "bun";
import { SluiceError } from "../errors.ts";
import { WS_FRAME_BYTES_HARD_MAX, WS_IDLE_TIMEOUT_S, WS_SEND_BUFFER_BYTES_MAX } from "../gateway/limits.ts";

export interface HttpServer {
  readonly port: number;
  readonly hostname: string;
  /** "https" when started with a certificate: WebSockets are then wss. */
  readonly protocol: "http" | "https";
  /**
   * Stops accepting and closes open WebSockets (1001, going away); resolves when in-flight requests
   * have finished, or at once with `closeActiveConnections`.
   */
  stop(closeActiveConnections?: boolean): Promise<void>;
}

/**
 * What a send did. "backpressure": the frame is queued, and the socket wants no more until its session
 * hears drain(). "dropped": the frame was not sent at all (the socket is closed, or its send buffer is
 * past WS_SEND_BUFFER_BYTES_MAX).
 */
export type SendOutcome = "sent" | "backpressure" | "dropped";

/** One open WebSocket as the platform shows it to Sluice. */
export interface WebSocketPeer {
  /** A string goes as a text frame, bytes as a binary frame. */
  send(frame: string | Uint8Array): SendOutcome;
  /** Bytes queued by send() that the socket has not written yet. */
  readonly bufferedBytes: number;
  /** Stops reading the client's frames (it sees TCP backpressure) until resumeReading(). */
  pauseReading(): void;
  resumeReading(): void;
  close(code: number, reason: string): void;
}

/** What Sluice does with one connection's events. */
export interface WebSocketSession {
  /** A client frame: text as a string, binary as bytes. */
  message(frame: string | Uint8Array): void;
  /** The send buffer has emptied after a send answered "backpressure". */
  drain(): void;
  /** The connection is gone; no event follows. */
  closed(code: number, reason: string): void;
}

/** Called once the connection is open, with its peer; returns the session that handles it. */
export type AcceptWebSocket = (peer: WebSocketPeer) => WebSocketSession;

interface SocketData {
  accept: AcceptWebSocket;
  session?: WebSocketSession;
}

export function startHttpServer(options: {
  fetch: (request: Request, server: Server<SocketData>) => Response | Promise<Response>;
  port: number;
  hostname: string;
  /** PEM files (tlsCertFile, tlsKeyFile): both for HTTPS and WSS, or neither for plain HTTP. */
  tls?: TlsFiles;
}): HttpServer {
  const sockets = new Set<ServerWebSocket<SocketData>>();
  const tls = readTls(options.tls);
  const server = Bun.serve<SocketData>({
    fetch: options.fetch,
    port: options.port,
    hostname: options.hostname,
    ...(tls === undefined ? {} : { tls }),
    websocket: {
      maxPayloadLength: WS_FRAME_BYTES_HARD_MAX,
      backpressureLimit: WS_SEND_BUFFER_BYTES_MAX,
      closeOnBackpressureLimit: false,
      idleTimeout: WS_IDLE_TIMEOUT_S,
      sendPings: true,
      open(ws) {
        ws.binaryType = "uint8array";
        sockets.add(ws);
        ws.data.session = ws.data.accept(peerOf(ws));
      },
      message: (ws, frame) => ws.data.session?.message(frame as string | Uint8Array),
      drain: (ws) => ws.data.session?.drain(),
      close(ws, code, reason) {
        sockets.delete(ws);
        ws.data.session?.closed(code, reason);
      },
    },
  });
  return {
    port: server.port ?? options.port,
    hostname: server.hostname ?? options.hostname,
    protocol: tls === undefined ? "http" : "https",
    stop: (closeActiveConnections = false) => {
      for (const ws of sockets) ws.close(1001, "server shutting down");
      return server.stop(closeActiveConnections);
    },
  };
}

export interface TlsFiles {
  certFile?: string | undefined;
  keyFile?: string | undefined;
}

/** The certificate chain and key, read once at start; INVALID_CONFIG names the key at fault. */
function readTls(files: TlsFiles | undefined): { cert: string; key: string } | undefined {
  if (files?.certFile === undefined && files?.keyFile === undefined) return undefined;
  if (files.certFile === undefined || files.keyFile === undefined) {
    const missing = files.certFile === undefined ? "tlsCertFile" : "tlsKeyFile";
    throw new SluiceError(
      "INVALID_CONFIG",
      `TLS needs both tlsCertFile and tlsKeyFile: ${missing} is missing`,
      {
        field: missing,
      },
    );
  }
  return { cert: readPem(files.certFile, "tlsCertFile"), key: readPem(files.keyFile, "tlsKeyFile") };
}

function readPem(path: string, key: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new SluiceError("INVALID_CONFIG", `${key}: cannot read ${path}: ${(error as Error).message}`, {
      field: key,
    });
  }
  if (!text.includes("-----BEGIN ")) {
    throw new SluiceError("INVALID_CONFIG", `${key}: ${path} is not a PEM file`, { field: key });
  }
  return text;
}

/**
 * Upgrades `request` to a WebSocket handled by `accept`. `server` is what the platform passed the
 * fetch handler (hono's c.env); false when it is not a server that can upgrade, or the upgrade failed.
 */
export function upgradeToWebSocket(
  request: Request,
  options: { server: unknown; accept: AcceptWebSocket },
): boolean {
  const upgrader = options.server as Partial<Pick<Server<SocketData>, "upgrade">> | undefined;
  if (typeof upgrader?.upgrade !== "function") return false;
  try {
    return upgrader.upgrade(request, { data: { accept: options.accept } });
  } catch {
    // Bun throws when the server was started without a websocket handler.
    return false;
  }
}

function peerOf(ws: ServerWebSocket<SocketData>): WebSocketPeer {
  return {
    send(frame) {
      const status = ws.send(frame);
      // Bun: bytes written (> 0), -1 queued under backpressure, 0 dropped.
      if (status > 0) return "sent";
      return status === -1 ? "backpressure" : "dropped";
    },
    get bufferedBytes() {
      return ws.getBufferedAmount();
    },
    pauseReading: () => ws.pause(),
    resumeReading: () => ws.resume(),
    close: (code, reason) => ws.close(code, reason),
  };
}
