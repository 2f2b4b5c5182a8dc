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

// `npm test` drives real parts: Chromium for the admin UI tests, etcd for the cluster tests, openssl
// for the TLS tests' self-signed certificate. A fresh Debian box has none of them: as root, apt
// installs them; otherwise the run stops here and names what to install.
const TEST_TOOLS = [
  { command: "chromium", debianPackage: "chromium" },
  { command: "etcd", debianPackage: "etcd-server" },
  { command: "openssl", debianPackage: "openssl" },
];

function onPath(command) {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

if (process.argv.includes("--test-tools")) {
  const missing = TEST_TOOLS.filter((tool) => !onPath(tool.command)).map((tool) => tool.debianPackage);
  if (missing.length > 0) {
    if (process.getuid?.() !== 0 || !onPath("apt-get")) {
      console.error(
        `sluice: the tests need these Debian packages: sudo apt-get install ${missing.join(" ")}`,
      );
      process.exit(1);
    }
    console.error(`sluice: installing ${missing.join(", ")} (apt-get) for the tests ...`);
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    execFileSync("apt-get", ["update", "-q"], { stdio: "inherit", env });
    execFileSync("apt-get", ["install", "-y", "-q", "--no-install-recommends", ...missing], {
      stdio: "inherit",
      env,
    });
  }
}
