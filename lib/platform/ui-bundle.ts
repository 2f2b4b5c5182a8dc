// The admin UI's bundle, made when Sluice's own code is transpiled: imported as a Bun macro
// (routes/ui-assets.ts), so `bun main.ts` bundles ui/ as it loads and `bun build --compile` inlines
// the result into the executable, which then needs neither ui/ nor the bundler. The macro cannot call
// Bun.build (the bundler is busy running it), so it runs ui-build.ts in a child Bun.
import { join } from "node:path";
import type { UiBundle } from "./ui-build.ts";

export function bundleUi(): UiBundle {
  const script = join(import.meta.dir, "ui-build.ts");
  const child = Bun.spawnSync([process.execPath, script], { stderr: "pipe", stdout: "pipe" });
  if (child.exitCode !== 0) throw new Error(`admin UI bundle failed: ${child.stderr.toString()}`);
  return JSON.parse(child.stdout.toString()) as UiBundle;
}
