// The group routes' real answers over a loopback socket, success and error alike, parsed with the
// strict schemas their describeRoute() documents; and the OpenAPI document lists them under Groups.
import { afterAll, describe, expect, test } from "bun:test";
import { createApp } from "../../routes/app.ts";
import { describedRoutes, type OpenApiDocument } from "../../routes/openapi.ts";
import { expectDocumentedAnswer } from "../routes/documented-answer.ts";
import { joined, joinRequest, sendJson, startGroupNode } from "./helpers.ts";

const node = startGroupNode();
afterAll(() => node.close());
const routes = describedRoutes(createApp({ logs: node.logs, groups: node.groups }).routes);

const expectDocumented = (method: string, path: string, response: Response) =>
  expectDocumentedAnswer(routes, method, `/api/v1/groups${path}`, response);

describe("group routes", () => {
  test("are in the OpenAPI document under the Groups tag", async () => {
    const document = (await (await fetch(`${node.api}/openapi.json`)).json()) as OpenApiDocument;
    const paths = Object.keys(document.paths).filter((path) => path.startsWith("/api/v1/groups"));
    expect(paths.sort()).toEqual([
      "/api/v1/groups",
      "/api/v1/groups/{group}",
      "/api/v1/groups/{group}/members",
      "/api/v1/groups/{group}/members/{member}",
      "/api/v1/groups/{group}/members/{member}/heartbeat",
      "/api/v1/groups/{group}/offsets",
      "/api/v1/groups/{group}/offsets/reset",
    ]);
    const operations = paths.flatMap((path) => Object.values(document.paths[path]!));
    expect(operations).toHaveLength(9);
    expect(operations.every((operation) => operation.tags[0] === "Groups")).toBe(true);
    expect(document.tags.map((tag) => tag.name)).toContain("Groups");
  });

  test("answer what they document, success and error alike", async () => {
    const g = `${node.api}/groups`;
    await sendJson(`${node.api}/topics`, { name: "orders", partitions: 2 });
    await expectDocumented("GET", "", await fetch(g));
    const join = joinRequest(node, "docs", { topics: ["orders"] });
    const member = await joined(join);
    await expectDocumented(
      "POST",
      "/:group/members",
      await joinRequest(node, "docs", { topics: ["orders"], memberId: member.memberId }),
    );
    await expectDocumented(
      "POST",
      "/:group/members",
      await joinRequest(node, "docs", { topics: ["orders"], memberId: "x" }),
    );
    const heartbeat = `${g}/docs/members/${member.memberId}/heartbeat`;
    await expectDocumented(
      "POST",
      "/:group/members/:member/heartbeat",
      await sendJson(heartbeat, { generationId: 1 }),
    );
    await expectDocumented(
      "POST",
      "/:group/members/:member/heartbeat",
      await sendJson(heartbeat, { generationId: 9 }),
    );
    const offsets = [{ topic: "orders", partition: 0, offset: 1 }];
    const { memberId, generationId } = member;
    await expectDocumented(
      "POST",
      "/:group/offsets",
      await sendJson(`${g}/docs/offsets`, { offsets, memberId, generationId }),
    );
    await expectDocumented("POST", "/:group/offsets", await sendJson(`${g}/docs/offsets`, { offsets }));
    await expectDocumented("GET", "/:group/offsets", await fetch(`${g}/docs/offsets`));
    await expectDocumented("GET", "/:group", await fetch(`${g}/docs`));
    await expectDocumented("GET", "", await fetch(g));
    await expectDocumented(
      "POST",
      "/:group/offsets/reset",
      await sendJson(`${g}/docs/offsets/reset`, { to: "latest", topic: "orders" }),
    );
    await expectDocumented("DELETE", "/:group", await fetch(`${g}/docs`, { method: "DELETE" }));
    await expectDocumented(
      "DELETE",
      "/:group/members/:member",
      await fetch(`${g}/docs/members/${memberId}`, { method: "DELETE" }),
    );
    await expectDocumented(
      "POST",
      "/:group/offsets/reset",
      await sendJson(`${g}/docs/offsets/reset`, { to: "earliest", topic: "orders" }),
    );
    await expectDocumented("GET", "/:group", await fetch(`${g}/docs`));
    await expectDocumented("DELETE", "/:group", await fetch(`${g}/docs`, { method: "DELETE" }));
    await expectDocumented("GET", "/:group", await fetch(`${g}/docs`));
  });
});
