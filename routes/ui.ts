// The admin UI at /ui: one HTML page, the bundled script and stylesheet (made from ui/ when Sluice is
// built or started, nothing fetched from elsewhere), and / sends a browser there.
import { Hono } from "hono";
import { describeRoute } from "./route-docs.ts";
import { UI_BUNDLE } from "./ui-assets.ts";

/** The asset URLs change with their content, so they may be cached for a year. */
const IMMUTABLE = "public, max-age=31536000, immutable";

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sluice</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/ui/app.css?v=${UI_BUNDLE.version}">
</head>
<body>
<div id="app"></div>
<noscript>The Sluice admin UI needs JavaScript.</noscript>
<script type="module" src="/ui/app.js?v=${UI_BUNDLE.version}"></script>
</body>
</html>
`;

export function uiRoutes(): Hono {
  const app = new Hono();
  const html = { "text/html; charset=utf-8": null };

  app.get(
    "/",
    describeRoute({
      tag: "Admin UI",
      summary: "Sends a browser to the admin UI",
      responses: { 302: { description: "To /ui.", headers: { location: "/ui" } } },
    }),
    (c) => c.redirect("/ui", 302),
  );

  app.get(
    "/ui",
    describeRoute({
      tag: "Admin UI",
      summary: "The admin UI",
      description: "A single page; its views are addressed after the # (/ui#/topics/orders).",
      responses: { 200: { description: "The page.", content: html } },
    }),
    (c) => {
      c.header("cache-control", "no-cache");
      return c.html(PAGE);
    },
  );

  app.get(
    "/ui/app.js",
    describeRoute({
      tag: "Admin UI",
      summary: "The admin UI's script",
      responses: { 200: { description: "The bundle.", content: { "text/javascript; charset=utf-8": null } } },
    }),
    (c) => {
      c.header("cache-control", IMMUTABLE);
      c.header("content-type", "text/javascript; charset=utf-8");
      return c.body(UI_BUNDLE.js);
    },
  );

  app.get(
    "/ui/app.css",
    describeRoute({
      tag: "Admin UI",
      summary: "The admin UI's stylesheet",
      responses: { 200: { description: "The stylesheet.", content: { "text/css; charset=utf-8": null } } },
    }),
    (c) => {
      c.header("cache-control", IMMUTABLE);
      c.header("content-type", "text/css; charset=utf-8");
      return c.body(UI_BUNDLE.css);
    },
  );

  return app;
}
