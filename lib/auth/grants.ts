// What a token may do: admin (everything), or produce / consume on topics whose names match a glob
// (`sensors.*`). A token holds one or more grants; a request needs one grant that covers it.
import { z } from "zod";
import { GRANTS_PER_TOKEN_MAX } from "./limits.ts";

export type Grant = { role: "admin" } | { role: "produce" | "consume"; topics: string };
export type TopicRole = "produce" | "consume";

/** Topic-name characters (Kafka's: letters, digits, `.`, `_`, `-`) plus `*` (any run) and `?` (one). */
const TOPIC_GLOB = /^[A-Za-z0-9._*?-]{1,249}$/;

export const grantSchema = z.discriminatedUnion("role", [
  z.object({ role: z.literal("admin") }).strict(),
  z
    .object({
      role: z.enum(["produce", "consume"]),
      topics: z
        .string()
        .regex(TOPIC_GLOB, "must be a topic name or a glob of one (* any characters, ? one)")
        .meta({ description: "A topic name, or a glob: `sensors.*`, `*`." }),
    })
    .strict(),
]);

export const grantsSchema = z.array(grantSchema).min(1).max(GRANTS_PER_TOKEN_MAX);

const compiled = new Map<string, RegExp>();

/** Whether `topic` matches the glob `pattern`: `*` any run of characters, `?` exactly one. */
export function topicMatches(pattern: string, topic: string): boolean {
  let regex = compiled.get(pattern);
  if (regex === undefined) {
    const source = pattern
      .replace(/[.+^${}()|[\]\\-]/g, "\\$&")
      .replaceAll("*", ".*")
      .replaceAll("?", ".");
    regex = new RegExp(`^${source}$`);
    // Patterns come from at most TOKENS_MAX × GRANTS_PER_TOKEN_MAX grants: the cache stays bounded.
    compiled.set(pattern, regex);
  }
  return regex.test(topic);
}

export function isAdmin(grants: readonly Grant[]): boolean {
  return grants.some((grant) => grant.role === "admin");
}

/** Admin covers every topic; otherwise a grant of `role` whose glob matches. */
export function mayUseTopic(grants: readonly Grant[], role: TopicRole, topic: string): boolean {
  return grants.some(
    (grant) => grant.role === "admin" || (grant.role === role && topicMatches(grant.topics, topic)),
  );
}

/** Whether any grant gives `role` on some topic (or admin): for routes not tied to one topic. */
export function hasRole(grants: readonly Grant[], role: TopicRole): boolean {
  return grants.some((grant) => grant.role === "admin" || grant.role === role);
}
