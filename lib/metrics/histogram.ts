// A histogram with fixed buckets: counts of observations at or below each upper bound, their sum and
// their count, per label set. Each observation lands in one bucket; the exposition adds them up, as
// Prometheus buckets are cumulative and end with le="+Inf" equal to the count.
import { assert } from "../assert.ts";
import {
  assertMetricName,
  familyHeader,
  formatValue,
  type Labels,
  type MetricFamily,
  sampleLine,
} from "./exposition.ts";
import { SeriesMap } from "./series.ts";

export interface HistogramOptions {
  name: string;
  help: string;
  labelNames?: readonly string[];
  /** Finite upper bounds, strictly increasing; +Inf is implied. */
  buckets: readonly number[];
}

interface HistogramSeries {
  /** Observations per bucket (not cumulative); the last slot is the +Inf bucket's own share. */
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram implements MetricFamily {
  readonly type = "histogram";
  readonly name: string;
  readonly help: string;
  readonly buckets: readonly number[];
  readonly #series: SeriesMap<HistogramSeries>;

  constructor(options: HistogramOptions) {
    assertMetricName(options.name);
    const { buckets } = options;
    assert(buckets.length > 0, `histogram ${options.name} needs at least one bucket`);
    for (const [i, bound] of buckets.entries()) {
      assert(Number.isFinite(bound), `histogram ${options.name}: bucket ${bound} is not finite`);
      assert(i === 0 || bound > buckets[i - 1]!, `histogram ${options.name}: buckets must increase`);
    }
    const labelNames = options.labelNames ?? [];
    assert(!labelNames.includes("le"), `histogram ${options.name}: "le" is the bucket label`);
    this.name = options.name;
    this.help = options.help;
    this.buckets = [...buckets];
    this.#series = new SeriesMap(labelNames, () => ({
      counts: new Array<number>(buckets.length + 1).fill(0),
      sum: 0,
      count: 0,
    }));
  }

  observe(labels: Labels, value: number): void {
    assert(!Number.isNaN(value), `histogram ${this.name} cannot observe NaN`);
    const series = this.#series.get(labels);
    let bucket = 0;
    while (bucket < this.buckets.length && value > this.buckets[bucket]!) bucket++;
    series.counts[bucket]!++;
    series.sum += value;
    series.count++;
  }

  render(): string {
    let text = familyHeader(this.name, this.help, this.type);
    for (const { pairs, value } of this.#series.values()) {
      let cumulative = 0;
      for (const [i, count] of value.counts.entries()) {
        cumulative += count;
        const le = i < this.buckets.length ? formatValue(this.buckets[i]!) : "+Inf";
        text += sampleLine(`${this.name}_bucket`, [...pairs, ["le", le]], cumulative);
      }
      text += sampleLine(`${this.name}_sum`, pairs, value.sum);
      text += sampleLine(`${this.name}_count`, pairs, value.count);
    }
    return text;
  }
}
