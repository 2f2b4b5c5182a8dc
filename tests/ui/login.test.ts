// The login screen in a real Chromium against a Sluice with access control on: the API answers 401,
// the UI asks for a token, and once given every call carries it: HTTP (Authorization: Bearer), the
// stats event stream and the live tail's WebSocket (?access_token=, as browsers cannot set headers).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { ADMIN_SECRET, startAuthNode } from "../auth/helpers.ts";
import { launchBrowser, SCREENSHOT_DIR } from "./helpers.ts";

const node = startAuthNode({ systemClock: true });
let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await node.close();
});

test("a 401 brings the login screen; with the token the overview, charts and live tail work", async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const statuses: string[] = [];
  page.on("response", (response) => {
    const path = new URL(response.url()).pathname;
    if (path.startsWith("/api/")) statuses.push(`${path} ${response.status()}`);
  });
  await page.goto(`${node.root}/ui`);
  await page.getByRole("heading", { name: "Sign in to Sluice" }).waitFor();
  expect(statuses).toContain("/api/v1/node 401");
  await page.screenshot({ path: join(SCREENSHOT_DIR, "login.png") });
  const signedIn = statuses.length;
  await page.locator("input[name=token]").fill(ADMIN_SECRET);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Overview" }).waitFor();
  await page.getByText("Free disk").waitFor();
  await page.waitForTimeout(500);
  const after = statuses.slice(signedIn);
  for (const path of ["/api/v1/node", "/api/v1/stats", "/api/v1/stats/stream"])
    expect(after).toContain(`${path} 200`);
  expect(after.filter((line) => line.endsWith(" 401"))).toEqual([]);

  // An admin token creates topics; the tail's WebSocket carries the token too.
  const headers = { authorization: `Bearer ${ADMIN_SECRET}`, "content-type": "application/json" };
  const created = await fetch(`${node.api}/topics`, {
    method: "POST",
    headers,
    body: JSON.stringify({ name: "guarded" }),
  });
  expect(created.status).toBe(201);
  await page.goto(`${node.root}/ui#/topics/guarded/tail`);
  await page.getByTestId("tail-stats").getByText("following").waitFor();
  const produced = await fetch(`${node.api}/topics/guarded/records`, {
    method: "POST",
    headers,
    body: JSON.stringify({ records: [{ value: "behind the token" }] }),
  });
  expect(produced.status).toBe(200);
  await page.getByText("behind the token").waitFor();
  await page.close();
}, 20_000);
