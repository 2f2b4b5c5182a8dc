// A Sluice node with access control on, served as main.ts serves it (lib/platform/http-server.ts, so
// WebSockets upgrade and TLS works), with its bootstrap admin token and a few tokens of other roles
// made through the API, so each access test says who sends what and what it expects.
import { expect } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AccessControl, type AccessControlOptions } from "../../lib/auth/access-control.ts";
import type { Grant } from "../../lib/auth/grants.ts";
import { type Clock, ManualClock, systemClock } from "../../lib/clock.ts";
import type { StreamLimits } from "../../lib/gateway/ws-hub.ts";
import { GroupCoordinator } from "../../lib/groups/group-coordinator.ts";
import { startHttpServer, type TlsFiles } from "../../lib/platform/http-server.ts";
import { LogManager } from "../../lib/topics/log-manager.ts";
import { createApp } from "../../routes/app.ts";
import { START_MS } from "../log/helpers.ts";

/** The bootstrap admin token every test node starts with (authAdminToken). */
export const ADMIN_SECRET = "test-admin-token-0123456789abcdef0123456789";

export interface AuthNode extends AsyncDisposable {
  /** http(s)://127.0.0.1:<port> */
  root: string;
  api: string;
  wsUrl: string;
  logs: LogManager;
  access: AccessControl;
  /** A ManualClock unless the node was started with systemClock. */
  clock: Clock;
  dataDir: string;
  close(): Promise<void>;
}

export interface AuthNodeOptions {
  access?: Partial<Omit<AccessControlOptions, "storage" | "dataDir" | "clock">>;
  webSocketLimits?: Partial<StreamLimits>;
  requestBodyBytesMax?: number;
  tls?: TlsFiles;
  /** The system clock instead of a ManualClock: for tests whose groups must rebalance on their own. */
  systemClock?: boolean;
}

export function startAuthNode(options: AuthNodeOptions = {}): AuthNode {
  const dataDir = mkdtempSync(join(tmpdir(), "sluice-auth-"));
  const clock = options.systemClock === true ? systemClock : new ManualClock(START_MS);
  const logs = LogManager.open({ dataDir, clock });
  const access = AccessControl.open({
    enabled: true,
    adminToken: ADMIN_SECRET,
    ...options.access,
    storage: logs.storage,
    dataDir,
    clock,
  });
  // Joins answer at once: no wait for other members (Kafka's group.initial.rebalance.delay.ms).
  const groups = GroupCoordinator.open({ logs, initialRebalanceDelayMs: 0 });
  const app = createApp({
    logs,
    groups,
    access,
    ...(options.webSocketLimits === undefined ? {} : { webSocketLimits: options.webSocketLimits }),
    ...(options.requestBodyBytesMax === undefined
      ? {}
      : { requestBodyBytesMax: options.requestBodyBytesMax }),
  });
  const server = startHttpServer({
    fetch: app.fetch,
    port: 0,
    hostname: "127.0.0.1",
    ...(options.tls === undefined ? {} : { tls: options.tls }),
  });
  const root = `${server.protocol}://127.0.0.1:${server.port}`;
  const wsScheme = server.protocol === "https" ? "wss" : "ws";
  const close = async () => {
    groups.close();
    await server.stop(true);
    await logs.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  return {
    root,
    api: `${root}/api/v1`,
    wsUrl: `${wsScheme}://127.0.0.1:${server.port}/api/v1/ws`,
    logs,
    access,
    clock,
    dataDir,
    close,
    [Symbol.asyncDispose]: close,
  };
}

export function bearer(secret: string): Record<string, string> {
  return { authorization: `Bearer ${secret}` };
}

/** A request as `secret` (none when undefined), with a JSON body when one is given. */
export function request(
  url: string,
  options: {
    method?: string;
    secret?: string | undefined;
    body?: unknown;
    headers?: Record<string, string>;
  } = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.secret !== undefined) Object.assign(headers, bearer(options.secret));
  let body: BodyInit | undefined;
  if (options.body instanceof Uint8Array) body = options.body as unknown as BodyInit;
  else if (options.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  return fetch(url, { method: options.method ?? "GET", headers, body });
}

/** Makes a token through the API as the admin; returns its secret. */
export async function createToken(
  node: AuthNode,
  name: string,
  grants: Grant[],
  rates: { produceBytesPerSecond?: number; produceRecordsPerSecond?: number } = {},
): Promise<string> {
  const response = await request(`${node.api}/tokens`, {
    method: "POST",
    secret: ADMIN_SECRET,
    body: { name, grants, ...rates },
  });
  expect(response.status).toBe(201);
  const answer = (await response.json()) as { token: string };
  return answer.token;
}
