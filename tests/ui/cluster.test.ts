// The admin UI on a real three-node cluster (real etcd, three processes) in a real Chromium: the
// overview lists the nodes with their health and the controller, a topic's partitions show leader,
// replicas and ISR; when a node is killed it shows as down, the ISR loses it and the
// under-replicated count rises; a partition being moved shows which replicas join and leave.
// Screenshots go to screenshots/cluster-*.png.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { Cluster } from "../cluster/harness.ts";
import { launchBrowser, SCREENSHOT_DIR, sendJson } from "./helpers.ts";

const TOPIC = "sensors";
const PARTITIONS = 2;
let cluster: Cluster;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  [cluster, browser] = await Promise.all([Cluster.start(3), launchBrowser()]);
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(15_000);
});
afterAll(async () => {
  await browser?.close();
  await cluster?.stop();
});

const shot = (name: string) => page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });

/** The cells of each body row of the table, as text. */
async function rows(table: ReturnType<Page["locator"]>): Promise<string[][]> {
  return table
    .locator("tbody > tr")
    .evaluateAll((trs) =>
      trs.map((tr) =>
        Array.from(tr.querySelectorAll(":scope > td")).map((td) => (td.textContent ?? "").trim()),
      ),
    );
}

test("the overview lists the nodes with health; partitions show leader, replicas and ISR; a killed node shows", async () => {
  const first = cluster.node(1);
  const created = await sendJson(`${first.api}/topics`, {
    name: TOPIC,
    partitions: PARTITIONS,
    config: { "replication.factor": 3 },
  });
  expect(created.status).toBe(201);
  for (let p = 0; p < PARTITIONS; p++)
    await cluster.waitForState(TOPIC, p, "a leader", (s) => (s.replication?.leader ?? null) !== null);

  await page.goto(`${first.url}/ui`);
  const nodes = page.getByTestId("cluster-nodes");
  await nodes.waitFor();
  await page.waitForFunction(
    () => document.querySelectorAll("[data-testid=cluster-nodes] tbody tr").length === 3,
  );
  const before = await rows(nodes);
  expect(before.map((cells) => cells[1])).toEqual(["up", "up", "up"]);
  expect(before.map((cells) => cells[2])).toEqual(cluster.nodes.map((node) => node.url));
  // Two partitions, three replicas each: every node holds both; the leaders add up to two.
  expect(before.map((cells) => cells[4])).toEqual(["2", "2", "2"]);
  expect(before.reduce((sum, cells) => sum + Number(cells[3]), 0)).toBe(PARTITIONS);
  const described = (await (await fetch(`${first.api}/cluster`)).json()) as { controllerId: number };
  expect(before[described.controllerId - 1]![0]).toContain("controller");
  await shot("cluster-overview");

  await page.goto(`${first.url}/ui#/topics/${TOPIC}/partitions`);
  const table = page.locator("table.table").first();
  await table.getByRole("columnheader", { name: "ISR" }).waitFor();
  const partitions = await rows(table);
  for (let p = 0; p < PARTITIONS; p++) {
    const state = (await cluster.partitionState(TOPIC, p, first)).replication!;
    const cells = partitions[p]!;
    expect(cells[7]).toBe(`${state.leader} (${state.leaderEpoch})`);
    expect(cells[8]).toBe(state.replicas.join(", "));
    expect(cells[9]).toBe(state.isr.join(", "));
  }
  await shot("cluster-partitions");

  // Node 3 dies: its lease expires, the controller takes it out of every ISR.
  await cluster.node(3).kill();
  for (let p = 0; p < PARTITIONS; p++)
    await cluster.waitForState(TOPIC, p, "node 3 out of the ISR", (s) => !s.replication?.isr.includes(3));
  await page.waitForFunction(
    () =>
      Array.from(document.querySelectorAll("table.table tbody tr")).filter(
        (tr) => tr.querySelector(".under-replicated") !== null,
      ).length === 2,
    undefined,
    { timeout: 15_000 },
  );
  for (const cells of await rows(table)) expect(cells[9]!.split(", ")).not.toContain("3");
  await shot("cluster-partitions-node-down");

  await page.goto(`${first.url}/ui`);
  await page.waitForFunction(() =>
    Array.from(document.querySelectorAll("[data-testid=cluster-nodes] tbody tr")).some((tr) =>
      tr.textContent?.includes("down"),
    ),
  );
  const after = await rows(page.getByTestId("cluster-nodes"));
  expect(after.map((cells) => cells[1])).toEqual(["up", "up", "down"]);
  await page.getByText("Under-replicated").waitFor();
  const underReplicated = page.locator(".stat-card", { hasText: "Under-replicated" }).locator(".stat-value");
  expect(await underReplicated.textContent()).toBe(String(PARTITIONS));
  await shot("cluster-overview-node-down");
}, 90_000);

test("a partition being reassigned shows the replicas joining and leaving, then its new replicas", async () => {
  const first = cluster.node(1);
  const second = cluster.node(2);
  expect(
    (await sendJson(`${first.api}/topics`, { name: "moving", config: { "replication.factor": 1 } })).status,
  ).toBe(201);
  const reassign = (replicas: number[]) =>
    sendJson(`${first.api}/cluster/reassignments`, {
      partitions: [{ topic: "moving", partition: 0, replicas }],
    });
  // On node 1 alone first (a no-op or a quick move), so the page's node is never the one paused.
  expect((await reassign([1])).status).toBe(202);
  await cluster.waitForState("moving", 0, "on node 1", (s) => s.replication?.replicas.join() === "1");
  // Node 2, paused, cannot catch up: the move stays under way until it runs again.
  second.signal("SIGSTOP");
  try {
    expect((await reassign([1, 2])).status).toBe(202);
    await page.goto(`${first.url}/ui#/topics/moving/partitions`);
    const table = page.locator("table.table").first();
    await table.locator(".moving").waitFor();
    expect((await rows(table))[0]![8]).toBe("1, 2 (moving: +2)");
    await shot("cluster-partition-moving");
  } finally {
    second.signal("SIGCONT");
  }
  await cluster.waitForState("moving", 0, "moved", (s) => s.replication?.isr.length === 2, 30_000);
  await page.waitForFunction(() => document.querySelector("table.table .moving") === null, undefined, {
    timeout: 15_000,
  });
  expect((await rows(page.locator("table.table").first()))[0]![8]).toBe("1, 2");
}, 90_000);
