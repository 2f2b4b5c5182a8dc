// One API token as Sluice keeps it: its name, the SHA-256 of its secret, its grants, its produce
// rates, and where it comes from (the bootstrap admin token of the config, the operator's tokens file,
// or the API). The secret itself is never kept.
import { z } from "zod";
import { type Grant, grantsSchema } from "./grants.ts";
import { TOKEN_NAME_PATTERN } from "./limits.ts";

export type TokenSource = "config" | "file" | "api";

export interface TokenRecord {
  readonly name: string;
  readonly sha256: string;
  readonly grants: readonly Grant[];
  readonly source: TokenSource;
  readonly createdAtMs?: number;
  /** Overrides the node's default produce rates (authProduceBytesPerSecond, ...); 0 is no limit. */
  readonly produceBytesPerSecond?: number;
  readonly produceRecordsPerSecond?: number;
}

/** A token as listed and in whoami: everything but its hash. */
export type TokenInfo = Omit<TokenRecord, "sha256">;

export const tokenName = z
  .string()
  .regex(TOKEN_NAME_PATTERN, "must be 1 to 64 letters, digits, '.', '_' or '-'")
  .meta({ description: "The token's name: unique, shown in whoami and logs, used to revoke it." });

export const rate = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** What the tokens file and the API both give for a token (the file gives a hash, the API none). */
export const tokenFields = {
  name: tokenName,
  grants: grantsSchema,
  produceBytesPerSecond: rate
    .optional()
    .meta({ description: "Bytes/s this token may produce; 0: no limit." }),
  produceRecordsPerSecond: rate
    .optional()
    .meta({ description: "Records/s this token may produce; 0: no limit." }),
};

export const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lowercase hex digits (sha256sum)");

export function tokenInfo(record: TokenRecord): TokenInfo {
  const { sha256: _hash, ...info } = record;
  return info;
}
