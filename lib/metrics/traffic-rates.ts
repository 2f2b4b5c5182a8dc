// Records and bytes per second in and out, per topic and in total, sampled once a second from the
// traffic counters and kept for the last few minutes: what the admin UI's live charts draw.
import { assert } from "../assert.ts";
import type { CancelTimer, Clock } from "../clock.ts";
import type { TopicTraffic } from "./sluice-metrics.ts";

/** One sample a second: fine enough for a throughput chart, cheap enough to run all the time. */
export const TRAFFIC_SAMPLE_INTERVAL_MS = 1000;
/** Five minutes of samples: "the last minutes" on a chart the moment a page opens. */
export const TRAFFIC_HISTORY_SAMPLES = 300;

export interface TrafficRate {
  recordsInPerS: number;
  bytesInPerS: number;
  recordsOutPerS: number;
  bytesOutPerS: number;
}

export interface TrafficSample {
  /** Wall-clock time of the sample (the end of its interval). */
  timeMs: number;
  total: TrafficRate;
  topics: Record<string, TrafficRate>;
}

export interface TrafficSource {
  trafficByTopic(): Map<string, TopicTraffic>;
}

export type TrafficListener = (sample: TrafficSample) => void;

export class TrafficRates {
  readonly #source: TrafficSource;
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #historySamples: number;
  readonly #history: TrafficSample[] = [];
  readonly #listeners = new Set<TrafficListener>();
  #previous: Map<string, TopicTraffic>;
  #previousMs: number;
  #cancel: CancelTimer | undefined;

  constructor(
    source: TrafficSource,
    options: { clock: Clock; intervalMs?: number; historySamples?: number },
  ) {
    this.#source = source;
    this.#clock = options.clock;
    this.#intervalMs = options.intervalMs ?? TRAFFIC_SAMPLE_INTERVAL_MS;
    this.#historySamples = options.historySamples ?? TRAFFIC_HISTORY_SAMPLES;
    assert(this.#intervalMs > 0 && this.#historySamples > 0, "traffic sampling needs a positive period");
    this.#previous = copyTraffic(source.trafficByTopic());
    this.#previousMs = this.#clock.monotonicMs();
  }

  /** Samples every interval from now on; the timer does not keep the process alive. */
  start(): void {
    if (this.#cancel !== undefined) return;
    const tick = () => {
      this.sample();
      this.#cancel = this.#clock.setTimer(tick, this.#intervalMs);
    };
    this.#cancel = this.#clock.setTimer(tick, this.#intervalMs);
  }

  stop(): void {
    this.#cancel?.();
    this.#cancel = undefined;
  }

  /** The samples kept, oldest first. */
  history(): readonly TrafficSample[] {
    return this.#history;
  }

  /** The newest sample, or zero rates before the first. */
  latest(): TrafficSample {
    return this.#history.at(-1) ?? { timeMs: this.#clock.nowMs(), total: zeroRate(), topics: {} };
  }

  /** Calls `listener` with each new sample; returns the function that stops it. */
  subscribe(listener: TrafficListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Takes a sample now: the rates since the previous one. The timer calls it; tests may too. */
  sample(): TrafficSample {
    const nowMs = this.#clock.monotonicMs();
    const elapsedS = Math.max(nowMs - this.#previousMs, 1) / 1000;
    const current = copyTraffic(this.#source.trafficByTopic());
    const total = zeroRate();
    const topics: Record<string, TrafficRate> = {};
    for (const [topic, now] of current) {
      const before = this.#previous.get(topic);
      const rate: TrafficRate = {
        recordsInPerS: perSecond(now.recordsIn, before?.recordsIn, elapsedS),
        bytesInPerS: perSecond(now.bytesIn, before?.bytesIn, elapsedS),
        recordsOutPerS: perSecond(now.recordsOut, before?.recordsOut, elapsedS),
        bytesOutPerS: perSecond(now.bytesOut, before?.bytesOut, elapsedS),
      };
      topics[topic] = rate;
      total.recordsInPerS += rate.recordsInPerS;
      total.bytesInPerS += rate.bytesInPerS;
      total.recordsOutPerS += rate.recordsOutPerS;
      total.bytesOutPerS += rate.bytesOutPerS;
    }
    this.#previous = current;
    this.#previousMs = nowMs;
    const sample = { timeMs: this.#clock.nowMs(), total, topics };
    this.#history.push(sample);
    if (this.#history.length > this.#historySamples) this.#history.shift();
    for (const listener of this.#listeners) listener(sample);
    return sample;
  }
}

/**
 * A counter that went down was reset (its topic deleted and made again), so all it holds is new.
 * Rates are rounded to a tenth: the charts need no more and the frames stay small.
 */
function perSecond(now: number, before: number | undefined, elapsedS: number): number {
  const delta = before === undefined || now < before ? now : now - before;
  return Math.round((delta / elapsedS) * 10) / 10;
}

function zeroRate(): TrafficRate {
  return { recordsInPerS: 0, bytesInPerS: 0, recordsOutPerS: 0, bytesOutPerS: 0 };
}

function copyTraffic(traffic: Map<string, TopicTraffic>): Map<string, TopicTraffic> {
  return new Map([...traffic].map(([topic, counts]) => [topic, { ...counts }]));
}
