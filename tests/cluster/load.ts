// Continuous acks=all produce against a cluster, as a client would do it: each request goes to some
// live node (which forwards to the leader), failures are retried on another node, and every
// acknowledged record is remembered with its offset so the test can check nothing acked was lost.
import type { Cluster } from "./harness.ts";

export interface Acked {
  value: number;
  offset: number;
  /** When the acknowledged request was sent, and when its answer came (performance.now()). */
  sentAtMs: number;
  ackedAtMs: number;
}

export class AckedLoad {
  readonly acked: Acked[] = [];
  readonly errors = new Map<string, number>();
  #next = 0;
  #running = true;
  readonly done: Promise<void>;

  constructor(
    readonly cluster: Cluster,
    readonly topic: string,
    readonly options: { concurrency?: number; acks?: "all" | "1" } = {},
  ) {
    const workers = Array.from({ length: options.concurrency ?? 4 }, (_, i) => this.#worker(i));
    this.done = Promise.all(workers).then(() => undefined);
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.done;
  }

  /** The first acknowledgement of a request sent at or after `ms`. */
  firstAckAfter(ms: number): Acked | undefined {
    return this.acked.find((ack) => ack.sentAtMs >= ms);
  }

  async #worker(worker: number): Promise<void> {
    let attempt = worker;
    while (this.#running) {
      const value = this.#next++;
      // Retry the same value until acked (a retry after a lost answer may write it twice: allowed).
      while (this.#running) {
        const nodes = this.cluster.running();
        const node = nodes[attempt++ % nodes.length]!;
        const sentAtMs = performance.now();
        try {
          const response = await fetch(
            `${node.api}/topics/${this.topic}/records?acks=${this.options.acks ?? "all"}`,
            {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ records: [{ value, partition: 0 }] }),
              signal: AbortSignal.timeout(10_000),
            },
          );
          const body = (await response.json()) as {
            offsets?: Array<{ offset: number }>;
            error?: { name: string };
          };
          if (response.ok && body.offsets) {
            this.acked.push({
              value,
              offset: body.offsets[0]!.offset,
              sentAtMs,
              ackedAtMs: performance.now(),
            });
            break;
          }
          this.#count(body.error?.name ?? String(response.status));
        } catch (error) {
          this.#count(error instanceof Error ? error.name : "error");
        }
        await Bun.sleep(20);
      }
    }
  }

  #count(name: string): void {
    this.errors.set(name, (this.errors.get(name) ?? 0) + 1);
  }
}

/** Every record of partition 0, in offset order, read through `api` (JSON fetch pages). */
export async function readAll(
  api: string,
  topic: string,
  upTo: number,
): Promise<Array<{ offset: number; value: unknown }>> {
  const records: Array<{ offset: number; value: unknown }> = [];
  let offset = 0;
  while (offset < upTo) {
    const response = await fetch(
      `${api}/topics/${topic}/partitions/0/records?offset=${offset}&max_wait_ms=0`,
    );
    const body = (await response.json()) as {
      records: Array<{ offset: number; value: unknown }>;
      nextOffset: number;
    };
    if (!response.ok) throw new Error(`fetch answered ${response.status}: ${JSON.stringify(body)}`);
    if (body.records.length === 0) break;
    records.push(...body.records);
    offset = body.nextOffset;
  }
  return records;
}
