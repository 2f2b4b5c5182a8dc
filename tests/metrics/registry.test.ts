// The registry and its metric types render Prometheus's text format 0.0.4 exactly: HELP and TYPE
// lines, escaped label values, cumulative histogram buckets ending in +Inf, and nothing a strict
// parser refuses.
import { describe, expect, test } from "bun:test";
import { AssertionError } from "../../lib/assert.ts";
import { Registry } from "../../lib/metrics/registry.ts";
import { parseExposition, sampleValue } from "./exposition-parser.ts";

describe("exposition", () => {
  test("a counter renders its HELP and TYPE lines, then one line per label set", () => {
    const registry = new Registry();
    const counter = registry.counter({
      name: "x_total",
      help: "Things.",
      labelNames: ["topic", "partition"],
    });
    counter.inc({ topic: "a", partition: 0 }, 3);
    counter.inc({ topic: "a", partition: 1 });
    counter.inc({ topic: "a", partition: 0 }, 2);
    expect(registry.render()).toBe(
      "# HELP x_total Things.\n" +
        "# TYPE x_total counter\n" +
        'x_total{topic="a",partition="0"} 5\n' +
        'x_total{topic="a",partition="1"} 1\n',
    );
  });

  test("a metric without labels has no braces", () => {
    const registry = new Registry();
    registry.gauge({ name: "g", help: "A gauge." }).set({}, 7);
    expect(registry.render()).toBe("# HELP g A gauge.\n# TYPE g gauge\ng 7\n");
  });

  test("label values escape backslash, double quote and line feed", () => {
    const registry = new Registry();
    registry.counter({ name: "x_total", help: "h", labelNames: ["v"] }).inc({ v: 'a\\b"c\nd' });
    expect(registry.render()).toContain('x_total{v="a\\\\b\\"c\\nd"} 1\n');
    expect(sampleValue(parseExposition(registry.render()), "x_total", { v: 'a\\b"c\nd' })).toBe(1);
  });

  test("HELP text escapes backslash and line feed but not quotes", () => {
    const registry = new Registry();
    registry.gauge({ name: "g", help: 'C:\\ "two"\nlines' });
    expect(registry.render()).toStartWith('# HELP g C:\\\\ "two"\\nlines\n');
    expect(parseExposition(registry.render()).get("g")!.help).toBe('C:\\ "two"\nlines');
  });

  test("infinities and NaN are spelled as Prometheus spells them", () => {
    const registry = new Registry();
    const gauge = registry.gauge({ name: "g", help: "h", labelNames: ["k"] });
    gauge.set({ k: "up" }, Number.POSITIVE_INFINITY);
    gauge.set({ k: "down" }, Number.NEGATIVE_INFINITY);
    gauge.set({ k: "none" }, Number.NaN);
    gauge.set({ k: "small" }, 1e-7);
    const text = registry.render();
    expect(text).toContain('g{k="up"} +Inf\n');
    expect(text).toContain('g{k="down"} -Inf\n');
    expect(text).toContain('g{k="none"} NaN\n');
    expect(sampleValue(parseExposition(text), "g", { k: "small" })).toBe(1e-7);
  });

  test("families render in registration order, each as one group", () => {
    const registry = new Registry();
    const a = registry.counter({ name: "a_total", help: "a", labelNames: ["k"] });
    const b = registry.counter({ name: "b_total", help: "b" });
    a.inc({ k: "1" });
    b.inc();
    a.inc({ k: "2" });
    expect([...parseExposition(registry.render()).keys()]).toEqual(["a_total", "b_total"]);
  });
});

