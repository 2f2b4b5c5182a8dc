// The WebSocket stream protocol at /api/v1/ws: the frames a client and Sluice exchange, as types.
// routes/ws-frames.ts checks client frames against these; lib/gateway/ws-connection.ts answers them.
//
// One connection carries many subscriptions and produce requests. Client frames are JSON text; Sluice
// answers in JSON text, except records for a `format: "binary"` subscription, which come as binary
// frames (lib/gateway/ws-binary-frame.ts: a 24-byte header, then RecordBatch v2 bytes as stored).
//
// Client → Sluice
//   subscribe   {type, id, topic, partition, from, format?, keyFormat?, valueFormat?, credit?}
//               id: uint32 the client picks, unique among its open subscriptions.
//               from: "earliest" | "latest" | {offset} | {timestamp} (ms; the first record that late).
//               format: "json" (default) | "binary". keyFormat, valueFormat: how JSON records render
//               keys and values: "auto" (default), "json", "text", "base64", as the HTTP fetch does.
//               credit: an optional first grant, as a credit frame would give it.
//   credit      {type, id, records?, bytes?}: adds to the subscription's credits (at least one).
//   unsubscribe {type, id}
//   produce     {type, requestId, topic, records, acks?, durable?, keyFormat?, valueFormat?}: the HTTP
//               produce's body and query in one frame (same record shape, same partitioner).
//               requestId: a string or integer the client picks; acks: 0, 1 (default), "all" or -1.
//   commit, join  reserved for consumer groups; answered with NOT_YET_SUPPORTED for now.
//
// Sluice → client
//   subscribed   {type, id, offset, highWatermark}: the offset the subscription starts at.
//   records      {type, id, records: [...], nextOffset, highWatermark} for format "json"; records are
//                the HTTP fetch's JSON records. Binary frames for format "binary".
//   unsubscribed {type, id}: after an unsubscribe, or after an error that ends the subscription (a
//                deleted topic, an offset retention removed); no frame for that id follows.
//   produced     {type, requestId, offsets: [{partition, offset}]}, in request order; none for acks 0
//                (errors are still sent).
//   error        {type, id?, requestId?, code, name, message, field?, needed?}: the table in
//                lib/errors.ts. A bad frame is answered and dropped: the connection and its other
//                subscriptions go on.
//
// Flow control. A subscription sends nothing until it is granted credit. Records credit counts the
// offsets a subscription moves past (records, but for a compacted topic's gaps); bytes credit counts
// the bytes of the records frames sent (JSON text as UTF-8, or binary header and batches). A kind of
// credit the client never granted does not limit. Sluice never sends beyond either: a JSON frame is cut
// between records, a binary frame between whole batches. When the next record or batch alone does not
// fit the whole credit, nothing is sent and one CREDIT_TOO_SMALL error says how much is `needed`.
// Records frames go out only while the socket has no backpressure; they are read from the log when
// sent, never queued.
//
// Close codes Sluice uses: 1001 shutting down, 1008 the client let its send buffer fill
// (WS_SEND_BUFFER_BYTES_MAX) without reading, 1009 a frame over WS_FRAME_BYTES_HARD_MAX, 1011 an
// internal error, 1013 too many connections.
import type { ErrorName } from "../errors.ts";
import type { Acks } from "./append-batches.ts";
import type { FetchPayloadFormat, PayloadFormat } from "./payload-format.ts";
import type { ProducedRecord } from "./produce-records.ts";
import type { JsonRecord } from "./record-json.ts";

/** The client's name for a subscription: it heads every binary frame, so a fixed-size uint32. */
export type SubscriptionId = number;
/** The client's name for a produce request, echoed in its answer. */
export type RequestId = string | number;

export type StartFrom = "earliest" | "latest" | { offset: number } | { timestamp: number };
export type RecordsFormat = "json" | "binary";

export interface CreditGrant {
  records?: number;
  bytes?: number;
}

export interface SubscribeFrame {
  type: "subscribe";
  id: SubscriptionId;
  topic: string;
  partition: number;
  from: StartFrom;
  format: RecordsFormat;
  keyFormat: FetchPayloadFormat;
  valueFormat: FetchPayloadFormat;
  credit?: CreditGrant;
}

export interface CreditFrame extends CreditGrant {
  type: "credit";
  id: SubscriptionId;
}

export interface UnsubscribeFrame {
  type: "unsubscribe";
  id: SubscriptionId;
}

export interface ProduceFrame {
  type: "produce";
  requestId: RequestId;
  topic: string;
  records: ProducedRecord[];
  acks: Acks;
  durable: boolean;
  keyFormat: PayloadFormat;
  valueFormat: PayloadFormat;
}

/** commit and join: consumer-group frames the protocol names now and serves later. */
export interface ReservedFrame {
  type: "commit" | "join";
  id?: SubscriptionId;
  requestId?: RequestId;
}

/** A client frame that failed its checks: answered with an error frame naming what it could. */
export interface RejectedFrame {
  type: "rejected";
  error: unknown;
  id?: SubscriptionId;
  requestId?: RequestId;
}

export type ClientFrame =
  | SubscribeFrame
  | CreditFrame
  | UnsubscribeFrame
  | ProduceFrame
  | ReservedFrame
  | RejectedFrame;

export const RESERVED_FRAME_TYPES = ["commit", "join"] as const;

export interface SubscribedFrame {
  type: "subscribed";
  id: SubscriptionId;
  offset: number;
  highWatermark: number;
}

export interface RecordsFrame {
  type: "records";
  id: SubscriptionId;
  records: JsonRecord[];
  nextOffset: number;
  highWatermark: number;
}

export interface UnsubscribedFrame {
  type: "unsubscribed";
  id: SubscriptionId;
}

export interface ProducedFrame {
  type: "produced";
  requestId: RequestId;
  offsets: Array<{ partition: number; offset: number }>;
}

/** An error's body as every answer carries it: routes/errors.ts for HTTP, this for frames. */
export interface ErrorBody {
  code: number;
  name: ErrorName | "INTERNAL";
  message: string;
  field?: string;
}

export interface ErrorFrame extends ErrorBody {
  type: "error";
  id?: SubscriptionId;
  requestId?: RequestId;
  /** CREDIT_TOO_SMALL: the records or bytes (as `field` says) the next frame needs at least. */
  needed?: number;
}

export type ServerFrame = SubscribedFrame | RecordsFrame | UnsubscribedFrame | ProducedFrame | ErrorFrame;

/** Close codes (RFC 6455 §7.4.1) Sluice closes a connection with. */
export const CLOSE_CODES = {
  goingAway: 1001,
  policyViolation: 1008,
  messageTooBig: 1009,
  internalError: 1011,
  tryAgainLater: 1013,
} as const;
