// One partition a consumer reads, and its credit window. Sluice may send what it was granted and not
// yet used (`outstanding`); what came and the application has not taken yet is `buffered`. The client
// keeps outstanding + buffered within the window, and grants again once the application has taken
// half of it, so a slow application holds at most one window per partition and Sluice sends no more.

export type StartFrom = "earliest" | "latest" | { offset: number } | { timestamp: number };

export interface CreditWindow {
  records: number;
  bytes: number;
}

export class ConsumerPartition {
  /** The subscription id of the current subscription; a seek makes a new one. */
  id = 0;
  /** The next offset to hand to the application (Kafka's position); undefined until subscribed. */
  position: number | undefined;
  /** Where the records received so far end: the next frame's credit is charged from here. */
  receivedOffset: number | undefined;
  highWatermark = 0;
  paused = false;
  readonly outstanding: CreditWindow = { records: 0, bytes: 0 };
  readonly buffered: CreditWindow = { records: 0, bytes: 0 };
  /** Resolved by `subscribed`, rejected by an error before it. */
  subscribed: { resolve(): void; reject(error: unknown): void } | undefined;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly window: CreditWindow,
  ) {}

  /** The first grant, sent with the subscribe frame. */
  openWindow(): CreditWindow {
    this.outstanding.records = this.window.records;
    this.outstanding.bytes = this.window.bytes;
    this.buffered.records = 0;
    this.buffered.bytes = 0;
    return { ...this.window };
  }

  /** A records frame came: Sluice charged `records` offsets and `bytes` bytes of this credit. */
  received(records: number, bytes: number): void {
    this.outstanding.records = Math.max(0, this.outstanding.records - records);
    this.outstanding.bytes = Math.max(0, this.outstanding.bytes - bytes);
    this.buffered.records += records;
    this.buffered.bytes += bytes;
  }

  /** The application took what a frame brought; answers the credit to grant now, if any. */
  taken(records: number, bytes: number): Partial<CreditWindow> | undefined {
    this.buffered.records -= records;
    this.buffered.bytes -= bytes;
    return this.paused ? undefined : this.topUp();
  }

  /** Credit to grant so the window is full again, once at least half of a kind is free. */
  topUp(): Partial<CreditWindow> | undefined {
    const grant: Partial<CreditWindow> = {};
    const freeRecords = this.window.records - this.outstanding.records - this.buffered.records;
    const freeBytes = this.window.bytes - this.outstanding.bytes - this.buffered.bytes;
    if (freeRecords * 2 >= this.window.records) grant.records = freeRecords;
    if (freeBytes * 2 >= this.window.bytes) grant.bytes = freeBytes;
    if (grant.records === undefined && grant.bytes === undefined) return undefined;
    // Grant both kinds together: a kind left near empty would stall the other.
    grant.records = Math.max(freeRecords, 0);
    grant.bytes = Math.max(freeBytes, 0);
    if (grant.records === 0) delete grant.records;
    if (grant.bytes === 0) delete grant.bytes;
    this.outstanding.records += grant.records ?? 0;
    this.outstanding.bytes += grant.bytes ?? 0;
    return grant;
  }

  /** CREDIT_TOO_SMALL: the next batch alone needs `needed` of a kind; grant what it lacks. */
  grow(field: "records" | "bytes", needed: number): Partial<CreditWindow> {
    const more = Math.max(1, needed - this.outstanding[field]);
    this.outstanding[field] += more;
    return { [field]: more };
  }
}
