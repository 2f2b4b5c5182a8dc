// Access control's fixed limits, each with its unit and reason. The configurable ones (per-token
// produce rates) have their defaults in lib/config.ts.
import { assert } from "../assert.ts";

/** API tokens one node keeps: every request looks its token up, and the file is rewritten per change. */
export const TOKENS_MAX = 1000;

/** Grants one token may hold: each request's check walks them. */
export const GRANTS_PER_TOKEN_MAX = 64;

/** A token's name: shown in whoami, the token list and logs, and used to revoke it. */
export const TOKEN_NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** Random bytes in a generated secret: 256 bits, so its SHA-256 is as strong as a stored password hash needs. */
export const TOKEN_SECRET_BYTES = 32;

/**
 * Shortest bootstrap admin token an operator may configure: it is compared by its SHA-256 like the
 * others, so its strength is its own; 32 characters of a password generator is about 190 bits.
 */
export const ADMIN_TOKEN_LENGTH_MIN = 32;

/**
 * Seconds of a token's produce rate its bucket holds when full: what an idle producer may send at once
 * before the rate applies. One second, as Kafka's quota window samples.
 */
export const PRODUCE_RATE_BURST_S = 1;

/** Longest Retry-After a rate-limited producer is told to wait, in ms (one huge request's debt). */
export const PRODUCE_RATE_RETRY_AFTER_MS_MAX = 60_000;

assert(TOKEN_SECRET_BYTES >= 32, "generated secrets must carry 256 bits");
