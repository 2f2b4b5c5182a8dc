// The live tail's WebSocket consumer: one subscription per partition, paced by credit. Records credit
// is handed back only after the page has drawn what it got (once per animation frame), so Sluice never
// sends faster than the browser shows, and a hidden tab (no frames) stops the flow altogether. When the
// tail falls too far behind the log's end it jumps to the end and counts what it skipped: a tail shows
// what is arriving now.

import type { ServerFrame } from "../lib/gateway/ws-protocol.ts";
import type { JsonRecord } from "./api.ts";

/** Records each partition may have in flight: one frame's worth of what the page may take. */
export const TAIL_CREDIT_RECORDS = 500;
/**
 * Records per second the page takes in, over all partitions: far more than anyone reads, and little
 * enough to parse and draw between frames on a small laptop. A faster topic is tailed by skipping.
 */
export const TAIL_RECORDS_PER_S_MAX = 5000;
/** Behind the log end by more than this, the tail resubscribes from the end. */
export const TAIL_SKIP_BEHIND_RECORDS = 20_000;

export interface TailStats {
  received: number;
  skipped: number;
  /** Records between the tail and the log end, summed over partitions. */
  behind: number;
}

export interface TailStreamOptions {
  url: string;
  topic: string;
  partitions: number[];
  /** Called with each records frame's records, oldest first. */
  onRecords: (records: JsonRecord[]) => void;
  onError: (message: string) => void;
  onOpenChange: (open: boolean) => void;
}

interface Subscription {
  partition: number;
  /** Offsets moved past since credit was last handed back. */
  consumed: number;
  nextOffset: number;
  highWatermark: number;
}

export class TailStream {
  readonly stats: TailStats = { received: 0, skipped: 0, behind: 0 };
  #socket: WebSocket;
  #subscriptions = new Map<number, Subscription>();
  #nextId = 1;
  #paused = false;
  /** Credit the rate budget allows handing back now (a token bucket refilled at TAIL_RECORDS_PER_S_MAX). */
  #budget = 0;
  #budgetAtMs = performance.now();
  #closed = false;
  readonly #options: TailStreamOptions;

  constructor(options: TailStreamOptions) {
    this.#options = options;
    this.#socket = new WebSocket(options.url);
    this.#socket.onopen = () => {
      options.onOpenChange(true);
      for (const partition of options.partitions) this.#subscribe(partition, "latest");
    };
    this.#socket.onclose = (event) => {
      options.onOpenChange(false);
      if (!this.#closed)
        options.onError(`connection closed (${event.code}${event.reason ? ` ${event.reason}` : ""})`);
    };
    this.#socket.onmessage = (event) => {
      if (typeof event.data === "string") this.#frame(JSON.parse(event.data) as ServerFrame);
    };
  }

  /**
   * Hands back the credit used since the last call, as far as the rate budget allows (the rest on a
   * later call): call it once the page has drawn.
   */
  replenish(): void {
    const nowMs = performance.now();
    const burst = TAIL_RECORDS_PER_S_MAX / 10;
    this.#budget = Math.min(
      burst,
      this.#budget + ((nowMs - this.#budgetAtMs) * TAIL_RECORDS_PER_S_MAX) / 1000,
    );
    this.#budgetAtMs = nowMs;
    if (this.#paused || this.#socket.readyState !== WebSocket.OPEN) return;
    let waiting = 0;
    for (const sub of this.#subscriptions.values()) if (sub.consumed > 0) waiting++;
    for (const [id, sub] of this.#subscriptions) {
      if (sub.consumed === 0) continue;
      const grant = Math.min(sub.consumed, Math.floor(this.#budget / waiting));
      waiting--;
      if (grant <= 0) continue;
      this.#send({ type: "credit", id, records: grant });
      sub.consumed -= grant;
      this.#budget -= grant;
    }
  }

  /**
   * Paused, no credit goes back, so Sluice stops once the credit it holds is used (at most
   * TAIL_CREDIT_RECORDS a partition; the page keeps those for when it resumes).
   */
  setPaused(paused: boolean): void {
    this.#paused = paused;
    if (paused) return;
    for (const [id, sub] of this.#subscriptions) {
      // A subscription made while paused was given no credit at all.
      const owed = sub.nextOffset === 0 && sub.consumed === 0 ? TAIL_CREDIT_RECORDS : sub.consumed;
      if (owed > 0) this.#send({ type: "credit", id, records: owed });
      sub.consumed = 0;
    }
  }

  close(): void {
    this.#closed = true;
    this.#socket.close(1000, "tail closed");
  }

  #subscribe(partition: number, from: "latest" | { offset: number }): void {
    const id = this.#nextId++;
    this.#subscriptions.set(id, { partition, consumed: 0, nextOffset: 0, highWatermark: 0 });
    const credit = this.#paused ? {} : { credit: { records: TAIL_CREDIT_RECORDS } };
    this.#send({ type: "subscribe", id, topic: this.#options.topic, partition, from, ...credit });
  }

  #frame(frame: ServerFrame): void {
    if (frame.type === "records") {
      const sub = this.#subscriptions.get(frame.id);
      if (sub === undefined) return; // a subscription already replaced by a skip
      // Records credit counts offsets moved past (gaps of compacted logs included): hand back the same.
      sub.consumed += Math.max(0, frame.nextOffset - sub.nextOffset);
      sub.nextOffset = frame.nextOffset;
      sub.highWatermark = frame.highWatermark;
      this.stats.received += frame.records.length;
      this.#options.onRecords(frame.records);
      this.#updateBehind();
      if (frame.highWatermark - frame.nextOffset > TAIL_SKIP_BEHIND_RECORDS) this.#skipToEnd(frame.id, sub);
    } else if (frame.type === "subscribed") {
      const sub = this.#subscriptions.get(frame.id);
      if (sub !== undefined) {
        sub.nextOffset = frame.offset;
        sub.highWatermark = frame.highWatermark;
      }
    } else if (frame.type === "error") {
      if (frame.name === "CREDIT_TOO_SMALL" && frame.id !== undefined && frame.needed !== undefined) {
        this.#send({ type: "credit", id: frame.id, records: frame.needed });
      } else {
        this.#options.onError(`${frame.message} (${frame.name} ${frame.code})`);
      }
    } else if (frame.type === "unsubscribed") {
      this.#subscriptions.delete(frame.id);
    }
  }

  #skipToEnd(id: number, sub: Subscription): void {
    this.stats.skipped += sub.highWatermark - sub.nextOffset;
    this.#send({ type: "unsubscribe", id });
    this.#subscriptions.delete(id);
    this.#subscribe(sub.partition, "latest");
  }

  #updateBehind(): void {
    let behind = 0;
    for (const sub of this.#subscriptions.values()) behind += Math.max(0, sub.highWatermark - sub.nextOffset);
    this.stats.behind = behind;
  }

  #send(frame: object): void {
    if (this.#socket.readyState === WebSocket.OPEN) this.#socket.send(JSON.stringify(frame));
  }
}
