// API tokens: made by an admin with their secret shown once, kept only as SHA-256 in the data
// directory (so they survive a restart), listed without secrets, revoked at once; the bootstrap admin
// token and the operator's tokens file; and the config keys that turn it all on.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AccessControl } from "../../lib/auth/access-control.ts";
import { topicMatches } from "../../lib/auth/grants.ts";
import { hashSecret } from "../../lib/auth/token-secret.ts";
import { ManualClock } from "../../lib/clock.ts";
import { loadConfig } from "../../lib/config.ts";
import { isSluiceError } from "../../lib/errors.ts";
import { FileStorage } from "../../lib/storage/file-storage.ts";
import { startNode } from "../gateway/helpers.ts";
import { ADMIN_SECRET, createToken, request, startAuthNode } from "./helpers.ts";

function errorOf(run: () => unknown): { name: string; field: string | undefined } | string {
  try {
    run();
  } catch (error) {
    return isSluiceError(error) ? { name: error.errorName, field: error.field } : String(error);
  }
  return "no error";
}

describe("API tokens", () => {
  test("a new token's secret is shown once, stored hashed, listed without it, and works at once", async () => {
    await using node = startAuthNode();
    const secret = await createToken(node, "sensor-1", [{ role: "produce", topics: "sensors.*" }]);
    expect(secret).toStartWith("sluice_");
    const stored = readFileSync(join(node.dataDir, "tokens.json"), "utf8");
    expect(stored).not.toContain(secret);
    expect(stored).toContain(hashSecret(secret));
    const list = await (await request(`${node.api}/tokens`, { secret: ADMIN_SECRET })).json();
    expect(JSON.stringify(list)).not.toContain(hashSecret(secret));
    expect(list).toMatchObject({
      tokens: [
        { name: "admin", source: "config", grants: [{ role: "admin" }] },
        { name: "sensor-1", source: "api", grants: [{ role: "produce", topics: "sensors.*" }] },
      ],
    });
    const whoami = await (await request(`${node.api}/whoami`, { secret })).json();
    expect(whoami).toMatchObject({ authEnabled: true, name: "sensor-1", source: "api" });
  });

  test("names are unique, config tokens cannot be revoked, and a revoked token answers 401", async () => {
    await using node = startAuthNode();
    const secret = await createToken(node, "temp", [{ role: "consume", topics: "*" }]);
    const again = await request(`${node.api}/tokens`, {
      method: "POST",
      secret: ADMIN_SECRET,
      body: { name: "temp", grants: [{ role: "admin" }] },
    });
    expect(again.status).toBe(409);
    const admin = await request(`${node.api}/tokens/admin`, { method: "DELETE", secret: ADMIN_SECRET });
    expect(((await admin.json()) as { error: { name: string } }).error.name).toBe("TOKEN_NOT_REVOCABLE");
    expect(
      (await request(`${node.api}/tokens/temp`, { method: "DELETE", secret: ADMIN_SECRET })).status,
    ).toBe(204);
    expect((await request(`${node.api}/topics`, { secret })).status).toBe(401);
    expect(
      (await request(`${node.api}/tokens/temp`, { method: "DELETE", secret: ADMIN_SECRET })).status,
    ).toBe(404);
  });

  test("bad grants are refused naming the field", async () => {
    await using node = startAuthNode();
    const bad = await request(`${node.api}/tokens`, {
      method: "POST",
      secret: ADMIN_SECRET,
      body: { name: "x", grants: [{ role: "consume", topics: "a/b" }] },
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { field: string } }).error.field).toBe("grants[0].topics");
  });

  test("tokens made through the API survive a restart; revoked ones stay revoked", () => {
    const dataDir = mkdtempSync(join(tmpdir(), "sluice-tokens-"));
    try {
      const options = {
        enabled: true,
        adminToken: ADMIN_SECRET,
        storage: new FileStorage(),
        dataDir,
        clock: new ManualClock(),
      };
      const first = AccessControl.open(options);
      const kept = first.create({ name: "kept", grants: [{ role: "consume", topics: "*" }] });
      const gone = first.create({ name: "gone", grants: [{ role: "consume", topics: "*" }] });
      first.revoke("gone");
      const second = AccessControl.open(options);
      expect(second.authenticate(kept.secret)?.name).toBe("kept");
      expect(second.authenticate(gone.secret)).toBeUndefined();
      expect(second.authenticate(`${kept.secret}x`)).toBeUndefined();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test("the operator's tokens file gives tokens by hash; access on without any admin does not start", () => {
    const dataDir = mkdtempSync(join(tmpdir(), "sluice-tokens-"));
    try {
      const tokensFile = join(dataDir, "operator-tokens.json");
      const secret = "ops-secret-for-the-dashboard";
      writeFileSync(
        tokensFile,
        JSON.stringify({
          tokens: [
            { name: "ops", sha256: hashSecret(secret), grants: [{ role: "admin" }] },
            { name: "dash", sha256: hashSecret("d"), grants: [{ role: "consume", topics: "*" }] },
          ],
        }),
      );
      const base = { storage: new FileStorage(), dataDir, clock: new ManualClock() };
      const access = AccessControl.open({ ...base, enabled: true, tokensFile });
      expect(access.authenticate(secret)).toMatchObject({ name: "ops", source: "file" });
      expect(errorOf(() => access.revoke("ops"))).toEqual({ name: "TOKEN_NOT_REVOCABLE", field: "name" });
      expect(errorOf(() => AccessControl.open({ ...base, enabled: true }))).toEqual({
        name: "INVALID_CONFIG",
        field: "authAdminToken",
      });
      writeFileSync(tokensFile, JSON.stringify({ tokens: [{ name: "x", sha256: "nothex", grants: [] }] }));
      expect(errorOf(() => AccessControl.open({ ...base, enabled: false, tokensFile }))).toEqual({
        name: "INVALID_CONFIG",
        field: "authTokensFile",
      });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test("with access control off (the default) every route answers without a token", async () => {
    await using node = startNode();
    expect((await fetch(`${node.api}/topics`)).status).toBe(200);
    const whoami = await (await fetch(`${node.api}/whoami`)).json();
    expect(whoami).toMatchObject({ authEnabled: false, name: "anonymous", grants: [{ role: "admin" }] });
  });
});

describe("grants and config", () => {
  test("topic globs: * any run of characters, ? one, everything else literal", () => {
    expect(topicMatches("sensors.*", "sensors.temp")).toBe(true);
    expect(topicMatches("sensors.*", "sensorsXtemp")).toBe(false);
    expect(topicMatches("sensors.*", "other.sensors.temp")).toBe(false);
    expect(topicMatches("a?c", "abc")).toBe(true);
    expect(topicMatches("a?c", "abbc")).toBe(false);
    expect(topicMatches("*", "__consumer_offsets")).toBe(true);
    expect(topicMatches("orders", "orders")).toBe(true);
    expect(topicMatches("orders", "orders-eu")).toBe(false);
  });

  test("auth and TLS keys come from flags and SLUICE_* variables, checked and named", () => {
    const config = loadConfig(["--auth-enabled", "true", "--auth-metrics=false"], {
      SLUICE_AUTH_ADMIN_TOKEN: ADMIN_SECRET,
      SLUICE_TLS_CERT_FILE: "/etc/sluice/cert.pem",
    });
    expect(config).toMatchObject({
      authEnabled: true,
      authMetrics: false,
      authAdminToken: ADMIN_SECRET,
      tlsCertFile: "/etc/sluice/cert.pem",
    });
    expect(loadConfig([], {}).authEnabled).toBe(false);
    expect(errorOf(() => loadConfig(["--auth-enabled", "yes"], {}))).toEqual({
      name: "INVALID_CONFIG",
      field: "authEnabled",
    });
    expect(errorOf(() => loadConfig([], { SLUICE_AUTH_ADMIN_TOKEN: "short" }))).toEqual({
      name: "INVALID_CONFIG",
      field: "authAdminToken",
    });
    // Cluster nodes authenticate to each other with the admin token: a cluster with access control needs it.
    const cluster = [
      "--node-id",
      "1",
      "--advertised-url",
      "http://127.0.0.1:1",
      "--etcd-endpoints",
      "http://127.0.0.1:2",
    ];
    expect(errorOf(() => loadConfig(["--auth-enabled", "true", ...cluster], {}))).toEqual({
      name: "INVALID_CONFIG",
      field: "authAdminToken",
    });
    expect(
      loadConfig(["--auth-enabled", "true", ...cluster], { SLUICE_AUTH_ADMIN_TOKEN: ADMIN_SECRET }).nodeId,
    ).toBe(1);
  });
});
