// Installs the pinned npm packages (Bun included) when they are missing or older than the lockfile,
// so `npm start` and `npm test` work on a fresh clone with nothing but Node and npm.
import { execFileSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const lockfile = join(root, "package-lock.json");
const installedMarker = join(root, "node_modules", ".package-lock.json");
const bunBinary = join(root, "node_modules", ".bin", "bun");

function isInstalled() {
  if (!existsSync(installedMarker) || !existsSync(bunBinary)) return false;
  return statSync(installedMarker).mtimeMs >= statSync(lockfile).mtimeMs;
}

if (!isInstalled()) {
  // `npm install`, not `npm ci`: see .ci/run for why; every version is pinned exactly.
  console.error("sluice: installing pinned dependencies (npm install) ...");
  execFileSync("npm", ["install", "--no-audit", "--no-fund"], { cwd: root, stdio: "inherit" });
}
