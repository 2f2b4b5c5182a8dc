// What the compression tests share: seeded inputs, hex and base64 fixtures, and a call's outcome by error name.
import { isSluiceError } from "../../lib/errors.ts";
import { seededRandom } from "../../lib/random.ts";

export const COMPRESSED_CODECS = ["gzip", "snappy", "lz4", "zstd"] as const;
export const MIB = 1024 * 1024;
export const FAST_CHECK_SEED = 0x5111ce;

/** The project's seeded PRNG, so every run sees the same bytes. */
export const prng = seededRandom;

export function randomBytes(seed: number, length: number): Uint8Array {
  const next = prng(seed);
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (next() * 256) | 0;
  return bytes;
}

/** JSON lines like a batch of events: compressible, but not trivially. */
export function jsonLikeBytes(seed: number, length: number): Uint8Array {
  const next = prng(seed);
  const events = ["click", "view", "purchase", "signup"];
  let text = "";
  for (let i = 0; text.length < length; i++) {
    const event = events[(next() * events.length) | 0];
    text += `{"id":${i},"user":"user-${(next() * 5000) | 0}","event":"${event}","amount":${(next() * 1000).toFixed(2)}}\n`;
  }
  return new TextEncoder().encode(text.slice(0, length));
}

export function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (byte) => Number.parseInt(byte, 16));
}

export function fromBase64(base64: string): Uint8Array {
  return Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
}

export const encode = (text: string) => new TextEncoder().encode(text);
export const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** The SluiceError name a call throws, "returned" when it does not throw, or the foreign error's name. */
export function outcomeOf(run: () => unknown): string {
  try {
    run();
    return "returned";
  } catch (error) {
    if (isSluiceError(error)) return error.errorName;
    return `foreign ${(error as Error)?.name}: ${(error as Error)?.message}`;
  }
}

// Known answers: bytes written by other implementations, so a framing mistake here fails these tests.
export const SHORT_TEXT = "Sluice speaks Kafka: gzip, snappy, lz4, zstd.\n";
export const PATTERN_70000 = "abcdefghij".repeat(7000);
