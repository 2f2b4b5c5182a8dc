// A real Sluice on loopback (system clock: the live charts sample real seconds) and a real headless
// Chromium driven by playwright-core, for the admin UI tests; screenshots go to screenshots/.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { startHttpServer } from "../../lib/platform/http-server.ts";
import { LogManager } from "../../lib/topics/log-manager.ts";
import { createApp } from "../../routes/app.ts";

export const SCREENSHOT_DIR = join(import.meta.dir, "..", "..", "screenshots");

export interface UiNode {
  /** http://127.0.0.1:<port> */
  root: string;
  api: string;
  close(): Promise<void>;
}

export function startUiNode(): UiNode {
  const dataDir = mkdtempSync(join(tmpdir(), "sluice-ui-"));
  const logs = LogManager.open({ dataDir });
  const app = createApp({ logs });
  const server = startHttpServer({
    port: 0,
    hostname: "127.0.0.1",
    fetch: app.fetch,
  });
  const root = `http://127.0.0.1:${server.port}`;
  return {
    root,
    api: `${root}/api/v1`,
    async close() {
      await server.stop(true);
      await logs.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function launchBrowser(): Promise<Browser> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

export function sendJson(url: string, body: unknown, method = "POST"): Promise<Response> {
  return fetch(url, { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}
