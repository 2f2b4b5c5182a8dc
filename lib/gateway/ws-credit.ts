// A subscription's credits: how many more records (offsets moved past) and bytes (of records frames)
// the client is ready for. A kind never granted does not limit; nothing is sent before any grant.
import { assert } from "../assert.ts";
import type { CreditGrant } from "./ws-protocol.ts";

export class Credit {
  /** undefined: never granted, so not a limit (once the other kind is granted). */
  #records: number | undefined;
  #bytes: number | undefined;

  /** Adds to each kind given; a total past 2^53 - 1 stays there (no client needs more). */
  grant(grant: CreditGrant): void {
    if (grant.records !== undefined) this.#records = saturatingAdd(this.#records ?? 0, grant.records);
    if (grant.bytes !== undefined) this.#bytes = saturatingAdd(this.#bytes ?? 0, grant.bytes);
  }

  /** Records that may still be sent: Infinity when only bytes were granted, 0 before any grant. */
  get records(): number {
    if (this.#records !== undefined) return this.#records;
    return this.#bytes === undefined ? 0 : Number.POSITIVE_INFINITY;
  }

  /** Bytes that may still be sent: Infinity when only records were granted, 0 before any grant. */
  get bytes(): number {
    if (this.#bytes !== undefined) return this.#bytes;
    return this.#records === undefined ? 0 : Number.POSITIVE_INFINITY;
  }

  get exhausted(): boolean {
    return this.records === 0 || this.bytes === 0;
  }

  /** Takes what a frame used; a frame is always cut to fit, so going below zero is a bug. */
  charge(records: number, bytes: number): void {
    assert(records <= this.records && bytes <= this.bytes, "a frame went beyond its subscription's credit");
    if (this.#records !== undefined) this.#records -= records;
    if (this.#bytes !== undefined) this.#bytes -= bytes;
  }
}

function saturatingAdd(total: number, amount: number): number {
  return Math.min(total + amount, Number.MAX_SAFE_INTEGER);
}
