// Any node answers any group request: one about group G (describe, join, heartbeat, leave, commit,
// offsets, reset, delete) that reaches a node which does not coordinate G is passed to G's
// coordinator, the leader of G's offsets partition, and its answer streamed back (forward.ts's
// proxy: marked as forwarded, so a node that got one answers it itself, NOT_COORDINATOR if it no
// longer coordinates G, and never forwards again).
import type { Context, MiddlewareHandler } from "hono";
import { SluiceError } from "../errors.ts";
import { checkGroupId } from "../groups/group-coordinator.ts";
import type { ClusterNode } from "./cluster-node.ts";
import { proxyTo } from "./forward.ts";
import type { ClusterGroupCoordination } from "./group-coordination.ts";
import { FORWARDED_HEADER } from "./replicated-append.ts";

export interface GroupForwardOptions {
  /** Called before a join (a long poll) is forwarded: the client's connection may sit idle a while. */
  onLongPoll?: (c: Context) => void;
}

export function forwardToCoordinator(
  cluster: ClusterNode,
  coordination: ClusterGroupCoordination,
  options: GroupForwardOptions = {},
): MiddlewareHandler {
  return async (c, next) => {
    const group = c.req.param("group");
    if (group === undefined || c.req.header(FORWARDED_HEADER) !== undefined) return next();
    try {
      checkGroupId(group);
    } catch {
      return next(); // the route answers a bad id
    }
    await coordination.ensureOffsetsTopic();
    const coordinator = coordination.coordinatorOf(group);
    if (coordinator.kind === "self") return next();
    if (coordinator.kind === "none") {
      throw new SluiceError(
        "COORDINATOR_NOT_AVAILABLE",
        `group "${group}" has no coordinator now (its offsets partition ` +
          `${coordination.partitionFor(group)} has no leader); retry shortly`,
      );
    }
    if (c.req.method === "POST" && /\/members\/?$/.test(c.req.path)) options.onLongPoll?.(c);
    return proxyTo(c, coordinator.node, cluster, (error) => {
      return new SluiceError(
        "COORDINATOR_NOT_AVAILABLE",
        `the coordinator of group "${group}" (node ${coordinator.node.id}) cannot be reached: ${String(error)}`,
        { cause: error },
      );
    });
  };
}
