// GET /api/v1/ws: the upgrade to a WebSocket carrying subscriptions, produce and consumer-group
// membership (the frame protocol is in lib/gateway/ws-protocol.ts and the README). Frames are checked
// here (ws-frames.ts) and served by the stream hub in lib/gateway/.
import { Hono } from "hono";
import { AssertionError } from "../lib/assert.ts";
import type { AccessControl } from "../lib/auth/access-control.ts";
import type { RemoteGroups } from "../lib/cluster/remote-group-coordinator.ts";
import { isSluiceError, SluiceError } from "../lib/errors.ts";
import type { Gateway } from "../lib/gateway/gateway.ts";
import { StreamHub, type StreamLimits } from "../lib/gateway/ws-hub.ts";
import type { ErrorBody } from "../lib/gateway/ws-protocol.ts";
import type { GroupCoordinator } from "../lib/groups/group-coordinator.ts";
import { upgradeToWebSocket, type WebSocketPeer } from "../lib/platform/http-server.ts";
import { INTERNAL_ERROR } from "./errors.ts";
import { describeRoute } from "./route-docs.ts";
import { wsFrameGuard } from "./ws-access.ts";
import { parseClientFrame } from "./ws-frames.ts";

export function wsRoutes(
  gateway: Gateway,
  groups: GroupCoordinator,
  limits: Partial<StreamLimits> = {},
  access?: AccessControl,
  /** Cluster mode: group frames for groups another node coordinates go there (over HTTP). */
  remoteGroups?: RemoteGroups,
): Hono {
  const hub = new StreamHub(gateway, {
    groups,
    ...(remoteGroups === undefined ? {} : { remoteGroups }),
    parseFrame: parseClientFrame,
    describeError: errorBodyOf,
    limits,
  });
  const app = new Hono();
  app.get(
    "/ws",
    describeRoute({
      tag: "Streams",
      summary: "WebSocket streams (upgrade)",
      description:
        "Upgrades to a WebSocket that carries subscriptions with credit-based flow control (JSON or " +
        "binary RecordBatch frames), produce requests and consumer-group membership (join, heartbeat, " +
        "leave, commit, pushed rebalances). The frames are described in the README.",
      responses: { 101: { description: "Switching Protocols: the connection is now a WebSocket." } },
      errors: ["UPGRADE_REQUIRED", "TOO_MANY_CONNECTIONS"],
    }),
    (c) => {
      if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
        throw new SluiceError(
          "UPGRADE_REQUIRED",
          "this path speaks WebSocket: send an Upgrade: websocket request",
          {
            field: "upgrade",
          },
        );
      }
      hub.checkRoom();
      const principal = c.get("principal");
      const guardOf = (peer: WebSocketPeer) =>
        access && wsFrameGuard({ access, principal, peer, metrics: gateway.metrics });
      if (
        !upgradeToWebSocket(c.req.raw, { server: c.env, accept: (peer) => hub.accept(peer, guardOf(peer)) })
      ) {
        throw new SluiceError("UPGRADE_REQUIRED", "the WebSocket handshake failed: check its headers", {
          field: "upgrade",
        });
      }
      // The platform answers 101 itself; this response is not sent.
      return new Response(null);
    },
  );
  return app;
}

/** An error frame's body: a SluiceError as it is, anything else as Sluice's own fault, logged. */
function errorBodyOf(error: unknown): ErrorBody {
  if (isSluiceError(error)) return error.toJSON();
  const internal = error instanceof AssertionError ? "internal invariant violated" : "internal error";
  console.error(
    JSON.stringify({ level: "error", msg: internal, error: String(error), stack: (error as Error)?.stack }),
  );
  return { code: INTERNAL_ERROR.code, name: INTERNAL_ERROR.name, message: internal };
}