describe("histogram", () => {
  test("buckets are cumulative and end with +Inf equal to the count", () => {
    const registry = new Registry();
    const histogram = registry.histogram({
      name: "h_seconds",
      help: "h",
      labelNames: ["r"],
      buckets: [0.1, 1, 10],
    });
    for (const value of [0.05, 0.5, 0.7, 5, 50, 500]) histogram.observe({ r: "x" }, value);
    const text = registry.render();
    expect(text).toBe(
      "# HELP h_seconds h\n" +
        "# TYPE h_seconds histogram\n" +
        'h_seconds_bucket{r="x",le="0.1"} 1\n' +
        'h_seconds_bucket{r="x",le="1"} 3\n' +
        'h_seconds_bucket{r="x",le="10"} 4\n' +
        'h_seconds_bucket{r="x",le="+Inf"} 6\n' +
        'h_seconds_sum{r="x"} 556.25\n' +
        'h_seconds_count{r="x"} 6\n',
    );
    parseExposition(text);
  });

  test("an observation equal to a bound counts in that bound's bucket", () => {
    const registry = new Registry();
    const histogram = registry.histogram({ name: "h", help: "h", buckets: [1, 2] });
    histogram.observe({}, 1);
    histogram.observe({}, 2);
    const families = parseExposition(registry.render());
    expect(sampleValue(families, "h_bucket", { le: "1" })).toBe(1);
    expect(sampleValue(families, "h_bucket", { le: "2" })).toBe(2);
    expect(sampleValue(families, "h_bucket", { le: "+Inf" })).toBe(2);
  });

  test("buckets must be finite and increasing, and le is not a label a histogram may have", () => {
    const registry = new Registry();
    expect(() => registry.histogram({ name: "h1", help: "h", buckets: [1, 1] })).toThrow(AssertionError);
    expect(() => registry.histogram({ name: "h2", help: "h", buckets: [1, Infinity] })).toThrow(
      AssertionError,
    );
    expect(() => registry.histogram({ name: "h3", help: "h", buckets: [] })).toThrow(AssertionError);
    expect(() => registry.histogram({ name: "h4", help: "h", labelNames: ["le"], buckets: [1] })).toThrow(
      AssertionError,
    );
  });
});

describe("misuse", () => {
  test("a counter cannot go down, and its name ends in _total", () => {
    const registry = new Registry();
    const counter = registry.counter({ name: "c_total", help: "h" });
    expect(() => counter.inc({}, -1)).toThrow(AssertionError);
    expect(() => registry.counter({ name: "c", help: "h" })).toThrow(AssertionError);
  });

  test("labels must be exactly the family's label names", () => {
    const registry = new Registry();
    const counter = registry.counter({ name: "c_total", help: "h", labelNames: ["topic"] });
    expect(() => counter.inc({})).toThrow(AssertionError);
    expect(() => counter.inc({ topic: "a", extra: "b" })).toThrow(AssertionError);
    expect(() => counter.inc({ topik: "a" })).toThrow(AssertionError);
  });

  test("names are checked, and a name is registered once", () => {
    const registry = new Registry();
    expect(() => registry.gauge({ name: "bad-name", help: "h" })).toThrow(AssertionError);
    expect(() => registry.gauge({ name: "g", help: "h", labelNames: ["__reserved"] })).toThrow(
      AssertionError,
    );
    registry.gauge({ name: "g", help: "h" });
    expect(() => registry.gauge({ name: "g", help: "h" })).toThrow(AssertionError);
  });
});

describe("collected gauges", () => {
  test("a gauge with a collect callback shows only what the callback set at this scrape", () => {
    const registry = new Registry();
    let partitions = ["0", "1"];
    registry.gauge({
      name: "g",
      help: "h",
      labelNames: ["partition"],
      collect: (gauge) => {
        for (const partition of partitions) gauge.set({ partition }, Number(partition) * 10);
      },
    });
    expect(sampleValue(parseExposition(registry.render()), "g", { partition: "1" })).toBe(10);
    partitions = ["0"];
    expect(sampleValue(parseExposition(registry.render()), "g", { partition: "1" })).toBeUndefined();
  });

  test("a counter's series can be forgotten by a label subset", () => {
    const registry = new Registry();
    const counter = registry.counter({ name: "c_total", help: "h", labelNames: ["topic", "partition"] });
    counter.inc({ topic: "a", partition: 0 });
    counter.inc({ topic: "b", partition: 0 });
    counter.remove({ topic: "a" });
    const families = parseExposition(registry.render());
    expect(families.get("c_total")!.samples.map((s) => s.labels.topic)).toEqual(["b"]);
  });
});

describe("the test's own parser", () => {
  const header = "# HELP x_total h\n# TYPE x_total counter\n";

  test.each([
    ["no final line feed", `${header}x_total 1`],
    ["a sample before its TYPE", "x_total 1\n"],
    ["an unescaped quote", `${header}x_total{a="b"c"} 1\n`],
    ["an unknown escape", `${header}x_total{a="\\t"} 1\n`],
    ["a trailing comma", `${header}x_total{a="b",} 1\n`],
    ["a bad value", `${header}x_total 1,5\n`],
    ["a repeated series", `${header}x_total{a="b"} 1\nx_total{a="b"} 2\n`],
    ["a family split in two", `${header}x_total 1\n# HELP y h\n# TYPE y gauge\ny 1\nx_total{a="b"} 1\n`],
    [
      "buckets that are not cumulative",
      '# HELP h h\n# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
    ],
    ["a histogram without +Inf", '# HELP h h\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n'],
  ])("refuses %s", (_, text) => {
    expect(() => parseExposition(text)).toThrow();
  });
});
