// Token secrets: generated from 256 random bits, shown once, stored only as their SHA-256, compared
// in constant time.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { TOKEN_SECRET_BYTES } from "./limits.ts";

/** Every generated secret starts with this, so secret scanners and people can tell what it is. */
export const TOKEN_SECRET_PREFIX = "sluice_";

export function newSecret(): string {
  return TOKEN_SECRET_PREFIX + randomBytes(TOKEN_SECRET_BYTES).toString("base64url");
}

/** The SHA-256 of a secret, as 64 lowercase hex digits (what `sha256sum` prints). */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

/** Compares two hex SHA-256 digests in constant time. */
export function hashesMatch(aHex: string, bHex: string): boolean {
  const a = Buffer.from(aHex, "hex");
  const b = Buffer.from(bHex, "hex");
  return a.length === 32 && b.length === 32 && timingSafeEqual(a, b);
}
