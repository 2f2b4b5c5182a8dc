// GET /docs: the API reference as a readable page, rendered from the OpenAPI document.
import { Hono } from "hono";
import { renderDocsPage } from "./docs-page.ts";
import { openApiDocumentOf } from "./openapi.ts";
import { describeRoute } from "./route-docs.ts";

export function docsRoutes(app: Hono): Hono {
  const routes = new Hono();
  let page: string | undefined;
  routes.get(
    "/docs",
    describeRoute({
      tag: "Operations",
      summary: "This reference, as a page",
      responses: { 200: { description: "The page.", content: { "text/html; charset=utf-8": null } } },
    }),
    (c) => {
      page ??= renderDocsPage(openApiDocumentOf(app));
      return c.html(page);
    },
  );
  return routes;
}
