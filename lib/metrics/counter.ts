// A counter: a total that only goes up (records appended, limits hit), one per label set.
import { assert } from "../assert.ts";
import { assertMetricName, familyHeader, type Labels, type MetricFamily, sampleLine } from "./exposition.ts";
import { SeriesMap } from "./series.ts";

export interface CounterOptions {
  /** Ends in _total, as Prometheus names counters. */
  name: string;
  help: string;
  labelNames?: readonly string[];
}

export class Counter implements MetricFamily {
  readonly type = "counter";
  readonly name: string;
  readonly help: string;
  readonly #series: SeriesMap<{ total: number }>;

  constructor(options: CounterOptions) {
    assertMetricName(options.name);
    assert(options.name.endsWith("_total"), `counter ${options.name} must end in _total`);
    this.name = options.name;
    this.help = options.help;
    this.#series = new SeriesMap(options.labelNames ?? [], () => ({ total: 0 }));
  }

  /** Adds `amount`; an amount of 0 opens the series, so it is exposed before anything happens. */
  inc(labels: Labels = {}, amount = 1): void {
    assert(Number.isFinite(amount) && amount >= 0, `counter ${this.name} cannot move by ${amount}`);
    this.#series.get(labels).total += amount;
  }

  /** Forgets the series matching `labels`: a deleted topic's partitions stop being exposed. */
  remove(labels: Labels): void {
    this.#series.deleteMatching(labels);
  }

  /** Each series' labels (as text, by name) and total: for readers other than the exposition. */
  *totals(): IterableIterator<{ labels: Readonly<Record<string, string>>; total: number }> {
    for (const { pairs, value } of this.#series.values()) {
      yield { labels: Object.fromEntries(pairs), total: value.total };
    }
  }

  render(): string {
    let text = familyHeader(this.name, this.help, this.type);
    for (const { pairs, value } of this.#series.values()) text += sampleLine(this.name, pairs, value.total);
    return text;
  }
}
