// One subscription on a WebSocket connection: where it reads next, what credit it has, and its wait
// for appends when it has caught up. It holds no records: each frame is read from the log when sent.
import type { CancelTimer } from "../clock.ts";
import { isSluiceError, SluiceError } from "../errors.ts";
import { checkOffsetInRange } from "./fetch-records.ts";
import type { Gateway } from "./gateway.ts";
import { WS_SUBSCRIPTION_WAIT_MS, WS_WAITERS_RETRY_MS } from "./limits.ts";
import { listOffset, type OffsetSpec } from "./list-offsets.ts";
import type { FetchPayloadFormat } from "./payload-format.ts";
import { Credit } from "./ws-credit.ts";
import type { RecordsFormat, StartFrom, SubscribeFrame, SubscriptionId } from "./ws-protocol.ts";

export class Subscription {
  readonly id: SubscriptionId;
  readonly topic: string;
  readonly partition: number;
  readonly format: RecordsFormat;
  readonly keyFormat: FetchPayloadFormat;
  readonly valueFormat: FetchPayloadFormat;
  readonly credit = new Credit();
  nextOffset: number;
  /** A CREDIT_TOO_SMALL was sent for this offset and credit: say it again only after either moves. */
  creditHintSent = false;
  #waiting: AbortController | undefined;
  #cancelRetry: CancelTimer | undefined;
  #ended = false;

  constructor(frame: SubscribeFrame, startOffset: number) {
    this.id = frame.id;
    this.topic = frame.topic;
    this.partition = frame.partition;
    this.format = frame.format;
    this.keyFormat = frame.keyFormat;
    this.valueFormat = frame.valueFormat;
    this.nextOffset = startOffset;
    if (frame.credit !== undefined) this.credit.grant(frame.credit);
  }

  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Calls `wake` once the partition's high watermark passes nextOffset (or after
   * WS_SUBSCRIPTION_WAIT_MS, or when the topic goes). One wait at a time; ending the subscription
   * ends it.
   */
  waitForAppend(gateway: Gateway, wake: () => void): void {
    if (this.#ended || this.#waiting !== undefined || this.#cancelRetry !== undefined) return;
    const waiting = new AbortController();
    this.#waiting = waiting;
    // A partition moved off this node wakes it too: the next read says where it went.
    const caughtUp = () =>
      gateway.cluster?.servesLocally(this.topic, this.partition) === false ||
      gateway.logs.partition(this.topic, this.partition).highWatermark > this.nextOffset;
    const options = { isSatisfied: caughtUp, maxWaitMs: WS_SUBSCRIPTION_WAIT_MS, signal: waiting.signal };
    void gateway.waiters.wait(this.topic, this.partition, options).then((outcome) => {
      if (this.#waiting === waiting) this.#waiting = undefined;
      if (outcome === "aborted" || this.#ended) return;
      if (outcome !== "overloaded") return wake();
      // Too many fetches wait already: look again a little later rather than spin.
      gateway.metrics.limitHit("fetch_waiters");
      this.#cancelRetry = gateway.logs.clock.setTimer(() => {
        this.#cancelRetry = undefined;
        wake();
      }, WS_WAITERS_RETRY_MS);
    });
  }

  /** Stops waiting for good; the connection forgets the subscription. */
  end(): void {
    this.#ended = true;
    this.#waiting?.abort();
    this.#waiting = undefined;
    this.#cancelRetry?.();
    this.#cancelRetry = undefined;
  }
}

/** The offset a subscribe frame's `from` names, checked against the partition's log now. */
export function startOffsetOf(gateway: Gateway, frame: SubscribeFrame): number {
  gateway.cluster?.checkLocalReplica(frame.topic, frame.partition);
  const log = gateway.logs.partition(frame.topic, frame.partition);
  const from: StartFrom = frame.from;
  if (typeof from === "object" && "offset" in from) {
    try {
      checkOffsetInRange(log, from.offset);
    } catch (error) {
      if (!isSluiceError(error)) throw error;
      throw new SluiceError(error.errorName, error.message, { field: "from.offset", cause: error });
    }
    return from.offset;
  }
  const spec: OffsetSpec = typeof from === "string" ? from : { timestampMs: from.timestamp };
  return listOffset(log, spec).offset;
}
