// The WebSocket stream protocol at /api/v1/ws: the frames a client and Sluice exchange, as types.
// routes/ws-frames.ts checks client frames against these; lib/gateway/ws-connection.ts answers them.
//
// One connection carries many subscriptions, produce requests and consumer-group members. Client frames
// are JSON text; Sluice answers in JSON text, except records for a `format: "binary"` subscription,
// which come as binary frames (lib/gateway/ws-binary-frame.ts: a 24-byte header, then RecordBatch v2
// bytes as stored).
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
//   join        {type, requestId, group, topics, memberId?, clientId?, sessionTimeoutMs?,
//               rebalanceTimeoutMs?, assignor?}: joins a consumer group (or joins again with the
//               memberId it was given), as POST /groups/{g}/members. Answered with `joined` when the
//               group's rebalance completes. The member belongs to this connection: it leaves its
//               group when the connection closes.
//   heartbeat   {type, requestId?, group, memberId, generationId}: answered only when refused
//               (REBALANCE_IN_PROGRESS: join again with the memberId; UNKNOWN_MEMBER_ID,
//               ILLEGAL_GENERATION: join again without it).
//   leave       {type, requestId?, group, memberId}: answered with `left`.
//   commit      {type, requestId, group, memberId?, generationId?, offsets: [{topic, partition,
//               offset, metadata?}]}: all or none, as POST /groups/{g}/offsets; memberId and
//               generationId both (a member's commit) or neither (a standalone consumer's).
//   Group frames name only members joined through this connection; any other is UNKNOWN_MEMBER_ID.
//   Joining a group creates no subscription: the client subscribes to the partitions it was given.
//
// Sluice → client
//   subscribed   {type, id, offset, highWatermark}: the offset the subscription starts at.
//   records      {type, id, records: [...], nextOffset, highWatermark} for format "json"; records are
//                the HTTP fetch's JSON records. Binary frames for format "binary".
//   unsubscribed {type, id}: after an unsubscribe, or after an error that ends the subscription (a
//                deleted topic, an offset retention removed); no frame for that id follows.
//   produced     {type, requestId, offsets: [{partition, offset}]}, in request order; none for acks 0
//                (errors are still sent).
//   joined       {type, requestId, group, memberId, generationId, leader, assignment: [{topic,
//                partition, committedOffset}]}: the member's partitions in this generation, each with
//                the group's committed offset (null when none: the client starts by its reset policy).
//   left         {type, requestId?, group, memberId}
//   committed    {type, requestId, group, offsets: [{topic, partition, offset}]}
//   rebalance    {type, group, memberId, generationId}, unprompted: the member's group started a
//                rebalance (a member joined, left or was dropped), or dropped this member (silent past
//                its session timeout, or it did not join again within a rebalance). The client stops
//                reading its partitions, commits if it wants, and joins again (a dropped member's join
//                with its old memberId is UNKNOWN_MEMBER_ID: it joins without). Sent after the
//                member's `joined` if that was still on its way.
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
// Consumer groups. A connection's members are the coordinator's (lib/groups/), as HTTP members are: the
// same checks, generations and committed offsets, so one group may mix WebSocket and HTTP members and
// GET /groups/{g} describes them all. At most WS_GROUP_MEMBERS_PER_CONNECTION_MAX members per connection
// (TOO_MANY_GROUP_MEMBERS).
//
// Close codes Sluice uses: 1001 shutting down, 1008 the client let its send buffer fill
// (WS_SEND_BUFFER_BYTES_MAX) without reading, 1009 a frame over WS_FRAME_BYTES_HARD_MAX, 1011 an
// internal error, 1013 too many connections.
import type { ErrorName } from "../errors.ts";
import type { AssignorName } from "../groups/assignors.ts";
import type { OffsetToCommit } from "../groups/committed-offsets.ts";
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

export interface JoinFrame {
  type: "join";
  requestId: RequestId;
  group: string;
  topics: string[];
  memberId?: string;
  clientId?: string;
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  assignor?: AssignorName;
}

export interface HeartbeatFrame {
  type: "heartbeat";
  requestId?: RequestId;
  group: string;
  memberId: string;
  generationId: number;
}

export interface LeaveFrame {
  type: "leave";
  requestId?: RequestId;
  group: string;
  memberId: string;
}

export interface CommitFrame {
  type: "commit";
  requestId: RequestId;
  group: string;
  memberId?: string;
  generationId?: number;
  offsets: OffsetToCommit[];
}

/** The consumer-group frames, served by lib/gateway/ws-group-members.ts. */
export type GroupFrame = JoinFrame | HeartbeatFrame | LeaveFrame | CommitFrame;

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
  | GroupFrame
  | RejectedFrame;

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

export interface JoinedFrame {
  type: "joined";
  requestId: RequestId;
  group: string;
  memberId: string;
  generationId: number;
  leader: boolean;
  assignment: Array<{ topic: string; partition: number; committedOffset: number | null }>;
}

export interface LeftFrame {
  type: "left";
  requestId?: RequestId;
  group: string;
  memberId: string;
}

export interface CommittedFrame {
  type: "committed";
  requestId: RequestId;
  group: string;
  offsets: Array<{ topic: string; partition: number; offset: number }>;
}

export interface RebalanceFrame {
  type: "rebalance";
  group: string;
  memberId: string;
  generationId: number;
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

export type ServerFrame =
  | SubscribedFrame
  | RecordsFrame
  | UnsubscribedFrame
  | ProducedFrame
  | JoinedFrame
  | LeftFrame
  | CommittedFrame
  | RebalanceFrame
  | ErrorFrame;

/** Close codes (RFC 6455 §7.4.1) Sluice closes a connection with. */
export const CLOSE_CODES = {
  goingAway: 1001,
  policyViolation: 1008,
  messageTooBig: 1009,
  internalError: 1011,
  tryAgainLater: 1013,
} as const;
