// Builds the single `sluice` executable with `bun build --compile`: dist/sluice for this machine, and
// one dist/sluice-<target> per other Linux target (edge boxes are often arm64, some run musl).
//
//   bun scripts/build.ts                      every target
//   bun scripts/build.ts --target host        only this machine's (what CI's smoke test needs)
//   bun scripts/build.ts --target linux-arm64 one target by name (see TARGETS)
//   bun scripts/build.ts --outdir DIR         somewhere else than dist/
//
// A cross target needs Bun's runtime for that platform. It comes from npm, like Bun itself: `npm pack
// @oven/bun-<target>@<our Bun version>` (so npm's registry, mirror and proxy settings apply), cached in
// node_modules/.cache/sluice-build/, and handed to Bun with --compile-executable-path. A target whose
// runtime cannot be fetched is reported as skipped, with why, and the others still build.
//
// Hook for the admin UI: anything the code imports as a file or as HTML is embedded by the compiler
// already. A UI that needs a build step first puts it in scripts/build-ui.ts (run before compiling, if
// present); a directory of files read at runtime goes in ASSET_DIRS (embedded with --asset, read
// through Bun.embeddedFiles).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..");
/** Where the binaries go: dist/, or `--outdir DIR` (the smoke test builds into a temp dir). */
const outdirIndex = process.argv.indexOf("--outdir");
const DIST = outdirIndex >= 0 ? process.argv[outdirIndex + 1]! : join(ROOT, "dist");
const CACHE = join(ROOT, "node_modules", ".cache", "sluice-build");
const BUN = process.execPath;

/** Directories embedded whole in the binary (paths relative to the repository root). */
export const ASSET_DIRS: string[] = [];
/** Scripts run before compiling when they exist: the admin UI's bundling step. */
const PREBUILD_SCRIPTS = ["scripts/build-ui.ts"];

interface Target {
  /** Our name, used in file names. */
  name: string;
  /** Bun's --target value. */
  bunTarget: string;
  /** The npm package holding Bun's runtime for it. */
  npmPackage: string;
  /** process.platform-process.arch of a machine that runs it without a download (glibc only). */
  host?: string;
}

export const TARGETS: Target[] = [
  { name: "linux-x64", bunTarget: "bun-linux-x64", npmPackage: "@oven/bun-linux-x64", host: "linux-x64" },
  {
    name: "linux-arm64",
    bunTarget: "bun-linux-arm64",
    npmPackage: "@oven/bun-linux-aarch64",
    host: "linux-arm64",
  },
  // musl builds (Alpine) need the box's libstdc++ and libgcc: `apk add libstdc++ libgcc`.
  // No separate x64-baseline target: for Bun 1.4.4 npm's @oven/bun-linux-x64 and -x64-baseline hold the
  // same executable (same SHA-1), so linux-x64 already runs on x86 boxes without AVX2.
  { name: "linux-x64-musl", bunTarget: "bun-linux-x64-musl", npmPackage: "@oven/bun-linux-x64-musl" },
  { name: "linux-arm64-musl", bunTarget: "bun-linux-arm64-musl", npmPackage: "@oven/bun-linux-aarch64-musl" },
];

function run(
  command: string,
  args: string[],
  options: { cwd?: string } = {},
): { ok: boolean; output: string } {
  const result = spawnSync(command, args, { cwd: options.cwd ?? ROOT, encoding: "utf8" });
  const output =
    `${result.stdout ?? ""}${result.stderr ?? ""}${result.error ? String(result.error) : ""}`.trim();
  return { ok: result.status === 0, output };
}

/** Bun's runtime for `target`, fetched from npm once; the path of its `bun` executable. */
function fetchRuntime(target: Target): string {
  const dir = join(CACHE, `${target.name}-${Bun.version}`);
  const executable = join(dir, "package", "bin", "bun");
  if (existsSync(executable)) return executable;
  mkdirSync(dir, { recursive: true });
  const spec = `${target.npmPackage}@${Bun.version}`;
  const pack = run("npm", ["pack", spec, "--silent", "--pack-destination", dir]);
  const tarball = pack.output.split("\n").at(-1)!;
  if (!pack.ok || !tarball.endsWith(".tgz"))
    throw new Error(`npm pack ${spec} failed: ${pack.output.slice(-300)}`);
  const untar = run("tar", ["xzf", join(dir, tarball), "-C", dir, "package/bin/bun"]);
  if (!untar.ok || !existsSync(executable)) throw new Error(`could not unpack ${tarball}: ${untar.output}`);
  return executable;
}

function outFile(target: Target, hostName: string): string {
  return join(DIST, target.name === hostName ? "sluice" : `sluice-${target.name}`);
}

function compile(target: Target, hostName: string): string {
  const args = [
    "build",
    "--compile",
    `--target=${target.bunTarget}`,
    "--minify",
    // Bytecode spares the binary parsing its JavaScript at every start.
    "--bytecode",
    // The binary must behave the same wherever it runs: no picking up a .env or bunfig.toml in its cwd.
    "--no-compile-autoload-dotenv",
    "--no-compile-autoload-bunfig",
    ...ASSET_DIRS.map((dir) => `--asset=${dir}`),
    "main.ts",
    "--outfile",
    outFile(target, hostName),
  ];
  if (target.host !== hostName) args.push(`--compile-executable-path=${fetchRuntime(target)}`);
  const build = run(BUN, args);
  if (!build.ok) throw new Error(`bun build failed: ${build.output.slice(-600)}`);
  return outFile(target, hostName);
}

function selectTargets(argv: string[], hostName: string): Target[] {
  const index = argv.indexOf("--target");
  const wanted = index >= 0 ? argv[index + 1] : undefined;
  if (wanted === undefined) return TARGETS;
  const name = wanted === "host" ? hostName : wanted;
  const target = TARGETS.find((candidate) => candidate.name === name);
  if (target === undefined) {
    console.error(`unknown target ${wanted}; known: host, ${TARGETS.map((t) => t.name).join(", ")}`);
    process.exit(2);
  }
  return [target];
}

function main(): void {
  const hostName = `${process.platform}-${process.arch}`;
  for (const script of PREBUILD_SCRIPTS) {
    if (!existsSync(join(ROOT, script))) continue;
    const step = run(BUN, [script]);
    if (!step.ok) throw new Error(`${script} failed: ${step.output.slice(-600)}`);
  }
  mkdirSync(DIST, { recursive: true });
  let failures = 0;
  for (const target of selectTargets(process.argv.slice(2), hostName)) {
    const startedMs = performance.now();
    try {
      const path = compile(target, hostName);
      const sizeBytes = statSync(path).size;
      const seconds = ((performance.now() - startedMs) / 1000).toFixed(1);
      console.log(
        `built ${target.name.padEnd(19)} ${path}  ${(sizeBytes / 1024 / 1024).toFixed(1)} MiB (${sizeBytes} bytes, ${seconds} s)`,
      );
    } catch (error) {
      failures++;
      console.log(`skipped ${target.name.padEnd(17)} ${(error as Error).message}`);
    }
  }
  process.exit(failures === 0 ? 0 : 1);
}

if (import.meta.main) main();
