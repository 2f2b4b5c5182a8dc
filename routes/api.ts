// The HTTP API under /api/v1: one sub-app per resource, all sharing one gateway (the logs, the
// fetches waiting for appends, the partitioner for keyless records), and the WebSocket streams at /ws.
import { Hono } from "hono";
import { forwardToLeader } from "../lib/cluster/forward.ts";
import { ClusterGroupCoordination } from "../lib/cluster/group-coordination.ts";
import { forwardToCoordinator } from "../lib/cluster/group-forward.ts";
import { RemoteGroupCoordinator } from "../lib/cluster/remote-group-coordinator.ts";
import { createGateway } from "../lib/gateway/gateway.ts";
import { GroupCoordinator } from "../lib/groups/group-coordinator.ts";
import { REBALANCE_TIMEOUT_MS_MAX } from "../lib/groups/limits.ts";
import type { SluiceMetrics } from "../lib/metrics/sluice-metrics.ts";
import type { AppDeps } from "./app.ts";
import { batchRoutes } from "./batches.ts";
import { clusterRoutes } from "./cluster.ts";
import { groupRoutes } from "./groups.ts";
import { allowIdleFor } from "./idle-timeout.ts";
import { nodeRoutes } from "./node.ts";
import { offsetRoutes } from "./offsets.ts";
import { producerRoutes } from "./producers.ts";
import { recordRoutes } from "./records.ts";
import { topicRoutes } from "./topics.ts";
import { wsRoutes } from "./ws.ts";

export function apiRoutes(deps: AppDeps, metrics: SluiceMetrics): Hono {
  const gateway = createGateway(deps.logs, { metrics, ...(deps.cluster ? { cluster: deps.cluster } : {}) });
  // One coordinator per app: it replays the offsets topic when made, and its lag goes to /metrics.
  const groups = deps.groups ?? GroupCoordinator.open({ logs: deps.logs });
  metrics.watchConsumerLag(groups);
  const api = new Hono();
  // Cluster mode: a partition's requests reaching a node that does not lead it go to its leader.
  if (deps.cluster) api.use("/topics/:topic/partitions/:partition/*", forwardToLeader(deps.cluster));
  // Cluster mode: a group's requests reaching a node that does not coordinate it go to its coordinator.
  let remoteGroups: RemoteGroupCoordinator | undefined;
  if (deps.cluster) {
    const coordination = deps.groupCoordination ?? new ClusterGroupCoordination(deps.cluster);
    remoteGroups = new RemoteGroupCoordinator(deps.cluster, coordination, (group) =>
      groups.coordinates(group),
    );
    const toCoordinator = forwardToCoordinator(deps.cluster, coordination, {
      onLongPoll: (c) => allowIdleFor(c, REBALANCE_TIMEOUT_MS_MAX),
    });
    api.use("/groups/:group", toCoordinator);
    api.use("/groups/:group/*", toCoordinator);
  }
  api.route("/topics", topicRoutes(gateway));
  api.route("/topics", recordRoutes(gateway));
  api.route("/topics", batchRoutes(gateway));
  api.route("/topics", offsetRoutes(gateway));
  api.route("/producers", producerRoutes(gateway));
  api.route("/groups", groupRoutes(gateway, groups));
  api.route("/cluster", clusterRoutes(gateway));
  api.route("/", nodeRoutes(deps, metrics));
  api.route("/", wsRoutes(gateway, groups, deps.webSocketLimits, deps.access, remoteGroups));
  return api;
}
