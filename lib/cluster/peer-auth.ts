// How one node authenticates to another when access control is on: with the shared authAdminToken,
// the inter-node token. Tokens made through the API live in each node's own tokens.json, so a
// client's token may be unknown to the peer: a forwarded request goes on as the cluster itself, and
// names the client's grants in ON_BEHALF_HEADER, so the peer checks the request against them where
// only it can (a group's topics are known to its coordinator alone). Only an admin token may speak
// for someone else; an admin could do anything anyway.
import { z } from "zod";
import type { Principal } from "../auth/access-control.ts";
import { grantsSchema } from "../auth/grants.ts";

export const ON_BEHALF_HEADER = "x-sluice-on-behalf-of";

export function peerHeaders(interNodeToken: string | undefined): Record<string, string> {
  return interNodeToken === undefined ? {} : { authorization: `Bearer ${interNodeToken}` };
}

const onBehalf = z.object({ name: z.string().min(1).max(200), grants: grantsSchema }).strict();

/** The header value naming `principal` (base64url JSON of its name and grants). */
export function onBehalfValue(principal: Principal): string {
  const json = JSON.stringify({ name: principal.name, grants: principal.grants });
  return Buffer.from(json).toString("base64url");
}

/** The principal a forwarded request speaks for, or undefined when the value is not one. */
export function parseOnBehalf(value: string): Principal | undefined {
  try {
    const parsed = onBehalf.safeParse(JSON.parse(Buffer.from(value, "base64url").toString("utf8")));
    return parsed.success
      ? { name: parsed.data.name, source: "forwarded", grants: parsed.data.grants }
      : undefined;
  } catch {
    return undefined;
  }
}
