// A node's life as an operator sees it: JSON log lines on stderr, a stop on SIGTERM that lets requests
// finish, closes WebSockets with 1001 and leaves a clean data directory, and the bounds on that stop.
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { NodeProcess, postJson, tempDir } from "./helpers.ts";

const MARKER = ".kafka_cleanshutdown";

describe("sluice serve lifecycle", () => {
  test("startup logs the version, data dir, URLs and what recovery did, as JSON lines", async () => {
    using dir = tempDir("serve");
    await using node = await NodeProcess.start(dir.path);
    const opened = node.logs.find((line) => line.msg === "data directory opened")!;
    expect(opened).toMatchObject({
      level: "info",
      cleanShutdown: false,
      truncatedBytes: 0,
      partitionsRecovered: 0,
    });
    const ready = node.logs.find((line) => line.msg === "sluice ready")!;
    expect(ready.version).toBe((await import("../../package.json")).version);
    expect(ready.dataDir).toBe(dir.path);
    expect(ready.apiUrl).toBe(`${node.url}/api/v1`);
    expect(ready.uiUrl).toBe(`${node.url}/ui`);
    expect(Number.isNaN(Date.parse(ready.time))).toBe(false);
    expect(await node.stop()).toBe(0);
  });

  test("logLevel warn drops info lines", async () => {
    using dir = tempDir("serve");
    await using node = await NodeProcess.start(dir.path, { args: ["--log-level", "debug"] });
    expect(await node.stop()).toBe(0);
    // The quiet run writes no ready line (it is info): wait on its port answering instead.
    const port = freePort();
    const quiet = Bun.spawn(
      [
        process.execPath,
        "main.ts",
        "--port",
        String(port),
        "--host",
        "127.0.0.1",
        "--data-dir",
        dir.path,
        "--log-level",
        "warn",
      ],
      { cwd: join(import.meta.dir, "..", ".."), stdout: "pipe", stderr: "pipe" },
    );
    await waitUntilServing(`http://127.0.0.1:${port}/healthz`);
    quiet.kill("SIGTERM");
    expect(await quiet.exited).toBe(0);
    expect(await new Response(quiet.stderr).text()).toBe("");
    expect(node.logs.map((line) => line.level)).toContain("info");
  });

  test("SIGTERM stops cleanly: the in-flight long poll is answered, WebSockets close with 1001, exit 0", async () => {
    using dir = tempDir("serve");
    await using node = await NodeProcess.start(dir.path);
    expect((await postJson(`${node.url}/api/v1/topics`, { name: "t", partitions: 1 })).status).toBe(201);
    const ws = new WebSocket(`${node.url.replace("http", "ws")}/api/v1/ws`);
    await new Promise((resolve) => ws.addEventListener("open", resolve, { once: true }));
    const closed = new Promise<number>((resolve) =>
      ws.addEventListener("close", (event) => resolve(event.code)),
    );
    // A long poll on an empty partition is in flight when the signal comes; it ends at its own 1 s wait.
    const poll = fetch(`${node.url}/api/v1/topics/t/partitions/0/records?offset=0&max_wait_ms=1000`);
    await Bun.sleep(100);
    node.signal("SIGTERM");
    expect(await closed).toBe(1001);
    const answer = await poll;
    expect(answer.status).toBe(200);
    expect(await node.exited).toBe(0);
    expect(existsSync(join(dir.path, MARKER))).toBe(true);
    expect(node.logs.at(-1)).toMatchObject({ level: "info", msg: "stopped cleanly" });
  });

  test("requests still running after shutdownDrainMs are cut and the stop still completes cleanly", async () => {
    using dir = tempDir("serve");
    await using node = await NodeProcess.start(dir.path, { args: ["--shutdown-drain-ms", "300"] });
    await postJson(`${node.url}/api/v1/topics`, { name: "t", partitions: 1 });
    const poll = fetch(`${node.url}/api/v1/topics/t/partitions/0/records?offset=0&max_wait_ms=30000`).then(
      () => "answered",
      () => "cut",
    );
    await Bun.sleep(100);
    const stoppedMs = performance.now();
    expect(await node.stop()).toBe(0);
    expect(performance.now() - stoppedMs).toBeLessThan(5_000);
    expect(await poll).toBe("cut");
    expect(node.logs.some((line) => line.level === "warn" && line.msg.includes("drain time"))).toBe(true);
    expect(existsSync(join(dir.path, MARKER))).toBe(true);
  });

  test("a second signal during the stop exits 7 without the clean-shutdown marker, and the next start recovers", async () => {
    using dir = tempDir("serve");
    {
      await using node = await NodeProcess.start(dir.path, {
        args: ["--shutdown-drain-ms", "20000", "--shutdown-timeout-ms", "30000"],
      });
      await postJson(`${node.url}/api/v1/topics`, { name: "t", partitions: 1 });
      await postJson(`${node.url}/api/v1/topics/t/records`, { records: [{ value: "kept" }] });
      void fetch(`${node.url}/api/v1/topics/t/partitions/0/records?offset=1&max_wait_ms=30000`).catch(
        () => undefined,
      );
      await Bun.sleep(100);
      node.signal("SIGTERM");
      await node.waitForLog((line) => line.msg === "shutting down");
      node.signal("SIGINT");
      expect(await node.exited).toBe(7);
      expect(existsSync(join(dir.path, MARKER))).toBe(false);
    }
    await using again = await NodeProcess.start(dir.path);
    expect(again.logs.find((line) => line.msg === "data directory opened")?.cleanShutdown).toBe(false);
    const records = await (await fetch(`${again.url}/api/v1/topics/t/partitions/0/records?offset=0`)).json();
    expect(records.records.map((r: { value: unknown }) => r.value)).toEqual(["kept"]);
    expect(await again.stop()).toBe(0);
  });

  test("a port already in use is logged as an error line and exits 1", async () => {
    using dir = tempDir("serve");
    await using first = await NodeProcess.start(dir.path);
    const port = new URL(first.url).port;
    using other = tempDir("serve");
    const second = Bun.spawn(
      [process.execPath, "main.ts", "--port", port, "--host", "127.0.0.1", "--data-dir", other.path],
      { cwd: join(import.meta.dir, "..", ".."), stdout: "pipe", stderr: "pipe" },
    );
    expect(await second.exited).toBe(1);
    const lines = (await new Response(second.stderr).text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.at(-1)).toMatchObject({ level: "error", msg: "could not start" });
    expect(await first.stop()).toBe(0);
  });
});

/** A port nothing listens on now: bound once by the OS's choice, then let go. */
function freePort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const { port } = listener;
  listener.stop(true);
  return port;
}

async function waitUntilServing(url: string, timeoutMs = 15_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await Bun.sleep(25);
  }
}
