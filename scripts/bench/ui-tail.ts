// Is the admin UI's live tail still responsive while its topic takes 50,000 records/s? In one run:
//   idle   the tail page open on a quiet topic for MEASURE_S seconds (the reference)
//   paused the same page, tail paused, while this script produces RATE records/s (100-byte JSON values,
//          raw batches of 500 records over HTTP) into the topic's 2 partitions: what the load costs the
//          page through the shared cores alone
//   load   the same, the tail following: the ratio of its frame gaps to paused is the tail's own cost
// In the page, for each phase: gaps between animation frames (p50, p95, max), how late a 0 ms timer
// fires every 50 ms (what a click or key press would wait), long tasks per second; and the records
// the tail received per second. Sluice runs as its own process (bun main.ts), Chromium headless.
//
// Usage: bun scripts/bench/ui-tail.ts            (env: RATE=50000 MEASURE_S=10)
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeBatch, utf8 } from "../../lib/log/record-batch.ts";
import { launchBrowser } from "../../tests/ui/helpers.ts";

const RATE = Number(process.env.RATE ?? 50_000);
const MEASURE_S = Number(process.env.MEASURE_S ?? 10);
const BATCH_RECORDS = 500;
const PARTITIONS = 2;
const ROOT = join(import.meta.dir, "..", "..");

interface PageFigures {
  frameP50Ms: number;
  frameP95Ms: number;
  frameMaxMs: number;
  timerLagP95Ms: number;
  timerLagMaxMs: number;
  longTaskMsPerS: number;
  tailRecordsPerS: number;
}

const dataDir = mkdtempSync(join(tmpdir(), "sluice-bench-ui-"));
const port = 20_000 + Math.floor(Math.random() * 20_000);
const server = Bun.spawn(
  [
    process.execPath,
    join(ROOT, "main.ts"),
    "--port",
    String(port),
    "--host",
    "127.0.0.1",
    "--data-dir",
    dataDir,
  ],
  { stdout: "ignore", stderr: "pipe" },
);
const root = `http://127.0.0.1:${port}`;
const browser = await launchBrowser();

