// A gauge: a value that goes up and down (requests in flight), or one read at scrape time from its
// source (a partition's offsets) by a collect callback, so nothing has to keep it current.
import { assertMetricName, familyHeader, type Labels, type MetricFamily, sampleLine } from "./exposition.ts";
import { SeriesMap } from "./series.ts";

export interface GaugeOptions {
  name: string;
  help: string;
  labelNames?: readonly string[];
  /**
   * Sets the gauge's values at each scrape, after its series are cleared: a series the callback
   * does not set (a deleted topic's partition) is not exposed.
   */
  collect?: (gauge: Gauge) => void;
}

export class Gauge implements MetricFamily {
  readonly type = "gauge";
  readonly name: string;
  readonly help: string;
  readonly #series: SeriesMap<{ value: number }>;
  readonly #collect: ((gauge: Gauge) => void) | undefined;

  constructor(options: GaugeOptions) {
    assertMetricName(options.name);
    this.name = options.name;
    this.help = options.help;
    this.#series = new SeriesMap(options.labelNames ?? [], () => ({ value: 0 }));
    this.#collect = options.collect;
  }

  set(labels: Labels, value: number): void {
    this.#series.get(labels).value = value;
  }

  inc(labels: Labels = {}, amount = 1): void {
    this.#series.get(labels).value += amount;
  }

  dec(labels: Labels = {}, amount = 1): void {
    this.#series.get(labels).value -= amount;
  }

  render(): string {
    if (this.#collect !== undefined) {
      this.#series.clear();
      this.#collect(this);
    }
    let text = familyHeader(this.name, this.help, this.type);
    for (const { pairs, value } of this.#series.values()) text += sampleLine(this.name, pairs, value.value);
    return text;
  }
}
