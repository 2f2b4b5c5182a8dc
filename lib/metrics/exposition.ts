// Prometheus text exposition format 0.0.4: names, label sets, values and escaping, the pieces every
// metric type renders its samples with. https://prometheus.io/docs/instrumenting/exposition_formats/
import { assert } from "../assert.ts";

/** What GET /metrics answers with: the format version is part of the media type. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const METRIC_NAME_PATTERN = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME_PATTERN = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export type MetricType = "counter" | "gauge" | "histogram";

/** A metric family as the registry sees it: a name, its help, and its samples as text. */
export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  /** The HELP and TYPE lines and every sample line, each ending in a line feed. */
  render(): string;
}

/** Label values by label name; numbers (partitions) are written in decimal. */
export type Labels = Readonly<Record<string, string | number>>;

export function assertMetricName(name: string): void {
  assert(METRIC_NAME_PATTERN.test(name), `invalid metric name ${JSON.stringify(name)}`);
}

/** Names starting with __ are reserved for Prometheus itself. */
export function assertLabelName(name: string): void {
  assert(
    LABEL_NAME_PATTERN.test(name) && !name.startsWith("__"),
    `invalid label name ${JSON.stringify(name)}`,
  );
}

/** The two comment lines that open a metric family. */
export function familyHeader(name: string, help: string, type: MetricType): string {
  return `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`;
}

/** One sample line: `name{a="x",b="y"} value`, the pairs in the order given. */
export function sampleLine(
  name: string,
  pairs: ReadonlyArray<readonly [string, string]>,
  value: number,
): string {
  if (pairs.length === 0) return `${name} ${formatValue(value)}\n`;
  const labels = pairs.map(([label, text]) => `${label}="${escapeLabelValue(text)}"`).join(",");
  return `${name}{${labels}} ${formatValue(value)}\n`;
}

/** Go's float syntax as Prometheus parses it: +Inf, -Inf and NaN spelled out. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}

/** In label values: backslash, double quote and line feed are escaped. */
export function escapeLabelValue(text: string): string {
  return text.replace(/[\\"\n]/g, (char) => (char === "\n" ? "\\n" : `\\${char}`));
}

/** In HELP text: backslash and line feed are escaped (quotes are not). */
export function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (char) => (char === "\n" ? "\\n" : "\\\\"));
}
