// Liveness and readiness: /healthz answers while the process runs, /readyz once the logs are open.
import { Hono } from "hono";
import { healthAnswer, readyAnswer } from "./answers.ts";
import type { AppDeps } from "./app.ts";
import { describeRoute, json } from "./route-docs.ts";

export function healthRoutes(deps: AppDeps): Hono {
  const app = new Hono();
  app.get(
    "/healthz",
    describeRoute({
      tag: "Operations",
      summary: "Liveness",
      responses: { 200: { description: "The process is running.", content: json(healthAnswer) } },
    }),
    (c) => c.json({ status: "ok" }),
  );
  app.get(
    "/readyz",
    describeRoute({
      tag: "Operations",
      summary: "Readiness",
      responses: { 200: { description: "The logs are open.", content: json(readyAnswer) } },
    }),
    (c) => c.json({ status: "ready", topics: deps.logs.listTopics().length }),
  );
  return app;
}
