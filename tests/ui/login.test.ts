// The login screen in a real Chromium: when the API answers 401 the UI asks for a token, and once
// given, every call carries it (Authorization: Bearer, or ?access_token= where a browser cannot set
// headers). Sluice's own auth is another piece; a guard in front of the app stands in for it here.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { launchBrowser, SCREENSHOT_DIR, startUiNode } from "./helpers.ts";

const TOKEN = "s3cret-token";
const seen: string[] = [];
const node = startUiNode({
  guard: async (request, next) => {
    const url = new URL(request.url);
    if (!url.pathname.startsWith("/api/")) return next();
    const given =
      request.headers.get("authorization")?.replace(/^Bearer /, "") ?? url.searchParams.get("access_token");
    seen.push(`${url.pathname} ${given === TOKEN ? "ok" : "refused"}`);
    if (given !== TOKEN) {
      const error = { code: 1401, name: "UNAUTHORIZED", message: "a valid API token is needed" };
      return Response.json({ error }, { status: 401 });
    }
    return next();
  },
});
let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await node.close();
});

test("a 401 brings the login screen; with the token the overview loads and every call carries it", async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${node.root}/ui`);
  await page.getByRole("heading", { name: "Sign in to Sluice" }).waitFor();
  await page.screenshot({ path: join(SCREENSHOT_DIR, "login.png") });
  const beforeSignIn = seen.length;
  await page.locator("input[name=token]").fill(TOKEN);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Overview" }).waitFor();
  await page.getByText("Free disk").waitFor();
  // The live charts' history and event stream and the overview's polls, all with the token.
  await page.waitForTimeout(2500);
  const after = seen.slice(beforeSignIn);
  for (const path of ["/api/v1/stats/stream", "/api/v1/stats", "/api/v1/node"]) {
    expect(after).toContain(`${path} ok`);
  }
  expect(after.filter((line) => line.endsWith("refused"))).toEqual([]);
  await page.close();
}, 20_000);
