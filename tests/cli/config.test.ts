// `sluice serve`'s configuration as a user meets it: file < environment < flags, --print-config, and
// errors that name the bad key and exit 2 without starting anything.
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runSluice, tempDir } from "./helpers.ts";

describe("sluice serve configuration", () => {
  test("--print-config shows the defaults when nothing is set", async () => {
    const result = await runSluice(["serve", "--print-config"]);
    expect(result.exitCode).toBe(0);
    const config = JSON.parse(result.stdout);
    expect(config).toMatchObject({ dataDir: "./data", host: "0.0.0.0", port: 8080, logLevel: "info" });
  });

  test("a config file is overridden by the environment, which is overridden by flags", async () => {
    using dir = tempDir("config");
    const file = join(dir.path, "sluice.json");
    writeFileSync(
      file,
      JSON.stringify({ port: 7001, host: "127.0.0.1", dataDir: "/from/file", logLevel: "debug" }),
    );
    const result = await runSluice(["--config", file, "--print-config", "--data-dir", "/from/flag"], {
      env: { SLUICE_PORT: "7002", SLUICE_DATA_DIR: "/from/env" },
    });
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      host: "127.0.0.1", // file only
      logLevel: "debug", // file only
      port: 7002, // env beats file
      dataDir: "/from/flag", // flag beats env and file
    });
  });

  test("SLUICE_CONFIG names the config file when --config is not given", async () => {
    using dir = tempDir("config");
    const file = join(dir.path, "sluice.json");
    writeFileSync(file, JSON.stringify({ port: 7003 }));
    const result = await runSluice(["serve", "--print-config"], { env: { SLUICE_CONFIG: file } });
    expect(JSON.parse(result.stdout).port).toBe(7003);
  });

  test.each<{ name: string; args: string[]; env: Record<string, string>; says: string }>([
    { name: "an out-of-range flag", args: ["--port", "70000"], env: {}, says: "port (--port)" },
    {
      name: "a bad env value",
      args: [],
      env: { SLUICE_LOG_LEVEL: "loud" },
      says: "logLevel (SLUICE_LOG_LEVEL)",
    },
    { name: "an unknown flag", args: ["--prot", "1"], env: {}, says: "unknown option --prot" },
    { name: "a flag without its value", args: ["--port"], env: {}, says: "--port needs a value" },
    {
      name: "a drain longer than the whole stop",
      args: ["--shutdown-drain-ms", "20000", "--shutdown-timeout-ms", "1000"],
      env: {},
      says: "shutdownDrainMs",
    },
  ])("$name exits 2 and names the key", async ({ args, env, says }) => {
    const result = await runSluice(["serve", "--print-config", ...args], { env });
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(says);
  });

  test("a config file's unknown key, bad value or bad JSON exits 2 naming the file and key", async () => {
    using dir = tempDir("config");
    const cases = [
      { text: JSON.stringify({ prot: 1 }), says: 'unknown key "prot"' },
      { text: JSON.stringify({ port: "high" }), says: "port (in " },
      { text: "{ port: 1", says: "is not valid JSON" },
      { text: "[1, 2]", says: "expected a JSON object" },
    ];
    for (const [i, { text, says }] of cases.entries()) {
      const file = join(dir.path, `bad-${i}.json`);
      writeFileSync(file, text);
      const result = await runSluice(["serve", "--config", file, "--print-config"]);
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toContain(says);
      expect(result.stderr).toContain(file);
    }
    const missing = await runSluice(["serve", "--config", join(dir.path, "nope.json")]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain("cannot read config file");
  });
});

describe("sluice command line", () => {
  test("--help works on the top level and on every command, and exits 0", async () => {
    const top = await runSluice(["--help"]);
    expect(top.exitCode).toBe(0);
    const commands = [...top.stdout.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((match) => match[1]!);
    expect(commands).toContain("serve");
    expect(commands).toContain("check");
    for (const command of commands) {
      const help = await runSluice([command, "--help"]);
      expect(help.exitCode).toBe(0);
      expect(help.stdout).toContain("Usage: sluice");
    }
  });

  test("an unknown command exits 2 and says so on stderr", async () => {
    const result = await runSluice(["frobnicate"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('unknown command "frobnicate"');
  });

  test("--version prints package.json's version", async () => {
    const result = await runSluice(["--version"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.trim()).toBe((await import("../../package.json")).version);
  });
});
