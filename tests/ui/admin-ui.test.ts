// The admin UI in a real Chromium against a real Sluice on loopback, step by step as an operator
// would go: look at the overview, create a topic (after a refused name), produce from the UI and from
// the API, read the records back and watch the live tail, watch a consumer group's lag move and reset
// it, delete the topic; then the same pages on a phone-sized screen. Each main page is saved to
// screenshots/ along the way.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { launchBrowser, SCREENSHOT_DIR, sendJson, startUiNode } from "./helpers.ts";

const STEP_TIMEOUT_MS = 20_000;
const node = startUiNode();
let browser: Browser;
let page: Page;

beforeAll(async () => {
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.setDefaultTimeout(10_000);
});
afterAll(async () => {
  await browser?.close();
  await node.close();
});

const shot = (name: string) => page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });

async function produceFromApi(topic: string, records: unknown[]): Promise<void> {
  const response = await sendJson(`${node.api}/topics/${topic}/records`, { keyFormat: "text", records });
  expect(response.status).toBe(200);
}

describe("the admin UI, on a laptop", () => {
  test(
    "/ opens the overview with the node's figures and live charts",
    async () => {
      await page.goto(`${node.root}/`);
      expect(page.url()).toBe(`${node.root}/ui`);
      await page.getByRole("heading", { name: "Overview" }).waitFor();
      await page.getByText("Free disk").waitFor();
      expect(await page.locator(".stat-card").count()).toBe(6);
      // Both charts are drawn by uPlot, and the empty node says what to do next.
      await page.locator(".chart .uplot").nth(1).waitFor();
      await page.getByText("No topics yet.").waitFor();
      await shot("overview");
    },
    STEP_TIMEOUT_MS,
  );

  test(
    "a topic name the server refuses is explained at the field; a good one creates the topic",
    async () => {
      await page.getByRole("link", { name: "Topics", exact: true }).click();
      await page.getByText("No topics yet").waitFor();
      const form = page.getByRole("form", { name: "Create a topic" });
      await form.locator("input[name=name]").fill("bad name!");
      await form.getByRole("button", { name: "Create topic" }).click();
      await form.getByText("Letters, digits, '.', '_' and '-' only.").waitFor();
      // The server's own check: a name only Sluice may use.
      await form.locator("input[name=name]").fill("__consumer_offsets");
      await form.getByRole("button", { name: "Create topic" }).click();
      await form.locator(".field-error", { hasText: "reserved" }).waitFor();
      await shot("topics-validation");
      await form.locator("input[name=name]").fill("orders");
      await form.locator("input[name=partitions]").fill("2");
      await form.locator("input[name=retentionHours]").fill("24");
      await form.getByRole("button", { name: "Create topic" }).click();
      await page.waitForURL(/#\/topics\/orders$/);
      await page.getByRole("heading", { name: /orders/ }).waitFor();
      const described = await (await fetch(`${node.api}/topics/orders`)).json();
      expect(described.partitions.length).toBe(2);
      expect(described.config["retention.ms"]).toBe(86_400_000);
    },
    STEP_TIMEOUT_MS,
  );

  test(
    "a record produced from the UI gets its offset shown",
    async () => {
      await page.getByRole("link", { name: "Produce" }).click();
      const form = page.getByRole("form", { name: "Produce a record" });
      await form.locator("input[name=key]").fill("user-1");
      await form.locator("select[name=partition]").selectOption("0");
      await form.locator("textarea[name=value]").fill("{not json");
      await form.getByRole("button", { name: "Send record" }).click();
      await form.getByText("The value is not JSON").waitFor();
      await form.locator("textarea[name=value]").fill('{"total": 42, "from": "ui"}');
      await form.locator("textarea[name=headers]").fill("source=admin-ui");
      await form.getByRole("button", { name: "Send record" }).click();
      await expect(form.getByTestId("produced").textContent()).resolves.toBe(
        "Sent to partition 0 at offset 0.",
      );
      await shot("produce");
    },
    STEP_TIMEOUT_MS,
  );

  test(
    "the message browser reads the UI's record and the API's, filters, and shows hex",
    async () => {
      await produceFromApi(
        "orders",
        Array.from({ length: 5 }, (_, i) => ({
          key: `api-${i}`,
          value: { n: i, from: "api" },
          partition: 0,
        })),
      );
      await page.getByRole("link", { name: "Messages" }).click();
      await page.getByText("Pick where to read from").waitFor();
      await page.locator("select[name=from]").selectOption("earliest");
      await page.getByRole("button", { name: "Read" }).click();
      const records = page.getByTestId("browser-records").locator(".record");
      await records.nth(5).waitFor();
      expect(await records.count()).toBe(6);
      const first = await records.first().textContent();
      expect(first).toContain("user-1");
      expect(first).toContain("source=admin-ui");
      expect(first).toContain('"total": 42'); // JSON pretty-printed
      await shot("messages");
      await page.locator("input[name=keyFilter]").fill("api-3");
      await page.getByRole("button", { name: "Read" }).click();
      await page.getByText("1 shown of 6 read").waitFor();
      expect(await records.first().textContent()).toContain('"n": 3');
      await page.locator("select[name=view]").selectOption("hex");
      await page.getByRole("button", { name: "Read" }).click();
      await page.getByText('{"n":3,"from":"api"}'.slice(0, 8)).waitFor();
      // 7b 22 6e 22 is {"n"
      expect(await records.first().locator(".record-value").textContent()).toContain("7b 22 6e 22");
    },
    STEP_TIMEOUT_MS,
  );

  test(
    "the live tail shows records produced after it opened, and pausing stops it",
    async () => {
      await page.getByRole("link", { name: "Live tail" }).click();
      await page.getByTestId("tail-stats").getByText("following").waitFor();
      await produceFromApi(
        "orders",
        Array.from({ length: 30 }, (_, i) => ({ key: `live-${i}`, value: `tail record ${i}` })),
      );
      const rows = page.getByTestId("tail-rows").locator(".tail-row");
      await rows.nth(29).waitFor();
      expect(await rows.count()).toBe(30);
      // Newest first; the records from before the tail opened are not shown.
      expect(await page.getByTestId("tail-rows").textContent()).not.toContain("api-0");
      await page.getByText("tail record 29").waitFor();
      await shot("live-tail");
      await page.getByRole("button", { name: /Pause/ }).click();
      await page.getByTestId("tail-stats").getByText("paused").waitFor();
      await produceFromApi("orders", [{ key: "while-paused", value: "held back" }]);
      await Bun.sleep(300);
      expect(await page.getByTestId("tail-rows").textContent()).not.toContain("held back");
      await page.getByRole("button", { name: /Resume/ }).click();
      await page.getByText("held back").waitFor();
    },
    STEP_TIMEOUT_MS,
  );

  test(
    "the partitions view lists offsets and segments, with the topic's throughput",
    async () => {
      await page.getByRole("link", { name: "Partitions" }).click();
      const table = page.locator("table.table").first();
      await table.getByRole("button", { name: /1/ }).first().click();
      await page.getByText("Base offset").waitFor();
      const described = await (await fetch(`${node.api}/topics/orders`)).json();
      const firstRow = await table.locator("tbody > tr").first().locator("td").allTextContents();
      // partition, log start, log end, high watermark, as the API describes them
      const p0 = described.partitions[0];
      expect(firstRow.slice(0, 4)).toEqual(["0", "0", String(p0.logEndOffset), String(p0.highWatermark)]);
      await page.locator(".chart .uplot").first().waitFor();
      await shot("topic-partitions");
    },
    STEP_TIMEOUT_MS,
  );

  test(
    "a consumer group's lag moves as records arrive, and a reset to latest brings it to zero",
    async () => {
      // A standalone consumer committed offset 2 on partition 0.
      const commit = await sendJson(`${node.api}/groups/billing/offsets`, {
        offsets: [{ topic: "orders", partition: 0, offset: 2 }],
      });
      expect(commit.status).toBe(200);
      await page.getByRole("link", { name: "Groups" }).click();
      await page.getByRole("link", { name: "billing" }).click();
      const lagOf = async () =>
        Number((await page.getByTestId("total-lag").locator("strong").textContent())!.replaceAll(",", ""));
      const end = (await (await fetch(`${node.api}/topics/orders`)).json()).partitions[0]
        .logEndOffset as number;
      await page
        .getByTestId("total-lag")
        .getByText(String(end - 2), { exact: true })
        .waitFor();
      await produceFromApi(
        "orders",
        Array.from({ length: 40 }, (_, i) => ({ value: i, partition: 0 })),
      );
      await page
        .getByTestId("total-lag")
        .getByText(String(end - 2 + 40), { exact: true })
        .waitFor();
      expect(await lagOf()).toBe(end - 2 + 40);
      await page.locator(".chart .uplot").waitFor();
      await shot("group");
      await page.getByRole("button", { name: "Reset offsets…" }).click();
      const dialog = page.getByRole("dialog", { name: "Reset offsets" });
      await dialog.locator("select[name=resetTo]").selectOption("latest");
      await dialog.getByRole("button", { name: "Reset offsets" }).click();
      await dialog.waitFor({ state: "detached" });
      await page.getByTestId("total-lag").getByText("0", { exact: true }).waitFor();
      const offsets = await (await fetch(`${node.api}/groups/billing/offsets`)).json();
      expect(offsets.offsets[0].offset).toBe(end + 40);
    },
    STEP_TIMEOUT_MS,
  );

  test(
    "deleting the topic asks for its name first",
    async () => {
      await page.goto(`${node.root}/ui#/topics/orders`);
      await page.getByRole("button", { name: "Delete topic" }).click();
      const dialog = page.getByRole("dialog");
      const confirm = dialog.getByRole("button", { name: "Delete topic" });
      expect(await confirm.isDisabled()).toBe(true);
      await dialog.locator("input[name=confirm]").fill("orders");
      await shot("delete-topic");
      await confirm.click();
      await page.waitForURL(/#\/topics$/);
      await page.locator("table.table").waitFor();
      // The commits above made Sluice's own offsets topic; orders is gone from the list.
      await page.getByRole("link", { name: "__consumer_offsets" }).waitFor();
      expect(await page.getByRole("link", { name: "orders", exact: true }).count()).toBe(0);
      expect((await fetch(`${node.api}/topics/orders`)).status).toBe(404);
    },
    STEP_TIMEOUT_MS,
  );
});

describe("the admin UI, on a phone", () => {
  test(
    "pages fit a 390 px wide screen without sideways scrolling",
    async () => {
      const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
      try {
        await sendJson(`${node.api}/topics`, { name: "phone-orders", partitions: 3 });
        await produceFromApi("phone-orders", [{ key: "k", value: { a: 1 } }]);
        for (const [view, name] of [
          ["", "phone-overview"],
          ["topics", "phone-topics"],
          ["topics/phone-orders", "phone-topic"],
          ["groups", "phone-groups"],
        ] as const) {
          await phone.goto(`${node.root}/ui#/${view}`);
          await phone.locator(".page h1").waitFor();
          await phone.waitForLoadState("networkidle").catch(() => {});
          await phone.waitForTimeout(300);
          const overflow = await phone.evaluate(
            () => document.documentElement.scrollWidth - window.innerWidth,
          );
          expect(overflow).toBeLessThanOrEqual(0);
          await phone.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
        }
      } finally {
        await phone.close();
      }
    },
    STEP_TIMEOUT_MS,
  );
});
