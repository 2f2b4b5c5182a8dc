// Builds the HTTP app from its dependencies; main.ts starts the server. Routes are thin: they
// validate input and call lib/ services.
import { Hono } from "hono";
import { AccessControl } from "../lib/auth/access-control.ts";
import type { ClusterNode } from "../lib/cluster/cluster-node.ts";
import type { ClusterGroupCoordination } from "../lib/cluster/group-coordination.ts";
import { SluiceError } from "../lib/errors.ts";
import type { StreamLimits } from "../lib/gateway/ws-hub.ts";
import { GroupCoordinator } from "../lib/groups/group-coordinator.ts";
import { SluiceMetrics } from "../lib/metrics/sluice-metrics.ts";
import type { LogManager } from "../lib/topics/log-manager.ts";
import { accessMiddleware } from "./access.ts";
import { apiRoutes } from "./api.ts";
import { docsRoutes } from "./docs.ts";
import { errorResponse } from "./errors.ts";
import { healthRoutes } from "./health.ts";
import { httpMetrics } from "./http-metrics.ts";
import { metricsRoutes } from "./metrics.ts";
import { openApiRoutes } from "./openapi.ts";
import { tokenRoutes } from "./tokens.ts";
import { uiRoutes } from "./ui.ts";
import { limitBody } from "./validate.ts";

export interface AppDeps {
  logs: LogManager;
  /** What the app counts into; its own set when left out. */
  metrics?: SluiceMetrics;
  /** The consumer groups (lib/groups/); one over `logs` when left out. */
  groups?: GroupCoordinator;
  /** WebSocket limits below those in lib/gateway/limits.ts (tests lower them). */
  webSocketLimits?: Partial<StreamLimits>;
  /** Tokens and grants (lib/auth/); access control off when left out. */
  access?: AccessControl;
  /** Bodies above this are refused on every route (the config's requestBodyBytesMax). */
  requestBodyBytesMax?: number;
  /** Cluster mode (lib/cluster/); left out on a single node. */
  cluster?: ClusterNode;
  /** Cluster mode: who coordinates which group (the one `groups` was opened with). */
  groupCoordination?: ClusterGroupCoordination;
}

export function createApp(deps: AppDeps): Hono {
  const metrics = deps.metrics ?? new SluiceMetrics(deps.logs);
  const groups = deps.groups ?? GroupCoordinator.open({ logs: deps.logs });
  const access = deps.access ?? AccessControl.disabled(deps.logs);
  const app = new Hono();
  app.use(httpMetrics(metrics));
  app.use(accessMiddleware({ access, groups, metrics }));
  if (deps.requestBodyBytesMax !== undefined) app.use(limitBody(metrics, deps.requestBodyBytesMax));
  app.route("/", healthRoutes(deps));
  app.route("/", metricsRoutes(metrics));
  app.route("/", docsRoutes(app));
  app.route("/api/v1", apiRoutes({ ...deps, groups, access }, metrics));
  app.route("/api/v1", tokenRoutes(access, metrics));
  app.route("/api/v1", openApiRoutes(app));
  app.route("/", uiRoutes());
  app.notFound((c) =>
    errorResponse(new SluiceError("NOT_FOUND", `no route for ${c.req.method} ${c.req.path}`), c),
  );
  app.onError(errorResponse);
  return app;
}
