// The access-control middleware: finds the route a request is for, reads its token (Authorization:
// Bearer, or ?access_token= on the WebSocket upgrade), and lets it through only if a grant covers what
// routes/auth-policy.ts says the route needs; produce routes are also held to the token's produce
// rate. Refusals are answered here, before any handler runs, so they leave no trace in any topic.
import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { type AccessControl, ANONYMOUS, type Principal } from "../lib/auth/access-control.ts";
import { hasRole, isAdmin, mayUseTopic } from "../lib/auth/grants.ts";
import { type ProduceRateLimiter, produceRateRefusal } from "../lib/auth/produce-rate.ts";
import { ON_BEHALF_HEADER, parseOnBehalf } from "../lib/cluster/peer-auth.ts";
import { FORWARDED_HEADER } from "../lib/cluster/replicated-append.ts";
import { SluiceError } from "../lib/errors.ts";
import { splitBatches } from "../lib/gateway/batch-frames.ts";
import type { GroupCoordinator } from "../lib/groups/group-coordinator.ts";
import { RECORDS_COUNT_OFFSET } from "../lib/log/record-batch.ts";
import type { Counter } from "../lib/metrics/counter.ts";
import type { SluiceMetrics } from "../lib/metrics/sluice-metrics.ts";
import { type ProduceKind, type Requirement, requirementOf } from "./auth-policy.ts";
import { errorResponse } from "./errors.ts";

declare module "hono" {
  interface ContextVariableMap {
    /** Who made the request: set by the access middleware on every route that needs a token. */
    principal: Principal;
  }
}

export interface AccessDeps {
  access: AccessControl;
  groups: GroupCoordinator;
  metrics: SluiceMetrics;
}

/** Where the 401's challenge points clients (RFC 6750). */
const REALM = 'Bearer realm="sluice"';

export function accessMiddleware(deps: AccessDeps): MiddlewareHandler {
  const { access, metrics } = deps;
  if (!access.enabled) {
    return (c, next) => {
      c.set("principal", ANONYMOUS);
      return next();
    };
  }
  const failures = failureCounter(metrics);
  return async (c, next) => {
    const route = answeringRoute(c);
    // No route: the answer is a 404, but only to a token holder, so paths cannot be probed.
    const requirement: Requirement =
      route === undefined ? { kind: "token" } : requirementOf(route.method, route.path);
    if (requirement.kind === "open") return next();
    if (requirement.kind === "metrics" && !access.metricsNeedToken) return next();
    const queryToken = requirement.kind === "token" && requirement.queryToken === true;
    const authenticated = authenticate(c, access, queryToken);
    if (authenticated instanceof Response) {
      failures.inc({ reason: "unauthenticated" });
      return authenticated;
    }
    // Another node (the cluster's admin token) forwarding a client's request: checked as that client.
    const forwarded = isAdmin(authenticated.grants) && c.req.header(FORWARDED_HEADER) !== undefined;
    const principal = forwarded ? (onBehalfOf(c) ?? authenticated) : authenticated;
    const denied = await deniedBecause(c, principal, requirement, { ...deps, params: route?.params ?? {} });
    if (denied !== undefined) {
      failures.inc({ reason: "forbidden" });
      return errorResponse(
        new SluiceError("FORBIDDEN", `token ${principal.name} may not do this: ${denied}`),
        c,
      );
    }
    c.set("principal", principal);
    // A produce forwarded by another node was charged to the client's rate there.
    if (requirement.kind === "topic" && requirement.produce !== undefined && !forwarded) {
      const limiter = access.rateLimiterOf(principal);
      if (limiter !== undefined)
        return meteredProduce(c, next, { limiter, kind: requirement.produce, metrics });
    }
    return next();
  };
}

/**
 * The client a forwarded request speaks for (lib/cluster/peer-auth.ts); undefined without the
 * header. A header that is not one is refused: only a node sends it, so it is a bug or a forgery.
 */
function onBehalfOf(c: Context): Principal | undefined {
  const value = c.req.header(ON_BEHALF_HEADER);
  if (value === undefined) return undefined;
  const principal = parseOnBehalf(value);
  if (principal === undefined) {
    throw new SluiceError("INVALID_REQUEST", `${ON_BEHALF_HEADER} is not a principal`, {
      field: ON_BEHALF_HEADER,
    });
  }
  return principal;
}

/** The route that will answer (the first that is not middleware for all methods) and its params. */
function answeringRoute(
  c: Context,
): { method: string; path: string; params: Record<string, string> } | undefined {
  const routes = matchedRoutes(c);
  const index = routes.findIndex((route) => route.method !== "ALL");
  if (index < 0) return undefined;
  // hono reads params for the handler at routeIndex; borrow it to read the answering route's.
  const saved = c.req.routeIndex;
  c.req.routeIndex = index;
  try {
    const params = c.req.param() as Record<string, string>;
    return { method: routes[index]!.method, path: routes[index]!.path, params };
  } finally {
    c.req.routeIndex = saved;
  }
}

