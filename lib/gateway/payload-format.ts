// How keys, values and header values travel in JSON: as a JSON value (stored as its UTF-8
// serialization), as text (stored as UTF-8) or as base64 (stored as the decoded bytes). JSON null is
// Kafka's null in every format (a tombstone value, a key that is not there).
import { SluiceError } from "../errors.ts";

export const PAYLOAD_FORMATS = ["json", "text", "base64"] as const;
export type PayloadFormat = (typeof PAYLOAD_FORMATS)[number];

/** What a fetch may ask for: a fixed format, or "auto" to pick per record. */
export const FETCH_PAYLOAD_FORMATS = [...PAYLOAD_FORMATS, "auto"] as const;
export type FetchPayloadFormat = (typeof FETCH_PAYLOAD_FORMATS)[number];

export interface RenderedPayload {
  value: unknown;
  /** The format `value` is in; absent for null. */
  format?: PayloadFormat;
}

const utf8Encoder = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The bytes a produced key or value stands for; `field` names it in errors (records[3].value). */
export function encodePayload(input: unknown, format: PayloadFormat, field: string): Uint8Array | null {
  if (input === null || input === undefined) return null;
  if (format === "json") return utf8Encoder.encode(JSON.stringify(input));
  if (typeof input !== "string") {
    throw new SluiceError("INVALID_REQUEST", `${field} must be a string in ${format} format`, { field });
  }
  if (format === "text") return encodeText(input, field);
  try {
    return Uint8Array.fromBase64(input);
  } catch {
    throw new SluiceError("INVALID_REQUEST", `${field} is not valid base64`, { field });
  }
}

/** Text as UTF-8; a lone surrogate has no UTF-8 form, so it is refused rather than replaced. */
export function encodeText(input: string, field: string): Uint8Array {
  checkText(input, field);
  return utf8Encoder.encode(input);
}

/** Refuses text with a lone surrogate, which UTF-8 cannot carry (TextEncoder would replace it). */
export function checkText(input: string, field: string): void {
  if (isWellFormed(input)) return;
  throw new SluiceError("INVALID_REQUEST", `${field} is not valid Unicode (it has a lone surrogate)`, {
    field,
  });
}

/** String.prototype.isWellFormed (ES2024, in Bun and Deno; the tsconfig's lib stops at ES2023). */
export function isWellFormed(text: string): boolean {
  return (text as string & { isWellFormed(): boolean }).isWellFormed();
}

/** Stored bytes as a string, or undefined when they are not valid UTF-8. */
export function decodeText(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Renders stored bytes in `format`. "auto" picks JSON when the bytes are JSON exactly as
 * JSON.stringify would write it (so re-serializing gives back the same bytes), else text when they
 * are UTF-8, else base64. `describe` names the bytes when they do not fit a fixed format.
 */
export function renderPayload(
  bytes: Uint8Array | null,
  format: FetchPayloadFormat,
  describe: () => { what: string; field: string },
): RenderedPayload {
  if (bytes === null) return { value: null };
  if (format === "base64") return { value: bytes.toBase64(), format };
  const text = decodeText(bytes);
  if (format === "auto") return renderAuto(bytes, text);
  if (text === undefined) throw unfit(describe(), format, "is not valid UTF-8");
  if (format === "text") return { value: text, format };
  try {
    return { value: JSON.parse(text), format };
  } catch {
    throw unfit(describe(), format, "is not JSON");
  }
}

function renderAuto(bytes: Uint8Array, text: string | undefined): RenderedPayload {
  if (text === undefined) return { value: bytes.toBase64(), format: "base64" };
  const json = parseCanonicalJson(text);
  return json === undefined ? { value: text, format: "text" } : { value: json.value, format: "json" };
}

function parseCanonicalJson(text: string): { value: unknown } | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return JSON.stringify(value) === text ? { value } : undefined;
  } catch {
    return undefined;
  }
}

function unfit(described: { what: string; field: string }, format: PayloadFormat, why: string): SluiceError {
  return new SluiceError(
    "INVALID_REQUEST",
    `${described.what} ${why}, so it cannot be given in ${format} format; ask for base64 or auto`,
    { field: described.field },
  );
}
