// GET /docs over a real loopback socket: one self-contained HTML page that names every path of the
// OpenAPI document and every error code, and escapes whatever text it renders.
import { afterAll, describe, expect, test } from "bun:test";
import { ERRORS } from "../../lib/errors.ts";
import { renderDocsPage } from "../../routes/docs-page.ts";
import type { OpenApiDocument } from "../../routes/openapi.ts";
import { startNode } from "../gateway/helpers.ts";

const node = startNode();
afterAll(() => node.close());
const root = node.api.replace(/\/api\/v1$/, "");

/** The page's text as a reader sees it: tags dropped, entities decoded. */
function textOf(html: string): string {
  return html
    .replace(/<[^>]*>/g, "")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

describe("/docs", () => {
  test("answers an HTML page that mentions every path of the OpenAPI document and every error", async () => {
    const response = await fetch(`${root}/docs`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toStartWith("text/html");
    const html = await response.text();
    expect(html).toStartWith("<!doctype html>");
    const document = (await (await fetch(`${node.api}/openapi.json`)).json()) as OpenApiDocument;
    const text = textOf(html);
    for (const [path, byMethod] of Object.entries(document.paths)) {
      expect(text).toContain(path);
      for (const operation of Object.values(byMethod)) {
        expect(text).toContain(operation.summary);
        expect(html).toContain(`id="${operation.operationId}"`);
      }
    }
    for (const [name, entry] of Object.entries(ERRORS)) {
      expect(html).toContain(`id="error-${name}"`);
      expect(text).toContain(String(entry.code));
    }
  });

  test("is self-contained: no scripts, stylesheets, fonts or images from anywhere", async () => {
    const html = await (await fetch(`${root}/docs`)).text();
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(/i);
    expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//i);
    expect(html).toContain("<style>");
  });

  test("escapes the text it renders", () => {
    const document: OpenApiDocument = {
      openapi: "3.1.0",
      info: { title: "<b>T</b>", version: "1", description: "a & b" },
      tags: [{ name: "X", description: '"quoted"' }],
      paths: {
        "/x/{id}": {
          get: {
            operationId: "getX",
            tags: ["X"],
            summary: "<script>alert(1)</script>",
            parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
            responses: { "200": { description: "<ok>" } },
            "x-sluice-errors": ["INTERNAL"],
          },
        },
      },
      components: { schemas: {} },
      "x-sluice-error-codes": [{ name: "INTERNAL", code: 9000, status: 500, retriable: false }],
    };
    const html = renderDocsPage(document);
    expect(html).not.toContain("<script>");
    expect(html).not.toContain("<b>T</b>");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(textOf(html)).toContain("a & b");
  });
});
