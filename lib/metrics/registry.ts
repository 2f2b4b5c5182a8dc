// A Prometheus registry: the metric families one node exposes, rendered in the text format at each
// scrape. One registry per app, so two nodes in one process (tests) never share counts.
import { assert } from "../assert.ts";
import { Counter, type CounterOptions } from "./counter.ts";
import type { MetricFamily } from "./exposition.ts";
import { Gauge, type GaugeOptions } from "./gauge.ts";
import { Histogram, type HistogramOptions } from "./histogram.ts";

export class Registry {
  readonly #families = new Map<string, MetricFamily>();

  counter(options: CounterOptions): Counter {
    return this.register(new Counter(options));
  }

  gauge(options: GaugeOptions): Gauge {
    return this.register(new Gauge(options));
  }

  histogram(options: HistogramOptions): Histogram {
    return this.register(new Histogram(options));
  }

  register<T extends MetricFamily>(family: T): T {
    assert(!this.#families.has(family.name), `metric ${family.name} is registered twice`);
    this.#families.set(family.name, family);
    return family;
  }

  get names(): string[] {
    return [...this.#families.keys()];
  }

  /** Every family in registration order; the text ends with a line feed, as the format requires. */
  render(): string {
    let text = "";
    for (const family of this.#families.values()) text += family.render();
    return text;
  }
}
