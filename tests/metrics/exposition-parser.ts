// A strict parser of Prometheus's text format 0.0.4, for tests: it throws on anything a scraper could
// read differently (a bad escape, a family split in two, a sample before its TYPE, a histogram whose
// buckets are not cumulative), so a test that parses an exposition has checked it too.

export interface Sample {
  /** The sample's own name: sluice_x_bucket, sluice_x_sum, ... */
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram" | "summary" | "untyped";
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const FLOAT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

export function parseExposition(text: string): Map<string, Family> {
  if (text !== "" && !text.endsWith("\n")) throw new Error("the exposition must end with a line feed");
  const families = new Map<string, Family>();
  let current: Family | undefined;
  const lines = text.split("\n").slice(0, -1);
  for (const [i, line] of lines.entries()) {
    const where = `line ${i + 1}: ${line}`;
    if (line.startsWith("#")) {
      current = parseComment(line, families, current, where);
      continue;
    }
    if (line.trim() === "") throw new Error(`${where}: empty line`);
    const sample = parseSample(line, where);
    const family = familyOf(sample.name, families);
    if (family === undefined) throw new Error(`${where}: sample before its TYPE line`);
    if (family !== current) throw new Error(`${where}: family ${family.name} is split into two groups`);
    checkSampleName(family, sample, where);
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (family.samples.some((s) => `${s.name}${JSON.stringify(Object.entries(s.labels).sort())}` === key)) {
      throw new Error(`${where}: repeated series`);
    }
    family.samples.push(sample);
  }
  for (const family of families.values()) if (family.type === "histogram") checkHistogram(family);
  return families;
}

function parseComment(
  line: string,
  families: Map<string, Family>,
  current: Family | undefined,
  where: string,
): Family | undefined {
  const match = /^# (HELP|TYPE) ([^ ]+) (.*)$/.exec(line);
  if (match === null) return current; // a plain comment
  const [, keyword, name, rest] = match as unknown as [string, string, string, string];
  if (!NAME.test(name)) throw new Error(`${where}: bad metric name`);
  let family = families.get(name);
  if (family === undefined) {
    family = { name, help: "", type: "untyped", samples: [] };
    families.set(name, family);
  } else if (family !== current) {
    throw new Error(`${where}: ${name} is described twice`);
  }
  if (keyword === "HELP") {
    if (family.help !== "") throw new Error(`${where}: second HELP`);
    family.help = unescapeText(rest, false, where);
  } else {
    if (family.samples.length > 0) throw new Error(`${where}: TYPE after samples`);
    if (!TYPES.has(rest)) throw new Error(`${where}: unknown type`);
    family.type = rest as Family["type"];
  }
  return family;
}

function parseSample(line: string, where: string): Sample {
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (nameMatch === null) throw new Error(`${where}: bad sample name`);
  const name = nameMatch[0];
  let position = name.length;
  const labels: Record<string, string> = {};
  if (line[position] === "{") {
    position++;
    while (line[position] !== "}") {
      const labelMatch = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(line.slice(position));
      if (labelMatch === null) throw new Error(`${where}: bad label at ${position}`);
      const label = labelMatch[1]!;
      if (!LABEL_NAME.test(label) || label in labels)
        throw new Error(`${where}: bad or repeated label ${label}`);
      position += labelMatch[0].length;
      let raw = "";
      while (line[position] !== '"') {
        if (position >= line.length) throw new Error(`${where}: unterminated label value`);
        if (line[position] === "\\") {
          raw += line.slice(position, position + 2);
          position += 2;
        } else raw += line[position++];
      }
      labels[label] = unescapeText(raw, true, where);
      position++;
      if (line[position] === ",") {
        position++;
        if (line[position] === "}") throw new Error(`${where}: trailing comma`);
      } else if (line[position] !== "}") throw new Error(`${where}: expected , or }`);
    }
    position++;
  }
  if (line[position] !== " ") throw new Error(`${where}: expected one space before the value`);
  const parts = line.slice(position + 1).split(" ");
  if (parts.length > 2 || parts[0] === "") throw new Error(`${where}: bad value`);
  return { name, labels, value: parseValue(parts[0]!, where) };
}

function parseValue(text: string, where: string): number {
  if (text === "+Inf") return Number.POSITIVE_INFINITY;
  if (text === "-Inf") return Number.NEGATIVE_INFINITY;
  if (text === "NaN") return Number.NaN;
  if (!FLOAT.test(text)) throw new Error(`${where}: bad value ${text}`);
  return Number(text);
}

/** Label values may escape \\, \" and \n; HELP text \\ and \n. Any other escape is an error. */
function unescapeText(text: string, isLabel: boolean, where: string): string {
  return text.replace(/\\(.?)/g, (_, char: string) => {
    if (char === "\\") return "\\";
    if (char === "n") return "\n";
    if (char === '"' && isLabel) return '"';
    throw new Error(`${where}: bad escape \\${char}`);
  });
}

function familyOf(sampleName: string, families: Map<string, Family>): Family | undefined {
  const direct = families.get(sampleName);
  if (direct !== undefined) return direct;
  const base = sampleName.replace(/_(bucket|sum|count)$/, "");
  const family = families.get(base);
  return family?.type === "histogram" || family?.type === "summary" ? family : undefined;
}

function checkSampleName(family: Family, sample: Sample, where: string): void {
  if (family.type !== "histogram") {
    if (sample.name !== family.name) throw new Error(`${where}: sample name does not match ${family.name}`);
    return;
  }
  if (sample.name === family.name) throw new Error(`${where}: a histogram has only _bucket, _sum and _count`);
  const isBucket = sample.name === `${family.name}_bucket`;
  if (isBucket !== "le" in sample.labels) throw new Error(`${where}: le belongs on buckets, and only there`);
}

/** Per series: le increasing and ending in +Inf, counts cumulative, +Inf equal to _count. */
function checkHistogram(family: Family): void {
  const seriesKey = (labels: Record<string, string>) =>
    JSON.stringify(
      Object.entries(labels)
        .filter(([name]) => name !== "le")
        .sort(),
    );
  const buckets = new Map<string, Sample[]>();
  for (const sample of family.samples) {
    if (!sample.name.endsWith("_bucket")) continue;
    const key = seriesKey(sample.labels);
    buckets.set(key, [...(buckets.get(key) ?? []), sample]);
  }
  for (const [key, series] of buckets) {
    const bounds = series.map((s) => parseValue(s.labels.le!, `${family.name} le`));
    for (let i = 1; i < series.length; i++) {
      if (!(bounds[i]! > bounds[i - 1]!)) throw new Error(`${family.name} ${key}: le not increasing`);
      if (series[i]!.value < series[i - 1]!.value)
        throw new Error(`${family.name} ${key}: buckets not cumulative`);
    }
    if (bounds.at(-1) !== Number.POSITIVE_INFINITY) throw new Error(`${family.name} ${key}: no +Inf bucket`);
    const count = family.samples.find(
      (s) => s.name === `${family.name}_count` && seriesKey(s.labels) === key,
    );
    const sum = family.samples.find((s) => s.name === `${family.name}_sum` && seriesKey(s.labels) === key);
    if (count === undefined || sum === undefined) throw new Error(`${family.name} ${key}: no _sum or _count`);
    if (series.at(-1)!.value !== count.value)
      throw new Error(`${family.name} ${key}: +Inf bucket is not _count`);
  }
}

/** The value of the one sample of `name` with exactly `labels`, or undefined. */
export function sampleValue(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const family of families.values()) {
    for (const sample of family.samples) {
      if (sample.name !== name) continue;
      const entries = Object.entries(sample.labels);
      if (entries.length !== Object.keys(labels).length) continue;
      if (entries.every(([label, value]) => labels[label] === value)) return sample.value;
    }
  }
  return undefined;
}
