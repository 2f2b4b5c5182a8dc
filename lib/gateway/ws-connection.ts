// One WebSocket connection: its subscriptions, its produce requests, its consumer-group members
// (ws-group-members.ts) and the loop that sends records frames while credit and the socket allow. A bad
// frame is answered with an error frame and goes no further; an error reading one subscription ends that
// subscription only.

import type { RemoteGroups } from "../cluster/remote-group-coordinator.ts";
import { SluiceError } from "../errors.ts";
import type { GroupCoordinator } from "../groups/group-coordinator.ts";
import type { WebSocketPeer } from "../platform/http-server.ts";
import type { Gateway } from "./gateway.ts";
import {
  WS_PRODUCES_IN_FLIGHT_MAX,
  WS_RECORDS_FRAME_BYTES_TARGET,
  WS_SEND_BYTES_PER_TURN_MAX,
  WS_SUBSCRIPTIONS_PER_CONNECTION_MAX,
} from "./limits.ts";
import { produceRecords } from "./produce-records.ts";
import { GroupMembers } from "./ws-group-members.ts";
import type {
  ClientFrame,
  CreditFrame,
  ErrorBody,
  ErrorFrame,
  ProduceFrame,
  RequestId,
  ServerFrame,
  SubscribeFrame,
  SubscriptionId,
} from "./ws-protocol.ts";
import { CLOSE_CODES } from "./ws-protocol.ts";
import { nextRecordsFrame } from "./ws-records-frame.ts";
import { FrameSender } from "./ws-sender.ts";
import { Subscription, startOffsetOf } from "./ws-subscription.ts";

export interface ConnectionOptions {
  /** The node's consumer groups, which join frames join. */
  groups: GroupCoordinator;
  /** Cluster mode: the coordinators of the groups this node does not coordinate. */
  remoteGroups?: RemoteGroups;
  subscriptionsMax?: number;
  groupMembersMax?: number;
  /** An error frame's body for anything thrown (a SluiceError, or Sluice's own fault). */
  describeError: (error: unknown) => ErrorBody;
  /** Called once, when the connection is gone. */
  onClosed?: (connection: StreamConnection) => void;
  /** Runs `task` on a later turn of the event loop: a busy connection lets others run. */
  defer?: (task: () => void) => void;
}

interface FrameIds {
  id?: SubscriptionId;
  requestId?: RequestId;
}

export class StreamConnection {
  readonly #subscriptions = new Map<SubscriptionId, Subscription>();
  readonly #sender: FrameSender;
  readonly #members: GroupMembers;
  #producesInFlight = 0;
  #readingPaused = false;
  #pumping = false;
  #pumpAgain = false;
  #pumpDeferred = false;
  #closed = false;