/** The request's token, or the 401 to answer: no token, a malformed header, an unknown token. */
function authenticate(c: Context, access: AccessControl, queryToken: boolean): Principal | Response {
  const header = c.req.header("authorization");
  let secret: string | undefined;
  if (header !== undefined) {
    const match = /^Bearer +(\S+) *$/i.exec(header);
    if (match === null) {
      return unauthenticated(c, "the Authorization header must be 'Bearer <token>'", "invalid_request");
    }
    secret = match[1];
  } else if (queryToken) {
    secret = c.req.query("access_token");
  }
  if (secret === undefined || secret === "") {
    const how = queryToken
      ? "Authorization: Bearer <token>, or ?access_token=<token>"
      : "Authorization: Bearer <token>";
    return unauthenticated(c, `this node needs an API token: send ${how}`);
  }
  return (
    access.authenticate(secret) ?? unauthenticated(c, "the token is unknown or revoked", "invalid_token")
  );
}

function unauthenticated(c: Context, message: string, error?: string): Response {
  const response = errorResponse(new SluiceError("UNAUTHENTICATED", message, { field: "authorization" }), c);
  response.headers.set("www-authenticate", error === undefined ? REALM : `${REALM}, error="${error}"`);
  return response;
}

/** Why the principal may not do what the route needs; undefined when it may. */
async function deniedBecause(
  c: Context,
  principal: Principal,
  requirement: Requirement,
  ctx: AccessDeps & { params: Record<string, string> },
): Promise<string | undefined> {
  const { grants } = principal;
  switch (requirement.kind) {
    case "open":
    case "metrics":
    case "token":
      return undefined;
    case "admin":
      return isAdmin(grants) ? undefined : "it needs the admin role";
    case "role":
      return hasRole(grants, requirement.role) ? undefined : `it needs ${requirement.role} on some topic`;
    case "topic": {
      const topic = ctx.params.topic ?? "";
      const roles = requirement.role === "any" ? (["produce", "consume"] as const) : [requirement.role];
      if (roles.some((role) => mayUseTopic(grants, role, topic))) return undefined;
      return `it needs ${roles.join(" or ")} on topic ${topic}`;
    }
    case "topics": {
      if (!hasRole(grants, "consume")) return "it needs consume on the group's topics";
      // Only now is the body read (a token holder's), under the route's own size limit.
      const topics = await requirement.topicsOf(c, {
        groups: ctx.groups,
        limits: ctx.metrics,
        params: ctx.params,
      });
      const refused = topics.filter((topic) => !mayUseTopic(grants, "consume", topic));
      return refused.length === 0 ? undefined : `it needs consume on topic ${refused.join(", ")}`;
    }
  }
}

/**
 * A produce held to the token's rate: refused while the token is in debt (429 with Retry-After), and
 * once it has appended, charged its body's bytes and its records.
 */
async function meteredProduce(
  c: Context,
  next: () => Promise<void>,
  options: { limiter: ProduceRateLimiter; kind: ProduceKind; metrics: SluiceMetrics },
): Promise<Response | undefined> {
  const { limiter } = options;
  const refusal = produceRateRefusal(limiter, options.metrics);
  if (refusal !== undefined) {
    const response = errorResponse(refusal.error, c);
    response.headers.set("retry-after", String(Math.max(1, Math.ceil(refusal.waitMs / 1000))));
    return response;
  }
  await next();
  if (c.res.status === 200 || c.res.status === 202) {
    limiter.charge(await producedAmount(c, options.kind, limiter.countsRecords));
  }
  return undefined;
}

/** What an accepted produce sent: its body's bytes, and its records when the rate counts them. */
async function producedAmount(
  c: Context,
  kind: ProduceKind,
  countRecords: boolean,
): Promise<{ bytes: number; records: number }> {
  // The route has read the body: hono hands back the same bytes.
  const body = new Uint8Array(await c.req.arrayBuffer());
  if (!countRecords) return { bytes: body.byteLength, records: 0 };
  if (kind === "batches") {
    let records = 0;
    for (const batch of splitBatches(body)) {
      records += new DataView(batch.buffer, batch.byteOffset, batch.byteLength).getInt32(
        RECORDS_COUNT_OFFSET,
      );
    }
    return { bytes: body.byteLength, records };
  }
  // JSON: a 200 lists each record's offset; acks=0 answers nothing, so count the request's.
  const counted =
    c.res.status === 200
      ? ((await c.res.clone().json()) as { offsets: unknown[] }).offsets
      : (JSON.parse(new TextDecoder().decode(body)) as { records: unknown[] }).records;
  return { bytes: body.byteLength, records: counted.length };
}

const failureCounters = new WeakMap<SluiceMetrics, Counter>();

/** sluice_auth_failures_total, once per metrics set. */
export function failureCounter(metrics: SluiceMetrics): Counter {
  let counter = failureCounters.get(metrics);
  if (counter === undefined) {
    counter = metrics.registry.counter({
      name: "sluice_auth_failures_total",
      help: "Requests and WebSocket frames refused by access control, by reason (unauthenticated, forbidden).",
      labelNames: ["reason"],
    });
    for (const reason of ["unauthenticated", "forbidden"]) counter.inc({ reason }, 0);
    failureCounters.set(metrics, counter);
  }
  return counter;
}
