// Prints the README's configuration table from lib/config.ts's zod schema (each key's default and
// .describe()), so the two cannot drift: `bun scripts/config-table.ts`, paste under "Configure".
import { CONFIG_KEYS, configSchema, envName, flagName } from "../lib/config.ts";

export function configTable(): string {
  const rows = CONFIG_KEYS.map((key) => {
    const schema = configSchema.shape[key];
    const fallback = (schema.def as { defaultValue?: unknown }).defaultValue;
    const shown = fallback === undefined ? "none" : `\`${JSON.stringify(fallback)}\``;
    return `| \`${key}\` | \`${flagName(key)}\` | \`${envName(key)}\` | ${shown} | ${schema.description ?? ""} |`;
  });
  return ["| key | flag | environment | default | meaning |", "|---|---|---|---|---|", ...rows].join("\n");
}

if (import.meta.main) console.log(configTable());
