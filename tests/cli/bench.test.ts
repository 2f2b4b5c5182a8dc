// `sluice bench` with tiny counts, as a process: on a temporary node of its own, and against a running
// node given by --url, where it leaves no topic behind. The figures themselves are the bench's business
// (a benchmark, not a test); here: every record produced is read back, and the RESULT line is well formed.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SluiceAdmin } from "../../lib/client/admin.ts";
import { NodeProcess, runSluice, tempDir } from "./helpers.ts";

const TINY = ["--records-100b", "3000", "--records-1k", "500", "--e2e-seconds", "1", "--e2e-rate", "200"];
const RESULT =
  /^RESULT produce_records_s=(\d+) produce_mb_s=([\d.]+) consume_records_s=(\d+) consume_mb_s=([\d.]+) e2e_p50_ms=([\d.]+) e2e_p99_ms=([\d.]+)$/;

function checkOutput(stdout: string): void {
  const lines = stdout.trim().split("\n");
  expect(lines.at(-1)).toMatch(RESULT);
  const figures = RESULT.exec(lines.at(-1)!)!.slice(1).map(Number);
  for (const figure of figures) expect(figure).toBeGreaterThan(0);
  expect(stdout).toContain("produce 100 B: 3000 records");
  expect(stdout).toContain("consume 100 B: 3000 records");
  expect(stdout).toContain("produce 1 KiB: 500 records");
  expect(stdout).toContain("consume 1 KiB: 500 records");
  expect(stdout).toContain("e2e at 200/s for 1 s: 200 of 200 received");
}

describe("sluice bench", () => {
  let dir: ReturnType<typeof tempDir>;
  let node: NodeProcess;

  beforeAll(async () => {
    dir = tempDir("bench");
    node = await NodeProcess.start(dir.path);
  });
  afterAll(async () => {
    await node.stop();
    dir[Symbol.dispose]();
  });

  test("--help says what it measures and the RESULT line", async () => {
    const help = await runSluice(["bench", "--help"]);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain("Usage: sluice bench");
    expect(help.stdout).toContain("--url URL");
    expect(help.stdout).toContain("RESULT produce_records_s=");
    expect((await runSluice(["bench", "--records-100b", "none"])).exitCode).toBe(2);
    expect((await runSluice(["bench", "extra"])).exitCode).toBe(2);
  });

  test("without --url it measures a temporary node of its own", async () => {
    const run = await runSluice(["bench", ...TINY], { timeoutMs: 60_000 });
    expect(run.stderr).toContain("starting a temporary node");
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/^node: http:\/\/127\.0\.0\.1:\d+ \(temporary\)$/m);
    checkOutput(run.stdout);
  }, 60_000);

  test("with --url it measures that node and deletes the topics it made", async () => {
    const admin = new SluiceAdmin({ baseUrl: node.url });
    await admin.createTopic("kept");
    // $SLUICE_URL is not a target: only --url is.
    const run = await runSluice(["bench", "--url", node.url, ...TINY], {
      timeoutMs: 60_000,
      env: { SLUICE_URL: "http://127.0.0.1:1" },
    });
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain(`node: ${node.url}\n`);
    checkOutput(run.stdout);
    expect((await admin.listTopics()).map((t) => t.name)).toEqual(["kept"]);
  }, 60_000);

  test("a node that is not there exits 3", async () => {
    const run = await runSluice(["bench", "--url", "http://127.0.0.1:1", ...TINY]);
    expect(run.exitCode).toBe(3);
  });
});
