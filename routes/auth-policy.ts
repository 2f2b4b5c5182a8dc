// What each route needs when access control is on, in one table keyed by method and route pattern, so
// the rules can be read in one place and a test can hold them against every route the app registers.
// A route missing from the table needs an admin token: a new route is closed until someone opens it.
import type { Context } from "hono";
import { z } from "zod";
import type { TopicRole } from "../lib/auth/grants.ts";
import type { GroupCoordinator } from "../lib/groups/group-coordinator.ts";
import { GROUP_REQUEST_BODY_BYTES_MAX } from "../lib/groups/limits.ts";
import type { LimitName } from "../lib/metrics/sluice-metrics.ts";
import { limitBody, parseInput, readJsonBody } from "./validate.ts";

/** Where a produce's size is read from, to charge the token's produce rate once it is appended. */
export type ProduceKind = "records" | "batches";

export type Requirement =
  /** No token: liveness and readiness probes, the API's own description, the UI's static files. */
  | { kind: "open" }
  /** Open unless authMetrics is set, then any token. */
  | { kind: "metrics" }
  /** Any valid token; `queryToken`: also taken from ?access_token= (browsers cannot set WebSocket headers). */
  | { kind: "token"; queryToken?: boolean }
  | { kind: "admin" }
  /** A grant of `role` (either role for "any") covering the :topic in the path. */
  | { kind: "topic"; role: TopicRole | "any"; produce?: ProduceKind }
  /** A grant of `role` on some topic: for routes tied to no topic. */
  | { kind: "role"; role: TopicRole }
  /** Consume on every topic the request involves (consumer groups), read from its path, body or group. */
  | { kind: "topics"; topicsOf: TopicsOf };

/** The topics a group request involves. */
export type TopicsOf = (c: Context, ctx: PolicyContext) => Promise<string[]>;

export interface PolicyContext {
  groups: GroupCoordinator;
  limits: { limitHit(limit: LimitName): void };
  /** The route's path params, as hono decoded them. */
  params: Record<string, string>;
}

/** Every topic a group is about: its members' subscriptions and its committed offsets. */
const groupTopics: TopicsOf = async (_c, { groups, params }) => {
  const group = params.group ?? "";
  const topics = new Set<string>();
  for (const member of groups.group(group)?.describe().members ?? []) {
    for (const topic of member.topics) topics.add(topic);
  }
  for (const committed of committedOrNone(groups, group)) topics.add(committed.topic);
  return [...topics];
};

function committedOrNone(groups: GroupCoordinator, group: string): Array<{ topic: string }> {
  try {
    return groups.committedOffsets(group);
  } catch {
    // An unknown or malformed group id involves no topic; the route answers why.
    return [];
  }
}

/**
 * The topics named in a JSON body. The body is read here under the group routes' own size limit and
 * kept for the route (hono caches it); the shapes are looser than the routes' schemas, so any body a
 * route would take yields its topics here.
 */
function bodyTopics<T extends z.ZodType>(schema: T, pick: (body: z.output<T>) => string[]): TopicsOf {
  return async (c, { limits }) => {
    let topics: string[] = [];
    await limitBody(limits, GROUP_REQUEST_BODY_BYTES_MAX)(c, async () => {
      topics = pick(parseInput(schema, await readJsonBody(c)));
      // The route reads the body from hono's cache, but its own size check reads a chunked body's
      // stream again: give it a fresh one.
      c.req.raw = new Request(c.req.raw, { body: await c.req.arrayBuffer() });
    });
    return topics;
  };
}

const joinTopics = bodyTopics(z.looseObject({ topics: z.array(z.string()) }), (body) => body.topics);
const commitTopics = bodyTopics(
  z.looseObject({ offsets: z.array(z.looseObject({ topic: z.string() })) }),
  (body) => body.offsets.map((entry) => entry.topic),
);
const resetTopics = bodyTopics(z.looseObject({ topic: z.string() }), (body) => [body.topic]);
/** ?topic= narrows the offsets read to one topic; without it, all the group's. */
const offsetsReadTopics: TopicsOf = async (c, ctx) => {
  const topic = c.req.query("topic");
  return topic === undefined ? groupTopics(c, ctx) : [topic];
};

