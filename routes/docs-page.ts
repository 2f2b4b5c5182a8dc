// The API reference as one self-contained HTML page, rendered from the OpenAPI document: endpoints
// grouped by tag with their parameters, bodies, answers and errors, and the error code table. No
// scripts, fonts or stylesheets from elsewhere: it reads the same on a box with no internet.
import type {
  ErrorCodeEntry,
  JsonSchema,
  OpenApiDocument,
  OpenApiMedia,
  OpenApiOperation,
  OpenApiParameter,
  OpenApiResponse,
} from "./openapi.ts";
import { exampleOf, typeOf } from "./schema-example.ts";

/** Body fields nest no deeper than this in a field table (records[].headers is two deep). */
const FIELD_DEPTH_MAX = 3;

interface Endpoint {
  method: string;
  path: string;
  operation: OpenApiOperation;
}

export function renderDocsPage(document: OpenApiDocument): string {
  const endpoints = endpointsOf(document);
  const codes = new Map(document["x-sluice-error-codes"].map((entry) => [entry.name, entry]));
  const groups = document.tags
    .map((tag) => ({ ...tag, endpoints: endpoints.filter((e) => e.operation.tags[0] === tag.name) }))
    .filter((group) => group.endpoints.length > 0);
  const title = document.info.title;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header class="top">
  <div class="brand"><span class="logo">≋</span> ${esc(title)}</div>
  <div class="meta">v${esc(document.info.version)} · OpenAPI ${esc(document.openapi)} ·
    <a href="/api/v1/openapi.json">openapi.json</a> · <a href="/metrics">metrics</a></div>
</header>
<div class="layout">
<nav>
${groups
  .map(
    (group) => `  <h4><a href="#${tagId(group.name)}">${esc(group.name)}</a></h4>
  <ul>${group.endpoints.map(navItem).join("")}</ul>`,
  )
  .join("\n")}
  <h4><a href="#errors">Error codes</a></h4>
</nav>
<main>
<section class="intro">
  <h1>${esc(title)}</h1>
  <p>${esc(document.info.description)}</p>
</section>
${groups
  .map(
    (group) => `<section class="tag" id="${tagId(group.name)}">
  <h2>${esc(group.name)}</h2>
  <p class="lead">${esc(group.description)}</p>
${group.endpoints.map((endpoint) => endpointCard(endpoint, codes)).join("\n")}
</section>`,
  )
  .join("\n")}
${errorTable(document["x-sluice-error-codes"])}
</main>
</div>
</body>
</html>
`;
}

function endpointsOf(document: OpenApiDocument): Endpoint[] {
  const endpoints: Endpoint[] = [];
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) endpoints.push({ method, path, operation });
  }
  return endpoints;
}

function navItem({ method, path, operation }: Endpoint): string {
  return `<li><a href="#${esc(operation.operationId)}" title="${esc(path)}">${methodBadge(method)}<span class="nav-text">${esc(operation.summary)}</span></a></li>`;
}

function endpointCard(endpoint: Endpoint, codes: Map<string, ErrorCodeEntry>): string {
  const { method, path, operation } = endpoint;
  const sections = [
    parameterTable(operation.parameters),
    requestBody(operation),
    responseList(operation.responses),
    errorChips(operation["x-sluice-errors"], codes),
  ];
  return `<article class="op" id="${esc(operation.operationId)}">
  <div class="op-head">${methodBadge(method)}<code class="path">${pathHtml(path)}</code></div>
  <h3>${esc(operation.summary)}</h3>
  ${operation.description === undefined ? "" : `<p>${esc(operation.description)}</p>`}
  ${sections.filter((section) => section !== "").join("\n  ")}
</article>`;
}

function parameterTable(parameters: OpenApiParameter[]): string {
  if (parameters.length === 0) return "";
  const rows = parameters.map(
    (p) => `<tr><td><code>${esc(p.name)}</code>${p.required ? '<span class="req">required</span>' : ""}</td>
      <td class="muted">${p.in}</td><td>${typeHtml(p.schema)}</td>
      <td>${esc(p.description ?? "")}${defaultHtml(p.schema)}</td></tr>`,
  );
  return `<h5>Parameters</h5>
  <table class="fields"><thead><tr><th>Name</th><th>In</th><th>Type</th><th>Description</th></tr></thead>
  <tbody>${rows.join("")}</tbody></table>`;
}

function requestBody(operation: OpenApiOperation): string {
  const body = operation.requestBody;
  if (body === undefined) return "";
  const parts = Object.entries(body.content).map(([mediaType, media]) => {
    if (!isJson(mediaType))
      return `<p><span class="media">${esc(mediaType)}</span> ${bytesNote(mediaType)}</p>`;
    return `<p><span class="media">${esc(mediaType)}</span></p>
  ${fieldTable(media.schema)}
  ${exampleBlock("Example request", media)}`;
  });
  return `<h5>Request body</h5>
  ${parts.join("\n")}`;
}

function responseList(responses: Record<string, OpenApiResponse>): string {
  const answers = Object.entries(responses).filter(([status]) => Number(status) < 400);
  const items = answers.map(([status, response]) => {
    const media = Object.entries(response.content ?? {});
    const mediaChips = media.map(([mediaType]) => `<span class="media">${esc(mediaType)}</span>`).join(" ");
    const headers = Object.entries(response.headers ?? {}).map(
      ([name, header]) => `<li><code>${esc(name)}</code> ${esc(header.description)}</li>`,
    );
    const examples = media
      .filter(([mediaType]) => isJson(mediaType))
      .map(([, content]) => exampleBlock("Example answer", content));
    return `<div class="answer">
    <div class="answer-head"><span class="status s${status[0]}">${esc(status)}</span> ${esc(response.description)} ${mediaChips}</div>
    ${headers.length === 0 ? "" : `<ul class="headers">${headers.join("")}</ul>`}
    ${examples.join("")}
  </div>`;
  });
  return `<h5>Responses</h5>
  ${items.join("\n  ")}`;
}

function errorChips(names: string[], codes: Map<string, ErrorCodeEntry>): string {
  const chips = names.map((name) => {
    const entry = codes.get(name);
    const status =
      entry === undefined ? "" : `<span class="status s${String(entry.status)[0]}">${entry.status}</span>`;
    return `<a class="chip" href="#error-${esc(name)}">${status}${esc(name)}<span class="code">${entry?.code ?? ""}</span></a>`;
  });
  return `<h5>Errors</h5>
  <div class="chips">${chips.join("")}</div>`;
}

function errorTable(entries: ErrorCodeEntry[]): string {
  const rows = entries.map(
    (
      entry,
    ) => `<tr id="error-${esc(entry.name)}"><td><code>${entry.code}</code></td><td><code>${esc(entry.name)}</code></td>
      <td><span class="status s${String(entry.status)[0]}">${entry.status}</span></td><td>${entry.retriable ? "yes" : "no"}</td></tr>`,
  );
  const example = {
    error: {
      code: 2000,
      name: "UNKNOWN_TOPIC_OR_PARTITION",
      message: 'topic "orders" does not exist',
      field: "topic",
    },
  };
  return `<section class="tag" id="errors">
  <h2>Error codes</h2>
  <p class="lead">Every error answers with a fitting HTTP status and this body; <code>field</code> names the input at fault when there is one. Codes are stable and never reused.</p>
  <pre class="example">${highlightJson(JSON.stringify(example, null, 2))}</pre>
  <table class="fields codes"><thead><tr><th>Code</th><th>Name</th><th>HTTP</th><th>Retriable</th></tr></thead>
  <tbody>${rows.join("")}</tbody></table>
</section>`;
}

/** Rows for a JSON body's fields, nested ones by path: records[].headers. */
function fieldTable(schema: JsonSchema): string {
  const rows: string[] = [];
  addFieldRows(rows, schema, "", 0);
  if (rows.length === 0) return "";
  return `<table class="fields"><thead><tr><th>Field</th><th>Type</th><th>Description</th></tr></thead>
  <tbody>${rows.join("")}</tbody></table>`;
}

function addFieldRows(rows: string[], schema: JsonSchema, prefix: string, depth: number): void {
  if (depth >= FIELD_DEPTH_MAX) return;
  const properties = (schema.properties as Record<string, JsonSchema> | undefined) ?? {};
  const required = new Set((schema.required as string[] | undefined) ?? []);
  for (const [name, property] of Object.entries(properties)) {
    const path = prefix + name;
    const requiredMark = required.has(name) ? '<span class="req">required</span>' : "";
    rows.push(`<tr><td><code>${esc(path)}</code>${requiredMark}</td><td>${typeHtml(property)}</td>
      <td>${esc(String(property.description ?? ""))}${defaultHtml(property)}</td></tr>`);
    const items = property.items as JsonSchema | undefined;
    if (typeOf(property) === "array" && items !== undefined)
      addFieldRows(rows, items, `${path}[].`, depth + 1);
    if (typeOf(property) === "object") addFieldRows(rows, property, `${path}.`, depth + 1);
  }
}

/** Examples longer than this many lines start folded, so one answer does not fill the screen. */
const EXAMPLE_OPEN_LINES_MAX = 24;

function exampleBlock(label: string, media: OpenApiMedia): string {
  const text = JSON.stringify(exampleOf(media.schema), null, 2);
  const lines = text.split("\n").length;
  const open = lines <= EXAMPLE_OPEN_LINES_MAX ? " open" : "";
  const summary = open === "" ? `${label} (${lines} lines)` : label;
  return `<details class="example"${open}><summary>${esc(summary)}</summary><pre>${highlightJson(text)}</pre></details>`;
}

/** integer 1–67108864, "json" | "binary", string, one of several shapes. */
function typeHtml(schema: JsonSchema): string {
  if (Array.isArray(schema.enum)) {
    return schema.enum.map((value) => `<code class="lit">${esc(JSON.stringify(value))}</code>`).join(" | ");
  }
  const choices = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (choices !== undefined) return choices.map(typeHtml).join(" or ");
  const type = typeOf(schema);
  if (type === undefined) return '<span class="type">any JSON</span>';
  let label = type;
  if (type === "array") label = `array of ${typeOf((schema.items as JsonSchema | undefined) ?? {}) ?? "any"}`;
  if (Array.isArray(schema.type) && schema.type.includes("null")) label += " or null";
  const bounds = boundsOf(schema);
  return `<span class="type">${esc(label)}</span>${bounds === "" ? "" : ` <span class="muted">${esc(bounds)}</span>`}`;
}

function boundsOf(schema: JsonSchema): string {
  const { minimum, maximum, minLength, minItems } = schema;
  if (typeof minimum === "number" && typeof maximum === "number") return `${minimum}–${maximum}`;
  if (typeof minimum === "number") return `≥ ${minimum}`;
  if (typeof maximum === "number") return `≤ ${maximum}`;
  if (typeof minLength === "number" && minLength > 0) return "not empty";
  if (typeof minItems === "number" && minItems > 0) return `at least ${minItems}`;
  return "";
}

function defaultHtml(schema: JsonSchema): string {
  if (!("default" in schema)) return "";
  return ` <span class="default">default <code>${esc(JSON.stringify(schema.default))}</code></span>`;
}

function methodBadge(method: string): string {
  return `<span class="method ${esc(method)}">${esc(method.toUpperCase())}</span>`;
}

function pathHtml(path: string): string {
  return esc(path).replace(/\{([^}]+)\}/g, '<span class="param">{$1}</span>');
}

function bytesNote(mediaType: string): string {
  return mediaType.includes("recordbatch") ? "RecordBatch v2 bytes, one or more batches back to back." : "";
}

function isJson(mediaType: string): boolean {
  return /^application\/([\w.-]+\+)?json$/.test(mediaType);
}

function tagId(name: string): string {
  return `tag-${name.toLowerCase()}`;
}

/** Escaped JSON with its keys, strings, numbers and literals wrapped for colour. */
function highlightJson(text: string): string {
  return esc(text).replace(
    /(&quot;(?:[^&\\]|\\.|&(?!quot;))*&quot;)(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g,
    (match, string: string | undefined, colon: string | undefined, literal: string | undefined) => {
      if (string !== undefined)
        return colon ? `<span class="k">${string}</span>${colon}` : `<span class="s">${string}</span>`;
      if (literal !== undefined) return `<span class="l">${match}</span>`;
      return `<span class="n">${match}</span>`;
    },
  );
}

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ENTITIES[char]!);
}

const STYLE = `
:root{--bg:#f7f8fa;--card:#fff;--ink:#1c2330;--muted:#5d6778;--line:#e3e7ee;--accent:#0b7285;--code:#f1f4f8;
--get:#1971c2;--post:#2b8a3e;--patch:#c77700;--put:#7048e8;--delete:#c92a2a;--k:#7048e8;--s:#2b8a3e;--n:#c2255c;--l:#1971c2}
@media (prefers-color-scheme:dark){:root{--bg:#111418;--card:#191d23;--ink:#e3e7ee;--muted:#97a1b2;--line:#2a3039;
--accent:#3bc9db;--code:#22272f;--k:#b197fc;--s:#8ce99a;--n:#faa2c1;--l:#74c0fc}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
code,pre{font-family:ui-monospace,"SF Mono",Menlo,Consolas,monospace;font-size:13px}
.top{position:sticky;top:0;z-index:2;display:flex;justify-content:space-between;align-items:center;padding:12px 28px;
background:var(--card);border-bottom:1px solid var(--line)}
.brand{font-weight:700;font-size:17px}.logo{color:var(--accent);font-size:20px;margin-right:4px}
.meta{color:var(--muted);font-size:13px}
.layout{display:grid;grid-template-columns:290px minmax(0,1fr);max-width:1280px;margin:0 auto}
nav{position:sticky;top:53px;align-self:start;max-height:calc(100vh - 53px);overflow:auto;padding:20px 12px 40px 24px;font-size:13px}
nav h4{margin:18px 0 6px;font-size:12px;text-transform:uppercase;letter-spacing:.06em}nav h4 a{color:var(--muted)}
nav ul{list-style:none;margin:0;padding:0}nav li a{display:flex;gap:8px;align-items:flex-start;padding:3px 6px;border-radius:6px;color:var(--ink)}
nav li a:hover{background:var(--code);text-decoration:none}
.nav-text{line-height:1.35}
nav .method{min-width:50px;font-size:10px;padding:1px 0}
main{padding:8px 32px 80px;min-width:0}
.intro h1{font-size:30px;margin:24px 0 6px}.intro p{color:var(--muted);max-width:760px}
.tag h2{font-size:22px;margin:40px 0 4px;padding-top:8px}.lead{color:var(--muted);margin:0 0 16px}
.op{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:18px 22px;margin:14px 0 22px;
box-shadow:0 1px 2px rgba(16,24,40,.04)}
.op-head{display:flex;align-items:center;gap:10px;flex-wrap:wrap}
.op h3{margin:10px 0 4px;font-size:17px}.op p{margin:4px 0 8px}
.op h5{margin:18px 0 8px;font-size:12px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted)}
.path{font-size:15px;font-weight:600;background:none;word-break:break-all}.param{color:var(--accent)}
.method{display:inline-block;text-align:center;min-width:62px;padding:2px 8px;border-radius:6px;color:#fff;font:700 12px ui-monospace,Menlo,monospace;letter-spacing:.03em}
.method.get{background:var(--get)}.method.post{background:var(--post)}.method.patch{background:var(--patch)}
.method.put{background:var(--put)}.method.delete{background:var(--delete)}
table.fields{width:100%;border-collapse:collapse;font-size:14px}
.fields th{text-align:left;font-weight:600;font-size:12px;color:var(--muted);border-bottom:1px solid var(--line);padding:6px 8px}
.fields td{border-bottom:1px solid var(--line);padding:7px 8px;vertical-align:top}
.fields tr:last-child td{border-bottom:0}.fields code{background:var(--code);padding:1px 5px;border-radius:4px}
.codes tr:target{background:rgba(59,201,219,.15)}
.req{margin-left:6px;font-size:11px;color:var(--delete);font-weight:600}
.muted{color:var(--muted)}.type{font-family:ui-monospace,Menlo,monospace;font-size:13px}
code.lit{color:var(--s)}.default{color:var(--muted);font-size:13px;white-space:nowrap}
.media{display:inline-block;font:12px ui-monospace,Menlo,monospace;background:var(--code);border:1px solid var(--line);border-radius:999px;padding:0 8px;color:var(--muted)}
.answer{border-left:3px solid var(--line);padding:2px 0 2px 12px;margin:10px 0}
.answer-head{display:flex;gap:8px;align-items:center;flex-wrap:wrap}
.status{display:inline-block;font:700 12px ui-monospace,Menlo,monospace;border-radius:5px;padding:1px 6px;color:#fff;background:var(--muted)}
.status.s2{background:var(--post)}.status.s4{background:var(--patch)}.status.s5{background:var(--delete)}
.headers{margin:6px 0;padding-left:18px;font-size:14px}
details.example{margin:8px 0}details.example summary{cursor:pointer;color:var(--muted);font-size:13px}
pre{background:var(--code);border:1px solid var(--line);border-radius:8px;padding:12px 14px;overflow:auto;margin:6px 0}
pre .k{color:var(--k)}pre .s{color:var(--s)}pre .n{color:var(--n)}pre .l{color:var(--l)}
.chips{display:flex;flex-wrap:wrap;gap:6px}
.chip{display:inline-flex;gap:6px;align-items:center;border:1px solid var(--line);border-radius:999px;padding:2px 10px 2px 3px;
font:12px ui-monospace,Menlo,monospace;color:var(--ink);background:var(--card)}
.chip .code{color:var(--muted)}.chip .status{border-radius:999px}
@media (max-width:860px){.layout{grid-template-columns:1fr}nav{position:static;max-height:none}}
`;
