// The client library's entry bundles for the browser: Bun.build with target "browser" succeeds, and
// the bundle neither imports nor requires a node: or bun module (a browser could not load one).
import { expect, test } from "bun:test";
import { join } from "node:path";

const ENTRY = join(import.meta.dir, "../../lib/client/index.ts");

/** import/require/export-from of a module a browser has not got. */
const SERVER_ONLY_IMPORT =
  /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)["'](?:node:[^"']+|bun(?::[^"']+)?|fs|path|os|net|zlib|crypto|child_process|worker_threads|@node-rs\/[^"']+)["']/g;

test("lib/client/index.ts bundles for the browser without server-only imports", async () => {
  const build = await Bun.build({ entrypoints: [ENTRY], target: "browser", format: "esm" });
  expect(build.logs.map(String)).toEqual([]);
  expect(build.success).toBe(true);
  const code = await build.outputs[0]!.text();
  expect(code.length).toBeGreaterThan(1000);
  expect([...code.matchAll(SERVER_ONLY_IMPORT)].map((match) => match[0])).toEqual([]);
  // The bundle is what the test says it is: the admin client's code made it in.
  expect(code).toContain("SluiceClientError");
  expect(code).toContain("SluiceProducer");
  expect(code).toContain("SluiceConsumer");
});

test("the check would catch a node: import", async () => {
  const sample = 'import { x } from "node:fs"; const z = require("zlib"); await import("bun");';
  expect([...sample.matchAll(SERVER_ONLY_IMPORT)]).toHaveLength(3);
});
