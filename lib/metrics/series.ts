// The series of one metric family: one value per distinct label set, each label set checked against
// the family's label names so a typo cannot open a new series.
import { assert } from "../assert.ts";
import { assertLabelName, type Labels } from "./exposition.ts";

export interface Series<T> {
  /** [label name, value as text], in the family's label order. */
  readonly pairs: ReadonlyArray<readonly [string, string]>;
  readonly value: T;
}

export class SeriesMap<T> {
  readonly #series = new Map<string, Series<T>>();

  constructor(
    readonly labelNames: readonly string[],
    readonly create: () => T,
  ) {
    for (const name of labelNames) assertLabelName(name);
    assert(new Set(labelNames).size === labelNames.length, `repeated label name in ${labelNames.join(",")}`);
  }

  /** The series for `labels`, opened on first use; `labels` must name exactly the family's labels. */
  get(labels: Labels): T {
    const values = this.#valuesOf(labels);
    const key = JSON.stringify(values);
    let series = this.#series.get(key);
    if (series === undefined) {
      const pairs = this.labelNames.map((name, i) => [name, values[i]!] as const);
      series = { pairs, value: this.create() };
      this.#series.set(key, series);
    }
    return series.value;
  }

  /** Drops every series whose labels include all of `match` (a deleted topic's partitions). */
  deleteMatching(match: Labels): void {
    const wanted = Object.entries(match).map(([name, value]) => [name, String(value)] as const);
    for (const [key, series] of this.#series) {
      const matches = wanted.every(([name, value]) =>
        series.pairs.some(([label, text]) => label === name && text === value),
      );
      if (matches) this.#series.delete(key);
    }
  }

  clear(): void {
    this.#series.clear();
  }

  values(): IterableIterator<Series<T>> {
    return this.#series.values();
  }

  #valuesOf(labels: Labels): string[] {
    const given = Object.keys(labels);
    assert(
      given.length === this.labelNames.length && this.labelNames.every((name) => name in labels),
      `labels {${given.join(",")}} do not match {${this.labelNames.join(",")}}`,
    );
    return this.labelNames.map((name) => String(labels[name]));
  }
}