const OPEN = { kind: "open" } as const;
const TOKEN = { kind: "token" } as const;
const ADMIN = { kind: "admin" } as const;
const GROUP = { kind: "topics", topicsOf: groupTopics } as const;

export const ROUTE_POLICY: Readonly<Record<string, Requirement>> = {
  "GET /healthz": OPEN,
  // Readiness probes (a load balancer, systemd, Kubernetes) cannot hold a token; it says only "ready".
  "GET /readyz": OPEN,
  "GET /metrics": { kind: "metrics" },
  // The API's description is the README's, in another form: no data, and a browser must be able to open it.
  "GET /docs": OPEN,
  "GET /api/v1/openapi.json": OPEN,
  "GET /api/v1/whoami": TOKEN,
  "GET /api/v1/tokens": ADMIN,
  "POST /api/v1/tokens": ADMIN,
  "DELETE /api/v1/tokens/:name": ADMIN,
  "GET /api/v1/topics": TOKEN,
  "POST /api/v1/topics": ADMIN,
  "GET /api/v1/topics/:topic": { kind: "topic", role: "any" },
  "PATCH /api/v1/topics/:topic/config": ADMIN,
  "DELETE /api/v1/topics/:topic": ADMIN,
  "POST /api/v1/topics/:topic/records": { kind: "topic", role: "produce", produce: "records" },
  "GET /api/v1/topics/:topic/partitions/:partition/records": { kind: "topic", role: "consume" },
  "POST /api/v1/topics/:topic/partitions/:partition/batches": {
    kind: "topic",
    role: "produce",
    produce: "batches",
  },
  "GET /api/v1/topics/:topic/partitions/:partition/offsets": { kind: "topic", role: "consume" },
  "POST /api/v1/producers": { kind: "role", role: "produce" },
  "GET /api/v1/groups": { kind: "role", role: "consume" },
  "GET /api/v1/groups/:group": GROUP,
  "DELETE /api/v1/groups/:group": GROUP,
  "POST /api/v1/groups/:group/members": { kind: "topics", topicsOf: joinTopics },
  "POST /api/v1/groups/:group/members/:member/heartbeat": GROUP,
  "DELETE /api/v1/groups/:group/members/:member": GROUP,
  "POST /api/v1/groups/:group/offsets": { kind: "topics", topicsOf: commitTopics },
  "GET /api/v1/groups/:group/offsets": { kind: "topics", topicsOf: offsetsReadTopics },
  "POST /api/v1/groups/:group/offsets/reset": { kind: "topics", topicsOf: resetTopics },
  // The admin UI's overview: node figures and traffic rates (topic names included, as GET /topics).
  "GET /": OPEN,
  "GET /api/v1/node": TOKEN,
  "GET /api/v1/stats": TOKEN,
  // EventSource cannot set headers either.
  "GET /api/v1/stats/stream": { kind: "token", queryToken: true },
  // The upgrade needs a token; each frame is then checked against its grants (routes/ws-access.ts).
  "GET /api/v1/ws": { kind: "token", queryToken: true },
  // Who leads what, for any client; the replica routes stay admin's: nodes replicate with the shared
  // authAdminToken (lib/cluster/).
  "GET /api/v1/cluster": TOKEN,
  "GET /api/v1/cluster/replica/fetch": ADMIN,
  "GET /api/v1/cluster/replica/epoch-end": ADMIN,
  "GET /api/v1/cluster/reassignments": TOKEN,
  "POST /api/v1/cluster/reassignments": ADMIN,
  "DELETE /api/v1/cluster/reassignments/{topic}/{partition}": ADMIN,
};

/**
 * The admin UI's pages and scripts (GET /ui...) hold no data: they must load without a token to show
 * the login screen, and every call they make to the API needs one.
 */
const UI_PREFIX = "/ui";

/** What the route `method path` (hono's pattern) needs; an admin token when it is not in the table. */
export function requirementOf(method: string, path: string): Requirement {
  const rule = ROUTE_POLICY[`${method} ${path}`];
  if (rule !== undefined) return rule;
  if (method === "GET" && (path === UI_PREFIX || path.startsWith(`${UI_PREFIX}/`))) return OPEN;
  return ADMIN;
}
