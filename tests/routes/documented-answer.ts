// One check that a real answer matches what its route documents: an error names a code the route
// lists, a success parses with the strict schema of its status, a body-less status has no body.
import { expect } from "bun:test";
import type { z } from "zod";
import { errorBody } from "../../routes/errors.ts";
import type { describedRoutes } from "../../routes/openapi.ts";

type DescribedRoute = ReturnType<typeof describedRoutes>[number];

export interface DocumentedOptions {
  /** Statuses whose answers carry no body (204 always). */
  emptyStatuses?: number[];
  /** Accept INTERNAL (9000) as an error every route may give. */
  allowInternal?: boolean;
}

export async function expectDocumentedAnswer(
  routes: DescribedRoute[],
  method: string,
  path: string,
  response: Response,
  options: DocumentedOptions = {},
): Promise<void> {
  const route = routes.find((r) => r.method === method && r.path === path);
  expect(route?.doc).toBeDefined();
  const empty = response.status === 204 || (options.emptyStatuses ?? []).includes(response.status);
  const body = empty ? undefined : await response.json();
  if (response.status >= 400) {
    const error = errorBody.parse(body).error;
    const listed = route!.errors.includes(error.name as never);
    expect(listed || (options.allowInternal === true && error.name === "INTERNAL")).toBe(true);
    return;
  }
  const answer = route!.doc!.responses[response.status];
  expect(answer).toBeDefined();
  const schema = answer!.content?.["application/json"] as z.ZodType | undefined;
  if (schema === undefined) expect(body).toBeUndefined();
  else schema.parse(body);
}
