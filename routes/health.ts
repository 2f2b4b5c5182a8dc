// Liveness and readiness: /healthz answers while the process runs, /readyz once the logs are open.
import { Hono } from "hono";
import type { AppDeps } from "./app.ts";

export function healthRoutes(deps: AppDeps): Hono {
  const app = new Hono();
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", (c) => c.json({ status: "ready", topics: deps.logs.listTopics().length }));
  return app;
}