  constructor(
    readonly gateway: Gateway,
    readonly peer: WebSocketPeer,
    readonly options: ConnectionOptions,
  ) {
    this.#sender = new FrameSender(peer, () =>
      this.close(CLOSE_CODES.policyViolation, "send buffer full: the client is not reading its frames"),
    );
    const outlet = {
      send: (frame: ServerFrame) => this.#sendFrame(frame),
      sendError: (error: unknown, ids: FrameIds) => this.#sendError(error, ids),
    };
    this.#members = new GroupMembers(options.groups, outlet, options.groupMembersMax, options.remoteGroups);
  }

  get subscriptionCount(): number {
    return this.#subscriptions.size;
  }

  /** Consumer-group members joined through this connection. */
  get groupMemberCount(): number {
    return this.#members.count;
  }

  /** Bytes waiting in the socket's send buffer. */
  get bufferedBytes(): number {
    return this.#closed ? 0 : this.peer.bufferedBytes;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** A client frame, already checked (routes/ws-frames.ts). */
  receive(frame: ClientFrame): void {
    if (this.#closed) return;
    try {
      this.#dispatch(frame);
    } catch (error) {
      this.#sendError(error, idsOf(frame));
    }
  }

  /** The socket's send buffer has room again: records frames may go. */
  drain(): void {
    this.#sender.drained();
    this.#pump();
  }

  /** Closes the socket and lets go of everything the connection holds. */
  close(code: number, reason: string): void {
    if (this.#closed) return;
    this.peer.close(code, reason);
    this.closed();
  }

  /** The socket is gone: stop every subscription's wait; every member leaves its group. */
  closed(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const subscription of this.#subscriptions.values()) subscription.end();
    this.#subscriptions.clear();
    this.#members.close();
    this.options.onClosed?.(this);
  }

  #dispatch(frame: ClientFrame): void {
    switch (frame.type) {
      case "subscribe":
        this.#subscribe(frame);
        return;
      case "credit":
        this.#credit(frame);
        return;
      case "unsubscribe":
        this.#remove(this.#subscription(frame.id));
        this.#sendFrame({ type: "unsubscribed", id: frame.id });
        return;
      case "produce":
        this.#produce(frame);
        return;
      case "join":
      case "heartbeat":
      case "leave":
      case "commit":
        this.#members.receive(frame);
        return;
      case "rejected":
        throw frame.error;
    }
  }

  #subscribe(frame: SubscribeFrame): void {
    if (this.#subscriptions.has(frame.id)) {
      throw new SluiceError("SUBSCRIPTION_EXISTS", `subscription ${frame.id} is open on this connection`, {
        field: "id",
      });
    }
    const subscriptionsMax = this.options.subscriptionsMax ?? WS_SUBSCRIPTIONS_PER_CONNECTION_MAX;
    if (this.#subscriptions.size >= subscriptionsMax) {
      this.gateway.metrics.limitHit("ws_subscriptions");
      throw new SluiceError(
        "TOO_MANY_SUBSCRIPTIONS",
        `a connection may hold ${subscriptionsMax} subscriptions; unsubscribe one first`,
        { field: "id" },
      );
    }
    const subscription = new Subscription(frame, startOffsetOf(this.gateway, frame));
    this.#subscriptions.set(frame.id, subscription);
    const { highWatermark } = this.gateway.logs.partition(frame.topic, frame.partition);
    this.#sendFrame({ type: "subscribed", id: frame.id, offset: subscription.nextOffset, highWatermark });
    this.#pump();
  }

  #credit(frame: CreditFrame): void {
    const subscription = this.#subscription(frame.id);
    subscription.credit.grant(frame);
    subscription.creditHintSent = false;
    this.#pump();
  }

  #subscription(id: SubscriptionId): Subscription {
    const subscription = this.#subscriptions.get(id);
    if (subscription !== undefined) return subscription;
    throw new SluiceError("UNKNOWN_SUBSCRIPTION", `no subscription ${id} is open on this connection`, {
      field: "id",
    });
  }

  #remove(subscription: Subscription): void {
    subscription.end();
    this.#subscriptions.delete(subscription.id);
  }

  /**
   * Appends in arrival order (produceRecords appends before it first yields) and answers when the
   * append is done. Past WS_PRODUCES_IN_FLIGHT_MAX unanswered requests, the connection stops reading.
   */
  #produce(frame: ProduceFrame): void {
    const { requestId } = frame;
    this.#producesInFlight++;
    if (this.#producesInFlight >= WS_PRODUCES_IN_FLIGHT_MAX && !this.#readingPaused) {
      this.#readingPaused = true;
      this.peer.pauseReading();
    }
    produceRecords(this.gateway, frame)
      .then(
        (result) => {
          if (frame.acks !== 0) this.#sendFrame({ type: "produced", requestId, offsets: result.offsets });
        },
        (error: unknown) => this.#sendError(error, { requestId }),
      )
      .finally(() => {
        this.#producesInFlight--;
        if (this.#readingPaused && this.#producesInFlight < WS_PRODUCES_IN_FLIGHT_MAX && !this.#closed) {
          this.#readingPaused = false;
          this.peer.resumeReading();
        }
      });
  }

  /**
   * Sends records frames, one per subscription in turn, while the socket takes them without
   * backpressure. A subscription without credit is left alone; one that has caught up waits for an
   * append. After WS_SEND_BYTES_PER_TURN_MAX the loop goes on in a later turn.
   */
  #pump(): void {
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    try {
      let sentBytes = 0;
      do {
        this.#pumpAgain = false;
        let progressed = true;
        while (progressed && this.#sender.writable && !this.#closed) {
          progressed = false;
          for (const subscription of [...this.#subscriptions.values()]) {
            if (!this.#sender.writable || this.#closed) break;
            const bytes = this.#sendNext(subscription);
            if (bytes > 0) progressed = true;
            sentBytes += bytes;
          }
          if (progressed && sentBytes >= WS_SEND_BYTES_PER_TURN_MAX) {
            this.#deferPump();
            return;
          }
        }
      } while (this.#pumpAgain);
    } finally {
      this.#pumping = false;
    }
  }

  #deferPump(): void {
    if (this.#pumpDeferred) return;
    this.#pumpDeferred = true;
    const defer = this.options.defer ?? ((task: () => void) => setTimeout(task, 0));
    defer(() => {
      this.#pumpDeferred = false;
      this.#pump();
    });
  }

  /** Sends the subscription's next frame if it has credit and there is data; returns the bytes sent. */
  #sendNext(subscription: Subscription): number {
    if (subscription.ended || subscription.credit.exhausted) return 0;
    let plan: ReturnType<typeof nextRecordsFrame>;
    try {
      // A reassignment may have moved the partition off this node since the subscription began.
      this.gateway.cluster?.checkLocalReplica(subscription.topic, subscription.partition);
      const log = this.gateway.logs.partition(subscription.topic, subscription.partition);
      plan = nextRecordsFrame(log, {
        id: subscription.id,
        partition: subscription.partition,
        format: subscription.format,
        keyFormat: subscription.keyFormat,
        valueFormat: subscription.valueFormat,
        fetchOffset: subscription.nextOffset,
        recordsMax: subscription.credit.records,
        bytesMax: subscription.credit.bytes,
        targetBytes: WS_RECORDS_FRAME_BYTES_TARGET,
      });
    } catch (error) {
      this.#endWithError(subscription, error);
      return 0;
    }
    if (plan === undefined) {
      subscription.waitForAppend(this.gateway, () => this.#pump());
      return 0;
    }
    if (plan.kind === "too-small") {
      this.#hintCredit(subscription, plan.field, plan.needed);
      return 0;
    }
    if (!this.#sender.send(plan.frame)) return 0;
    subscription.credit.charge(plan.records, plan.frameBytes);
    subscription.nextOffset = plan.nextOffset;
    subscription.creditHintSent = false;
    const { topic, partition } = subscription;
    this.gateway.metrics.recordsOut(topic, partition, { records: plan.records, bytes: plan.logBytes });
    return plan.frameBytes;
  }

  /** Says once, until the offset or the credit moves, that the next frame needs more credit. */
  #hintCredit(subscription: Subscription, field: "records" | "bytes", needed: number): void {
    if (subscription.creditHintSent) return;
    subscription.creditHintSent = true;
    const what = subscription.format === "binary" ? "batch" : "record";
    const left = subscription.credit[field];
    const error = new SluiceError(
      "CREDIT_TOO_SMALL",
      `the ${what} at offset ${subscription.nextOffset} needs ${needed} ${field} of credit and ${left} ` +
        `are left: grant at least ${needed - left} more`,
      { field },
    );
    this.#sendError(error, { id: subscription.id, needed });
  }

  #endWithError(subscription: Subscription, error: unknown): void {
    this.#remove(subscription);
    this.#sendError(error, { id: subscription.id });
    this.#sendFrame({ type: "unsubscribed", id: subscription.id });
  }

  /** An error frame naming the frame it answers, and for CREDIT_TOO_SMALL the credit needed. */
  #sendError(error: unknown, about: FrameIds & { needed?: number }): void {
    const { needed, ...ids } = about;
    const frame: ErrorFrame = { type: "error", ...ids, ...this.options.describeError(error) };
    if (needed !== undefined) frame.needed = needed;
    this.#sendFrame(frame);
  }

  #sendFrame(frame: ServerFrame): void {
    if (!this.#closed) this.#sender.send(JSON.stringify(frame));
  }
}

function idsOf(frame: ClientFrame): FrameIds {
  const ids: FrameIds = {};
  if ("id" in frame && frame.id !== undefined) ids.id = frame.id;
  if ("requestId" in frame && frame.requestId !== undefined) ids.requestId = frame.requestId;
  return ids;
}
