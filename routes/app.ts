// Builds the HTTP app from its dependencies; main.ts starts the server. Routes are thin: they
// validate input and call lib/ services.
import { Hono } from "hono";
import type { LogManager } from "../lib/topics/log-manager.ts";
import { errorResponse } from "./errors.ts";
import { healthRoutes } from "./health.ts";

export interface AppDeps {
  logs: LogManager;
}

export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  app.route("/", healthRoutes(deps));
  app.notFound((c) => c.json({ error: { code: 1001, name: "NOT_FOUND", message: `no route for ${c.req.method} ${c.req.path}` } }, 404));
  app.onError(errorResponse);
  return app;
}
