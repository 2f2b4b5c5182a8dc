// The live tail's consumer: lib/client's SluiceConsumer over one WebSocket, JSON records, one
// subscription per partition from the log end. Its credit window is small and records are taken from
// it no faster than TAIL_RECORDS_PER_S_MAX, so Sluice never sends faster than the page can show; a
// faster topic leaves the tail behind, and once it is too far behind it jumps to the end and counts
// what it skipped: a tail shows what is arriving now.
import { type JsonConsumedRecord, SluiceConsumer } from "../lib/client/consumer.ts";

/** Records each partition may have in flight or buffered: the consumer's credit window. */
export const TAIL_CREDIT_RECORDS = 500;
/**
 * Records per second the page takes in, over all partitions: far more than anyone reads, and little
 * enough to parse and draw between frames on a small laptop.
 */
export const TAIL_RECORDS_PER_S_MAX = 5000;
/** Behind the log end by more than this, a partition's tail jumps to the end. */
export const TAIL_SKIP_BEHIND_RECORDS = 10_000;

export interface TailStats {
  received: number;
  skipped: number;
  /** Records between the tail and the log end, summed over partitions, as of the last check. */
  behind: number;
}

export interface TailStreamOptions {
  token: string | undefined;
  topic: string;
  partitions: number[];
  /** Called with each frame's records, oldest first. */
  onRecords: (records: JsonConsumedRecord[]) => void;
  onError: (message: string) => void;
  onOpenChange: (open: boolean) => void;
}

export class TailStream {
  readonly stats: TailStats = { received: 0, skipped: 0, behind: 0 };
  readonly #options: TailStreamOptions;
  readonly #consumer: SluiceConsumer<JsonConsumedRecord>;
  #paused = false;
  #resume: (() => void) | undefined;
  #closed = false;

  constructor(options: TailStreamOptions) {
    this.#options = options;
    this.#consumer = new SluiceConsumer<JsonConsumedRecord>({
      token: options.token,
      format: "json",
      maxBufferedRecordsPerPartition: TAIL_CREDIT_RECORDS,
      onError: (error) => options.onError(String((error as Error).message ?? error)),
    });
    void this.#run();
  }

  /** Paused, nothing is taken and no credit goes back, so Sluice stops once the window is full. */
  setPaused(paused: boolean): void {
    this.#paused = paused;
    const partitions = this.#partitions();
    if (paused) this.#consumer.pause(partitions);
    else {
      this.#consumer.resume(partitions);
      this.#resume?.();
    }
  }

  /** Given the partitions' high watermarks (a describe answer), jumps those too far behind to the end. */
  checkBehind(highWatermarks: Array<{ partition: number; highWatermark: number }>): void {
    let behind = 0;
    for (const { partition, highWatermark } of highWatermarks) {
      const position = this.#consumer.position(this.#options.topic, partition);
      if (position === undefined) continue;
      const gap = Math.max(0, highWatermark - position);
      if (gap > TAIL_SKIP_BEHIND_RECORDS && !this.#paused) {
        this.stats.skipped += gap;
        void this.#consumer.seek(this.#options.topic, partition, "latest").catch(() => {});
      } else behind += gap;
    }
    this.stats.behind = behind;
  }

  close(): void {
    this.#closed = true;
    this.#resume?.();
    void this.#consumer.close();
  }

  async #run(): Promise<void> {
    try {
      await this.#consumer.assign(this.#partitions().map((p) => ({ ...p, from: "latest" as const })));
      this.#options.onOpenChange(true);
      let budget = 0;
      let budgetAtMs = performance.now();
      for await (const records of this.#consumer.batches()) {
        if (this.#closed) break;
        this.stats.received += records.length;
        this.#options.onRecords(records);
        // A token bucket: taking more than the rate allows waits here, and the credit waits with it.
        const nowMs = performance.now();
        budget = Math.min(
          TAIL_RECORDS_PER_S_MAX / 10,
          budget + ((nowMs - budgetAtMs) * TAIL_RECORDS_PER_S_MAX) / 1000,
        );
        budgetAtMs = nowMs;
        budget -= records.length;
        if (budget < 0) await sleep((-budget * 1000) / TAIL_RECORDS_PER_S_MAX);
        while (this.#paused && !this.#closed) await new Promise<void>((resolve) => (this.#resume = resolve));
      }
    } catch (error) {
      if (!this.#closed) this.#options.onError((error as Error).message);
    } finally {
      this.#options.onOpenChange(false);
    }
  }

  #partitions(): Array<{ topic: string; partition: number }> {
    return this.#options.partitions.map((partition) => ({ topic: this.#options.topic, partition }));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
