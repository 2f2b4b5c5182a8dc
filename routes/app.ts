// Builds the HTTP app from its dependencies; main.ts starts the server. Routes are thin: they
// validate input and call lib/ services.
import { Hono } from "hono";
import { SluiceError } from "../lib/errors.ts";
import type { LogManager } from "../lib/topics/log-manager.ts";
import { apiRoutes } from "./api.ts";
import { errorResponse } from "./errors.ts";
import { healthRoutes } from "./health.ts";

export interface AppDeps {
  logs: LogManager;
}

export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  app.route("/", healthRoutes(deps));
  app.route("/api/v1", apiRoutes(deps));
  app.notFound((c) =>
    errorResponse(new SluiceError("NOT_FOUND", `no route for ${c.req.method} ${c.req.path}`), c),
  );
  app.onError(errorResponse);
  return app;
}
