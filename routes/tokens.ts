// Access control's routes: GET /whoami (the token a request carries: its name and grants, for the
// admin UI), and the API tokens an admin makes, lists and revokes under /tokens. A new token's secret
// is in the creation answer and nowhere else; Sluice keeps only its SHA-256.
import { Hono } from "hono";
import { z } from "zod";
import type { AccessControl } from "../lib/auth/access-control.ts";
import { grantSchema } from "../lib/auth/grants.ts";
import { rate, type TokenInfo, tokenFields, tokenName } from "../lib/auth/token-record.ts";
import type { SluiceMetrics } from "../lib/metrics/sluice-metrics.ts";
import { describeRoute, JSON_BODY_ERRORS, json, STORAGE_ERRORS } from "./route-docs.ts";
import { limitBody, paramsOf, parseInput, readJsonBody } from "./validate.ts";

/** Token bodies are a few hundred bytes; this bounds what an admin's typo can make the node read. */
const TOKEN_BODY_BYTES_MAX = 64 * 1024;

const createTokenBody = z
  .object(tokenFields)
  .strict()
  .meta({
    examples: [
      { name: "ingest-sensors", grants: [{ role: "produce", topics: "sensors.*" }] },
      {
        name: "dashboard",
        grants: [
          { role: "consume", topics: "sensors.*" },
          { role: "consume", topics: "alerts" },
        ],
        produceBytesPerSecond: 0,
      },
    ],
  });

const tokenAnswer: z.ZodType<TokenInfo> = z
  .object({
    name: tokenName,
    source: z
      .enum(["config", "file", "api"])
      .meta({ description: "config: authAdminToken; file: authTokensFile; api: made through this API." }),
    grants: z.array(grantSchema),
    createdAtMs: z.number().int().optional(),
    produceBytesPerSecond: rate.optional(),
    produceRecordsPerSecond: rate.optional(),
  })
  .strict();

const createdAnswer = z
  .object({
    token: z
      .string()
      .meta({ description: "The secret: shown this once. Send it as Authorization: Bearer <token>." }),
    info: tokenAnswer,
  })
  .strict();

const whoamiAnswer = z
  .object({
    authEnabled: z.boolean().meta({ description: "false: every request is the anonymous admin." }),
    name: z.string(),
    source: z.enum(["config", "file", "api", "anonymous"]),
    grants: z.array(grantSchema),
    produceBytesPerSecond: rate.meta({ description: "The rate this token produces at most; 0: no limit." }),
    produceRecordsPerSecond: rate,
  })
  .strict();

const tokenParams = z.object({ name: tokenName });

export function tokenRoutes(access: AccessControl, metrics: SluiceMetrics): Hono {
  const app = new Hono();

  app.get(
    "/whoami",
    describeRoute({
      tag: "Access",
      summary: "The request's token",
      description:
        "Its name and grants; the admin UI asks this to decide what to show, and shows its login on 401.",
      responses: { 200: { description: "The token.", content: json(whoamiAnswer) } },
    }),
    (c) => {
      const principal = c.get("principal");
      const rates = access.ratesOf(principal);
      return c.json({
        authEnabled: access.enabled,
        name: principal.name,
        source: principal.source,
        grants: principal.grants,
        produceBytesPerSecond: rates.bytesPerSecond,
        produceRecordsPerSecond: rates.recordsPerSecond,
      });
    },
  );

  app.get(
    "/tokens",
    describeRoute({
      tag: "Access",
      summary: "List tokens",
      description: "Every token the node knows, with its grants; never a secret or its hash.",
      responses: {
        200: {
          description: "The tokens, by name.",
          content: json(z.object({ tokens: z.array(tokenAnswer) })),
        },
      },
    }),
    (c) => c.json({ tokens: access.list() }),
  );

  app.post(
    "/tokens",
    describeRoute({
      tag: "Access",
      summary: "Create a token",
      description:
        "Grants: admin, or produce / consume on a topic name or glob (`sensors.*`); several may be given. " +
        "The answer holds the secret, which is not kept: store it now.",
      body: { content: json(createTokenBody) },
      responses: { 201: { description: "The token and its secret.", content: json(createdAnswer) } },
      errors: [...JSON_BODY_ERRORS, "TOKEN_ALREADY_EXISTS", "TOO_MANY_TOKENS", ...STORAGE_ERRORS],
    }),
    limitBody(metrics, TOKEN_BODY_BYTES_MAX),
    async (c) => {
      const body = parseInput(createTokenBody, await readJsonBody(c));
      const { token, secret } = access.create(body);
      return c.json({ token: secret, info: token }, 201);
    },
  );

  app.delete(
    "/tokens/:name",
    describeRoute({
      tag: "Access",
      summary: "Revoke a token",
      description: "At once: its next request answers 401, and its WebSocket connections are closed.",
      responses: { 204: { description: "Revoked." } },
      errors: ["TOKEN_NOT_FOUND", "TOKEN_NOT_REVOCABLE", ...STORAGE_ERRORS],
    }),
    paramsOf(tokenParams),
    (c) => {
      access.revoke(c.req.valid("param").name);
      return c.body(null, 204);
    },
  );

  return app;
}
