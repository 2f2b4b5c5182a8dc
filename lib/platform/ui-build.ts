// Bundles the admin UI (ui/main.tsx, its CSS and uPlot's) for the browser with Bun's bundler, minified,
// into one script and one stylesheet. Run as a script it prints the bundle as JSON on stdout: that is
// how lib/platform/ui-bundle.ts reaches it from a macro, where Bun.build itself may not be called.
import { join } from "node:path";

export interface UiBundle {
  js: string;
  css: string;
  /** A short content hash: the asset URLs carry it, so browsers may cache them for good. */
  version: string;
}

const ENTRY = join(import.meta.dir, "..", "..", "ui", "main.tsx");

export async function buildUi(): Promise<UiBundle> {
  const result = await Bun.build({
    entrypoints: [ENTRY],
    target: "browser",
    format: "esm",
    minify: true,
    define: { "process.env.NODE_ENV": '"production"' },
  });
  if (!result.success) throw new Error(`admin UI bundle failed:\n${result.logs.join("\n")}`);
  let js = "";
  let css = "";
  for (const output of result.outputs) {
    if (output.path.endsWith(".js")) js += await output.text();
    else if (output.path.endsWith(".css")) css += await output.text();
  }
  const hasher = new Bun.CryptoHasher("sha256");
  hasher.update(js);
  hasher.update(css);
  return { js, css, version: hasher.digest("hex").slice(0, 12) };
}

if (import.meta.main) {
  process.stdout.write(JSON.stringify(await buildUi()));
}
