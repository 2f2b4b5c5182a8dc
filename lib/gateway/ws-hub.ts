// Every WebSocket connection of one node: the per-node connection limit, a session per connection
// for the platform to drive, and the gauges that show what the connections hold.
import { isSluiceError, SluiceError } from "../errors.ts";
import type { WebSocketPeer, WebSocketSession } from "../platform/http-server.ts";
import type { Gateway } from "./gateway.ts";
import { WS_CONNECTIONS_MAX } from "./limits.ts";
import { type ConnectionOptions, StreamConnection } from "./ws-connection.ts";
import type { ClientFrame, ErrorFrame } from "./ws-protocol.ts";
import { CLOSE_CODES } from "./ws-protocol.ts";

export interface StreamLimits {
  connectionsMax: number;
  subscriptionsMax: number;
  groupMembersMax: number;
}

export interface StreamHubOptions
  extends Pick<ConnectionOptions, "describeError" | "defer" | "groups" | "remoteGroups"> {
  /** Checks a client frame: the text or bytes as received, the frame they stand for or why not. */
  parseFrame: (frame: string | Uint8Array) => ClientFrame;
  /** The limits in lib/gateway/limits.ts unless given (tests lower them). */
  limits?: Partial<StreamLimits>;
}

/** Checks each frame of one connection before it is served (access control: routes/ws-access.ts). */
export interface FrameGuard {
  /** The frame to serve: `frame` itself, or a rejected frame saying why not. `raw` as received. */
  check(frame: ClientFrame, raw: string | Uint8Array): ClientFrame;
  /** The connection is gone. */
  closed(): void;
}

export class StreamHub {
  readonly #connections = new Set<StreamConnection>();
  readonly connectionsMax: number;

  constructor(
    readonly gateway: Gateway,
    readonly options: StreamHubOptions,
  ) {
    this.connectionsMax = options.limits?.connectionsMax ?? WS_CONNECTIONS_MAX;
    registerGauges(this);
  }

  get connections(): ReadonlySet<StreamConnection> {
    return this.#connections;
  }

  /** TOO_MANY_CONNECTIONS when the node holds its maximum: checked before the upgrade. */
  checkRoom(): void {
    if (this.#connections.size < this.connectionsMax) return;
    this.gateway.metrics.limitHit("ws_connections");
    throw tooManyConnections(this.connectionsMax);
  }

  /**
   * The session for a connection just opened. Upgrades that passed checkRoom() together may still
   * overshoot; those are told why and closed (1013, try again later).
   */
  accept(peer: WebSocketPeer, guard?: FrameGuard): WebSocketSession {
    if (this.#connections.size >= this.connectionsMax) {
      this.gateway.metrics.limitHit("ws_connections");
      guard?.closed();
      return refuse(peer, this);
    }
    const limits = this.options.limits ?? {};
    const connection = new StreamConnection(this.gateway, peer, {
      groups: this.options.groups,
      ...(this.options.remoteGroups === undefined ? {} : { remoteGroups: this.options.remoteGroups }),
      describeError: this.options.describeError,
      onClosed: (closed) => this.#connections.delete(closed),
      ...(this.options.defer === undefined ? {} : { defer: this.options.defer }),
      ...(limits.subscriptionsMax === undefined ? {} : { subscriptionsMax: limits.subscriptionsMax }),
      ...(limits.groupMembersMax === undefined ? {} : { groupMembersMax: limits.groupMembersMax }),
    });
    this.#connections.add(connection);
    const { parseFrame } = this.options;
    const { metrics } = this.gateway;
    return {
      message: (frame) => {
        const parsed = parseFrame(frame);
        if (parsed.type === "rejected") countLimitHit(parsed.error, metrics);
        connection.receive(guard === undefined ? parsed : guard.check(parsed, frame));
      },
      drain: () => connection.drain(),
      closed: (code) => {
        // A frame past WS_FRAME_BYTES_HARD_MAX: the platform closed the connection itself.
        if (code === CLOSE_CODES.messageTooBig) metrics.limitHit("ws_frame_bytes");
        guard?.closed();
        connection.closed();
      },
    };
  }
}

/** A frame refused for its size (WS_FRAME_BYTES_MAX) or its record count counts as that limit's hit. */
function countLimitHit(error: unknown, metrics: Gateway["metrics"]): void {
  if (!isSluiceError(error, "REQUEST_TOO_LARGE")) return;
  metrics.limitHit(error.field === "records" ? "records_per_request" : "ws_frame_bytes");
}

function tooManyConnections(connectionsMax: number): SluiceError {
  return new SluiceError(
    "TOO_MANY_CONNECTIONS",
    `this node holds its maximum of ${connectionsMax} WebSocket connections; retry later`,
  );
}

function refuse(peer: WebSocketPeer, hub: StreamHub): WebSocketSession {
  const frame: ErrorFrame = {
    type: "error",
    ...hub.options.describeError(tooManyConnections(hub.connectionsMax)),
  };
  peer.send(JSON.stringify(frame));
  peer.close(CLOSE_CODES.tryAgainLater, "too many connections");
  return { message: () => undefined, drain: () => undefined, closed: () => undefined };
}

/** Subscriptions and send buffers, summed over the connections at each scrape. */
function registerGauges(hub: StreamHub): void {
  const registry = hub.gateway.metrics.registry;
  const sum = (read: (connection: StreamConnection) => number) => {
    let total = 0;
    for (const connection of hub.connections) total += read(connection);
    return total;
  };
  registry.gauge({
    name: "sluice_websocket_subscriptions",
    help: "Subscriptions open on WebSocket connections.",
    collect: (gauge) =>
      gauge.set(
        {},
        sum((connection) => connection.subscriptionCount),
      ),
  });
  registry.gauge({
    name: "sluice_websocket_group_members",
    help: "Consumer-group members joined through WebSocket connections (they leave when their connection closes).",
    collect: (gauge) =>
      gauge.set(
        {},
        sum((connection) => connection.groupMemberCount),
      ),
  });
  registry.gauge({
    name: "sluice_websocket_buffered_bytes",
    help: "Bytes queued in WebSocket send buffers, over all connections; bounded per connection by credit and backpressure.",
    collect: (gauge) =>
      gauge.set(
        {},
        sum((connection) => connection.bufferedBytes),
      ),
  });
}
