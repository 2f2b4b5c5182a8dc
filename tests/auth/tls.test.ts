// TLS: a node started with a certificate and key (a self-signed pair made here by the openssl CLI)
// serves HTTPS and WSS, and refuses plain HTTP on the same port; a half-configured pair is refused.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isSluiceError } from "../../lib/errors.ts";
import { startHttpServer } from "../../lib/platform/http-server.ts";
import { StreamClient } from "../ws/helpers.ts";
import { ADMIN_SECRET, type AuthNode, bearer, startAuthNode } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "sluice-tls-"));
const certFile = join(dir, "cert.pem");
const keyFile = join(dir, "key.pem");
let node: AuthNode;
let ca: string;

beforeAll(async () => {
  const made = Bun.spawnSync([
    "openssl",
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    keyFile,
    "-out",
    certFile,
    "-days",
    "1",
    "-subj",
    "/CN=127.0.0.1",
    "-addext",
    "subjectAltName=IP:127.0.0.1",
  ]);
  if (made.exitCode !== 0) throw new Error(`openssl failed: ${made.stderr.toString()}`);
  ca = readFileSync(certFile, "utf8");
  node = startAuthNode({ tls: { certFile, keyFile } });
});
afterAll(async () => {
  await node.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("TLS", () => {
  test("the API answers over HTTPS, checked against the test's own CA, with the token required", async () => {
    expect(node.root).toStartWith("https://");
    const health = await fetch(`${node.root}/healthz`, { tls: { ca } } as RequestInit);
    expect(health.status).toBe(200);
    const refused = await fetch(`${node.api}/topics`, { tls: { ca } } as RequestInit);
    expect(refused.status).toBe(401);
    const topics = await fetch(`${node.api}/topics`, {
      headers: bearer(ADMIN_SECRET),
      tls: { ca },
    } as RequestInit);
    expect(topics.status).toBe(200);
  });

  test("a client that does not trust the certificate cannot connect", async () => {
    await expect(fetch(`${node.root}/healthz`)).rejects.toThrow();
  });

  test("plain HTTP on the TLS port gets no answer", async () => {
    const plain = node.root.replace("https://", "http://");
    const outcome = await fetch(`${plain}/healthz`, { signal: AbortSignal.timeout(2000) }).then(
      (response) => response.status,
      () => "refused",
    );
    expect(outcome).not.toBe(200);
  });

  test("WSS carries a produce and its subscription", async () => {
    const created = await fetch(`${node.api}/topics`, {
      method: "POST",
      headers: { ...bearer(ADMIN_SECRET), "content-type": "application/json" },
      body: JSON.stringify({ name: "secure" }),
      tls: { ca },
    } as RequestInit);
    expect(created.status).toBe(201);
    expect(node.wsUrl).toStartWith("wss://");
    const client = await StreamClient.connect(`${node.wsUrl}?access_token=${ADMIN_SECRET}`, { tls: { ca } });
    client.send({ type: "produce", requestId: 1, topic: "secure", records: [{ value: { over: "tls" } }] });
    await client.expectFrame("produced");
    client.send({
      type: "subscribe",
      id: 1,
      topic: "secure",
      partition: 0,
      from: "earliest",
      credit: { records: 1 },
    });
    await client.expectFrame("subscribed");
    const records = await client.collectRecords(1, 1);
    expect(records[0]!.value).toEqual({ over: "tls" });
    client.close();
  });

  test("a certificate without its key, or a file that is not PEM, is refused naming the key", () => {
    const start = (tls: { certFile?: string; keyFile?: string }) => () =>
      startHttpServer({ fetch: () => new Response(), port: 0, hostname: "127.0.0.1", tls });
    const fieldOf = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        return isSluiceError(error, "INVALID_CONFIG") ? error.field : String(error);
      }
      return "started";
    };
    expect(fieldOf(start({ certFile }))).toBe("tlsKeyFile");
    const notPem = join(dir, "not.pem");
    writeFileSync(notPem, "hello");
    expect(fieldOf(start({ certFile: notPem, keyFile }))).toBe("tlsCertFile");
    expect(fieldOf(start({ certFile, keyFile: join(dir, "missing.pem") }))).toBe("tlsKeyFile");
  });
});
