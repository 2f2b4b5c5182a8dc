// Access control on a WebSocket connection: the upgrade needed a token (routes/access.ts); each frame
// is then checked against that token's grants as it arrives, so a consume-only token's produce frame
// is answered with an error frame and the connection goes on. A produce frame is held to the token's
// produce rate, charged when it is admitted. Revoking the token closes the connection.
import { Buffer } from "node:buffer";
import type { AccessControl, Principal } from "../lib/auth/access-control.ts";
import { hasRole, isAdmin, mayUseTopic } from "../lib/auth/grants.ts";
import { produceRateRefusal } from "../lib/auth/produce-rate.ts";
import { SluiceError } from "../lib/errors.ts";
import type { FrameGuard } from "../lib/gateway/ws-hub.ts";
import { CLOSE_CODES, type ClientFrame, type RejectedFrame } from "../lib/gateway/ws-protocol.ts";
import type { SluiceMetrics } from "../lib/metrics/sluice-metrics.ts";
import type { WebSocketPeer } from "../lib/platform/http-server.ts";
import { failureCounter } from "./access.ts";

export function wsFrameGuard(options: {
  access: AccessControl;
  principal: Principal;
  peer: WebSocketPeer;
  metrics: SluiceMetrics;
}): FrameGuard | undefined {
  const { access, principal, peer, metrics } = options;
  if (!access.enabled) return undefined;
  const failures = failureCounter(metrics);
  const stopWatching = access.onRevoked((name) => {
    if (name === principal.name) peer.close(CLOSE_CODES.policyViolation, "token revoked");
  });
  return {
    check(frame, raw) {
      if (!access.isCurrent(principal)) {
        failures.inc({ reason: "unauthenticated" });
        return rejected(frame, new SluiceError("UNAUTHENTICATED", "the token is unknown or revoked"));
      }
      const denied = deniedBecause(principal, frame);
      if (denied !== undefined) {
        failures.inc({ reason: "forbidden" });
        const message = `token ${principal.name} may not send this ${frame.type} frame: ${denied}`;
        return rejected(frame, new SluiceError("FORBIDDEN", message, { field: "type" }));
      }
      if (frame.type === "produce") return meteredProduce(frame, raw, { access, principal, metrics });
      return frame;
    },
    closed: stopWatching,
  };
}

/** Why the token may not send the frame; undefined when it may. */
function deniedBecause(principal: Principal, frame: ClientFrame): string | undefined {
  const { grants } = principal;
  switch (frame.type) {
    case "rejected":
    case "credit":
    case "unsubscribe":
    case "heartbeat":
    case "leave":
      // Bad frames are answered as they are; credit and unsubscribe touch only this connection's own
      // subscriptions, heartbeat and leave only the group members it joined: each was checked when it
      // was made.
      return undefined;
    case "subscribe":
      return mayUseTopic(grants, "consume", frame.topic)
        ? undefined
        : `it needs consume on topic ${frame.topic}`;
    case "produce":
      return mayUseTopic(grants, "produce", frame.topic)
        ? undefined
        : `it needs produce on topic ${frame.topic}`;
    case "join":
    case "commit": {
      // Consumer-group frames need consume on every topic they name, as the HTTP group routes do.
      if (!hasRole(grants, "consume")) return "it needs consume on the group's topics";
      const refused = topicsNamedIn(frame).filter((topic) => !mayUseTopic(grants, "consume", topic));
      return refused.length === 0 ? undefined : `it needs consume on topic ${refused.join(", ")}`;
    }
    default:
      // A frame type this guard does not know yet is an admin's until someone says otherwise.
      return isAdmin(grants) ? undefined : "it needs the admin role";
  }
}

/** The topics a group frame names: `topics`, `topic`, or `offsets[].topic`. */
function topicsNamedIn(frame: object): string[] {
  const { topics, topic, offsets } = frame as { topics?: unknown; topic?: unknown; offsets?: unknown };
  const named: unknown[] = [];
  if (Array.isArray(topics)) named.push(...topics);
  if (topic !== undefined) named.push(topic);
  if (Array.isArray(offsets)) named.push(...offsets.map((entry) => (entry as { topic?: unknown })?.topic));
  return named.map(String);
}

function meteredProduce(
  frame: Extract<ClientFrame, { type: "produce" }>,
  raw: string | Uint8Array,
  options: { access: AccessControl; principal: Principal; metrics: SluiceMetrics },
): ClientFrame {
  const limiter = options.access.rateLimiterOf(options.principal);
  if (limiter === undefined) return frame;
  const refusal = produceRateRefusal(limiter, options.metrics);
  if (refusal !== undefined) return rejected(frame, refusal.error);
  const bytes = typeof raw === "string" ? Buffer.byteLength(raw) : raw.byteLength;
  limiter.charge({ bytes, records: frame.records.length });
  return frame;
}

function rejected(frame: ClientFrame, error: SluiceError): RejectedFrame {
  const refused: RejectedFrame = { type: "rejected", error };
  if ("id" in frame && frame.id !== undefined) refused.id = frame.id;
  if ("requestId" in frame && frame.requestId !== undefined) refused.requestId = frame.requestId;
  return refused;
}
