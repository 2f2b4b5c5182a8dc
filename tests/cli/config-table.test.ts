// The README's configuration table is the schema's: a key added without its README line fails here.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { configTable } from "../../scripts/config-table.ts";

test("README's Configure table is the one scripts/config-table.ts prints from the schema", () => {
  const readme = readFileSync(join(import.meta.dir, "../../README.md"), "utf8");
  expect(readme).toContain(configTable());
});
