// The node overview, traffic rates and the admin UI's assets over a real loopback socket: counts, disk
// figures and rates follow what the node did, the stats stream sends samples as they are taken, and
// /ui serves a page whose script and stylesheet come from the node itself.
import { afterAll, describe, expect, test } from "bun:test";
import { createApp } from "../../routes/app.ts";
import type { NodeAnswer } from "../../routes/node-answers.ts";
import { describedRoutes } from "../../routes/openapi.ts";
import { createTopic, sendJson, startNode } from "../gateway/helpers.ts";
import { expectDocumentedAnswer } from "./documented-answer.ts";

const node = startNode();
afterAll(() => node.close());
const root = node.api.replace(/\/api\/v1$/, "");
const routes = describedRoutes(createApp({ logs: node.logs }).routes);

async function nodeAnswer(): Promise<NodeAnswer> {
  const response = await fetch(`${node.api}/node`);
  expect(response.status).toBe(200);
  return (await response.json()) as NodeAnswer;
}

describe("GET /node", () => {
  test("counts topics and partitions and measures the data directory and its disk", async () => {
    const before = await nodeAnswer();
    expect(before.dataDir).toBe(node.dataDir);
    expect(before.version).toMatch(/^\d+\.\d+\.\d+/);
    await createTopic(node, "overview", { partitions: 3 });
    const records = Array.from({ length: 200 }, (_, i) => ({ value: { i, pad: "x".repeat(200) } }));
    expect((await sendJson(`${node.api}/topics/overview/records`, { records })).status).toBe(200);
    const after = await nodeAnswer();
    expect(after.topics).toBe(before.topics + 1);
    expect(after.partitions).toBe(before.partitions + 3);
    // 200 records of 200+ bytes are on disk now.
    expect(after.dataDirBytes).toBeGreaterThanOrEqual(before.dataDirBytes + 200 * 200);
    expect(after.diskTotalBytes).toBeGreaterThan(after.diskFreeBytes);
    expect(after.diskFreeBytes).toBeGreaterThan(0);
    await expectDocumentedAnswer(routes, "GET", "/api/v1/node", await fetch(`${node.api}/node`));
  });

  test("uptime follows the node's clock", async () => {
    const before = await nodeAnswer();
    node.clock.advance(5_000);
    expect((await nodeAnswer()).uptimeMs).toBe(before.uptimeMs + 5_000);
  });
});

describe("traffic rates", () => {
  test("a sample gives each topic's records and bytes per second in and out since the one before", async () => {
    await createTopic(node, "rates");
    node.clock.advance(1_000); // a sample closes the interval so far
    const records = Array.from({ length: 50 }, (_, i) => ({ value: i }));
    expect((await sendJson(`${node.api}/topics/rates/records`, { records })).status).toBe(200);
    expect((await fetch(`${node.api}/topics/rates/partitions/0/records?offset=0`)).status).toBe(200);
    node.clock.advance(1_000);
    const response = await fetch(`${node.api}/stats`);
    const stats = (await response.json()) as {
      intervalMs: number;
      samples: Array<{ total: { recordsInPerS: number }; topics: Record<string, Record<string, number>> }>;
    };
    const last = stats.samples.at(-1)!;
    expect(last.topics["rates"]).toMatchObject({ recordsInPerS: 50, recordsOutPerS: 50 });
    expect(last.topics["rates"]!["bytesInPerS"]).toBeGreaterThan(50);
    expect(last.total.recordsInPerS).toBeGreaterThanOrEqual(50);
    await expectDocumentedAnswer(routes, "GET", "/api/v1/stats", await fetch(`${node.api}/stats`));
    node.clock.advance(1_000);
    const quiet = (await (await fetch(`${node.api}/stats`)).json()) as typeof stats;
    expect(quiet.samples.at(-1)!.topics["rates"]).toMatchObject({ recordsInPerS: 0, recordsOutPerS: 0 });
  });

  test("the stats stream sends the latest sample at once, then one per interval", async () => {
    const controller = new AbortController();
    const response = await fetch(`${node.api}/stats/stream`, { signal: controller.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const reader = response.body!.getReader();
    let text = "";
    const decoder = new TextDecoder();
    const first = await reader.read();
    text += decoder.decode(first.value);
    expect(text).toContain("event: sample");
    node.clock.advance(1_000);
    node.clock.advance(1_000);
    for (let reads = 0; reads < 20 && (text.match(/event: sample/g) ?? []).length < 3; reads++) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    controller.abort();
    const events = text.split("\n\n").filter((e) => e.includes("event: sample"));
    expect(events.length).toBe(3);
    const sample = JSON.parse(
      events[0]!
        .split("\n")
        .find((l) => l.startsWith("data: "))!
        .slice(6),
    );
    expect(sample).toHaveProperty("total.recordsInPerS");
  });
});

describe("the admin UI", () => {
  test("/ sends a browser to /ui", async () => {
    const response = await fetch(`${root}/`, { redirect: "manual" });
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe("/ui");
  });

  test("/ui is a page whose script and stylesheet the node serves itself, and nothing from elsewhere", async () => {
    const page = await (await fetch(`${root}/ui`)).text();
    const script = page.match(/src="(\/ui\/app\.js\?v=[0-9a-f]+)"/)?.[1];
    const style = page.match(/href="(\/ui\/app\.css\?v=[0-9a-f]+)"/)?.[1];
    expect(script).toBeDefined();
    expect(style).toBeDefined();
    expect(page).not.toMatch(/https?:\/\//);
    const js = await fetch(`${root}${script}`);
    expect(js.headers.get("content-type")).toContain("javascript");
    expect(js.headers.get("cache-control")).toContain("immutable");
    const code = await js.text();
    expect(code.length).toBeGreaterThan(10_000);
    // No CDN and no module loaded at run time: everything is in the bundle.
    expect(code).not.toMatch(/import\s*\(\s*["']https?:|from\s*["']https?:/);
    const css = await (await fetch(`${root}${style}`)).text();
    expect(css).toContain(".u-legend"); // uPlot's own stylesheet came along
  });
});