try {
  await waitForServer();
  const created = await fetch(`${root}/api/v1/topics`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "bench", partitions: PARTITIONS }),
  });
  if (created.status !== 201) throw new Error(`create topic: ${created.status} ${await created.text()}`);
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${root}/ui#/topics/bench/tail`);
  await page.getByTestId("tail-stats").getByText("following").waitFor();

  const idle = await measure(page, MEASURE_S);
  const producer = produceAt(RATE, 2 * MEASURE_S + 6);
  await Bun.sleep(1000); // past the producer's start
  // The machine's share of the load (Sluice and this producer on the same cores), the tail not taking any.
  await page.getByRole("button", { name: "Pause" }).click();
  await Bun.sleep(1000);
  const paused = await measure(page, MEASURE_S);
  await page.getByRole("button", { name: "Resume" }).click();
  await Bun.sleep(1000);
  const load = await measure(page, MEASURE_S);
  const produced = await producer;

  console.log("phase  frame p50/p95/max ms   timer lag p95/max ms   long tasks ms/s   tail records/s");
  for (const [name, f] of [
    ["idle", idle],
    ["paused", paused],
    ["load", load],
  ] as const) {
    console.log(
      `${name.padEnd(6)} ${[f.frameP50Ms, f.frameP95Ms, f.frameMaxMs].map(round).join(" / ").padEnd(22)} ${[f.timerLagP95Ms, f.timerLagMaxMs].map(round).join(" / ").padEnd(22)} ${String(round(f.longTaskMsPerS)).padEnd(17)} ${Math.round(f.tailRecordsPerS)}`,
    );
  }
  console.log(
    `RESULT produce_rec_s=${Math.round(produced)} tail_rec_s=${Math.round(load.tailRecordsPerS)} ` +
      `frame_p95_ms=${round(load.frameP95Ms)} idle_frame_p95_ms=${round(idle.frameP95Ms)} ` +
      `paused_frame_p95_ms=${round(paused.frameP95Ms)} paused_long_task_ms_per_s=${round(paused.longTaskMsPerS)} ` +
      `frame_p95_ratio=${round(load.frameP95Ms / paused.frameP95Ms)} timer_lag_p95_ms=${round(load.timerLagP95Ms)} ` +
      `timer_lag_max_ms=${round(load.timerLagMaxMs)} long_task_ms_per_s=${round(load.longTaskMsPerS)}`,
  );
} finally {
  await browser.close();
  server.kill("SIGTERM");
  await server.exited;
  rmSync(dataDir, { recursive: true, force: true });
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

async function waitForServer(): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      if ((await fetch(`${root}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await Bun.sleep(100);
  }
  throw new Error(`Sluice did not start: ${await new Response(server.stderr).text()}`);
}

/** Produces `rate` records/s for `seconds` in raw batches, paced every 10 ms; answers the rate achieved. */
async function produceAt(rate: number, seconds: number): Promise<number> {
  const value = utf8(JSON.stringify({ id: 0, pad: "x".repeat(80) }));
  const startMs = performance.now();
  let sent = 0;
  let partition = 0;
  const inFlight = new Set<Promise<void>>();
  while (performance.now() - startMs < seconds * 1000) {
    const due = Math.floor(((performance.now() - startMs) / 1000) * rate);
    while (sent + BATCH_RECORDS <= due) {
      const records = Array.from({ length: BATCH_RECORDS }, (_, i) => ({ key: utf8(`k${sent + i}`), value }));
      const body = encodeBatch(records).slice();
      const p = partition;
      partition = (partition + 1) % PARTITIONS;
      const request = fetch(`${root}/api/v1/topics/bench/partitions/${p}/batches`, {
        method: "POST",
        headers: { "content-type": "application/vnd.kafka.recordbatch" },
        body,
      }).then(async (response) => {
        if (!response.ok) throw new Error(`produce: ${response.status} ${await response.text()}`);
      });
      inFlight.add(request);
      void request.finally(() => inFlight.delete(request));
      sent += BATCH_RECORDS;
    }
    await Bun.sleep(10);
  }
  await Promise.all(inFlight);
  return sent / ((performance.now() - startMs) / 1000);
}

/** Watches the page for `seconds`: frame gaps, timer lag, long tasks, and the tail's received count. */
function measure(page: import("playwright-core").Page, seconds: number): Promise<PageFigures> {
  return page.evaluate(async (durationMs) => {
    const receivedOf = () =>
      Number(
        (document.querySelector("[data-testid=tail-stats]")?.textContent ?? "")
          .match(/([\d,]+) received/)?.[1]
          ?.replaceAll(",", "") ?? 0,
      );
    const gaps: number[] = [];
    const lags: number[] = [];
    let longTaskMs = 0;
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) longTaskMs += entry.duration;
    });
    observer.observe({ type: "longtask", buffered: false });
    const startMs = performance.now();
    const receivedBefore = receivedOf();
    let last = startMs;
    let running = true;
    const frame = (now: number) => {
      gaps.push(now - last);
      last = now;
      if (running) requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
    const probe = setInterval(() => {
      const posted = performance.now();
      setTimeout(() => lags.push(performance.now() - posted), 0);
    }, 50);
    await new Promise((resolve) => setTimeout(resolve, durationMs));
    running = false;
    clearInterval(probe);
    observer.disconnect();
    // The stats line is updated once a second: wait for the next update to count the records seen.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const elapsedS = (performance.now() - startMs) / 1000;
    const pct = (values: number[], p: number) => {
      const sorted = [...values].sort((a, b) => a - b);
      return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
    };
    return {
      frameP50Ms: pct(gaps.slice(1), 0.5),
      frameP95Ms: pct(gaps.slice(1), 0.95),
      frameMaxMs: Math.max(...gaps.slice(1)),
      timerLagP95Ms: pct(lags, 0.95),
      timerLagMaxMs: Math.max(...lags),
      longTaskMsPerS: longTaskMs / (durationMs / 1000),
      tailRecordsPerS: (receivedOf() - receivedBefore) / elapsedS,
    };
  }, seconds * 1000);
}
