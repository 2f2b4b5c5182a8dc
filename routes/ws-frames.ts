// Checks each client frame of the WebSocket protocol (lib/gateway/ws-protocol.ts) with zod, as the
// HTTP routes check their bodies: a frame that fails becomes a "rejected" frame carrying an
// INVALID_REQUEST (or REQUEST_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE) that names the field at fault, with
// the frame's id or requestId when those could be read, so the client can tell which request failed.
import { Buffer } from "node:buffer";
import { z } from "zod";
import { SluiceError } from "../lib/errors.ts";
import type { Acks } from "../lib/gateway/append-batches.ts";
import { WS_FRAME_BYTES_MAX, WS_REQUEST_ID_LENGTH_MAX } from "../lib/gateway/limits.ts";
import { FETCH_PAYLOAD_FORMATS, PAYLOAD_FORMATS } from "../lib/gateway/payload-format.ts";
import { checkRecordCount } from "../lib/gateway/produce-records.ts";
import {
  type ClientFrame,
  RESERVED_FRAME_TYPES,
  type RejectedFrame,
  type RequestId,
  type SubscriptionId,
} from "../lib/gateway/ws-protocol.ts";
import { producedRecord } from "./records.ts";
import { parseInput } from "./validate.ts";

const subscriptionId = z.number().int().min(0).max(0xffff_ffff);
const requestId = z.union([
  z.string().min(1).max(WS_REQUEST_ID_LENGTH_MAX),
  z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
]);
const offset = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const creditAmount = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

const startFrom = z.union(
  [z.enum(["earliest", "latest"]), z.object({ offset }).strict(), z.object({ timestamp: offset }).strict()],
  { error: 'must be "earliest", "latest", {offset} or {timestamp}' },
);

const creditGrant = {
  records: creditAmount.optional(),
  bytes: creditAmount.optional(),
};
const hasCredit = (grant: { records?: number; bytes?: number }) =>
  grant.records !== undefined || grant.bytes !== undefined;

const subscribeFrame = z
  .object({
    type: z.literal("subscribe"),
    id: subscriptionId,
    topic: z.string().min(1),
    partition: z.number().int().min(0),
    from: startFrom,
    format: z.enum(["json", "binary"]).default("json"),
    keyFormat: z.enum(FETCH_PAYLOAD_FORMATS).default("auto"),
    valueFormat: z.enum(FETCH_PAYLOAD_FORMATS).default("auto"),
    credit: z.object(creditGrant).strict().refine(hasCredit, "grants records, bytes or both").optional(),
  })
  .strict();

const creditFrame = z
  .object({ type: z.literal("credit"), id: subscriptionId, ...creditGrant })
  .strict()
  .refine(hasCredit, { message: "grants records, bytes or both", path: ["records"] });

const unsubscribeFrame = z.object({ type: z.literal("unsubscribe"), id: subscriptionId }).strict();

const ACKS = new Map<unknown, Acks>([
  [0, 0],
  [1, 1],
  ["all", "all"],
  [-1, "all"],
]);

const produceFrame = z
  .object({
    type: z.literal("produce"),
    requestId,
    topic: z.string().min(1),
    records: z.array(producedRecord).min(1),
    acks: z
      .union([z.literal(0), z.literal(1), z.literal("all"), z.literal(-1)], {
        error: 'must be 0, 1, "all" or -1',
      })
      .default(1)
      .transform((acks) => ACKS.get(acks)!),
    durable: z.boolean().default(false),
    keyFormat: z.enum(PAYLOAD_FORMATS).default("json"),
    valueFormat: z.enum(PAYLOAD_FORMATS).default("json"),
  })
  .strict();

const SCHEMAS = {
  subscribe: subscribeFrame,
  credit: creditFrame,
  unsubscribe: unsubscribeFrame,
  produce: produceFrame,
} as const;

/** Every frame type a client may send. */
export const FRAME_TYPES = [...Object.keys(SCHEMAS), ...RESERVED_FRAME_TYPES];

/** The frame a client sent, checked; never throws. */
export function parseClientFrame(frame: string | Uint8Array): ClientFrame {
  let ids: { id?: SubscriptionId; requestId?: RequestId } = {};
  try {
    const json = readJson(frame);
    ids = idsOf(json);
    return { ...checkFrame(json), ...ids } as ClientFrame;
  } catch (error) {
    const rejected: RejectedFrame = { type: "rejected", error, ...ids };
    return rejected;
  }
}

function readJson(frame: string | Uint8Array): unknown {
  if (typeof frame !== "string") {
    throw new SluiceError(
      "UNSUPPORTED_MEDIA_TYPE",
      "client frames are JSON text; binary frames are reserved",
      {
        field: "frame",
      },
    );
  }
  // A character is at most 3 UTF-8 bytes in a JS string (a surrogate pair is 4 for 2), so only long
  // strings need counting.
  if (frame.length * 3 > WS_FRAME_BYTES_MAX && Buffer.byteLength(frame) > WS_FRAME_BYTES_MAX) {
    throw new SluiceError("REQUEST_TOO_LARGE", `a frame may be at most ${WS_FRAME_BYTES_MAX} bytes`, {
      field: "frame",
    });
  }
  try {
    return JSON.parse(frame);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new SluiceError("INVALID_REQUEST", `the frame is not valid JSON: ${why}`, { field: "frame" });
  }
}

/** The frame's id and requestId when they are well formed, so even a rejected frame is named. */
function idsOf(json: unknown): { id?: SubscriptionId; requestId?: RequestId } {
  if (typeof json !== "object" || json === null) return {};
  const { id, requestId: request } = json as { id?: unknown; requestId?: unknown };
  const ids: { id?: SubscriptionId; requestId?: RequestId } = {};
  if (subscriptionId.safeParse(id).success) ids.id = id as SubscriptionId;
  if (requestId.safeParse(request).success) ids.requestId = request as RequestId;
  return ids;
}

function checkFrame(json: unknown): ClientFrame {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new SluiceError("INVALID_REQUEST", "a frame is a JSON object with a type", { field: "frame" });
  }
  const type = (json as { type?: unknown }).type;
  if (RESERVED_FRAME_TYPES.includes(type as never)) return { type } as ClientFrame;
  if (typeof type !== "string" || !Object.hasOwn(SCHEMAS, type)) {
    const named = typeof type === "string" ? `"${type}"` : "missing";
    throw new SluiceError("INVALID_REQUEST", `type: ${named} is not one of ${FRAME_TYPES.join(", ")}`, {
      field: "type",
    });
  }
  // The record count first, on the cheap shape, before any record is parsed (as the HTTP produce).
  const records = (json as { records?: unknown }).records;
  if (type === "produce" && Array.isArray(records)) checkRecordCount(records.length);
  return parseInput(SCHEMAS[type as keyof typeof SCHEMAS], json) as ClientFrame;
}
