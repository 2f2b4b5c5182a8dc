// Per-topic configuration under Kafka's own key names, validated by one strict zod schema. Values
// may be JSON numbers or numeric strings (Kafka's configs are strings on the wire).
import { z } from "zod";
import { SluiceError } from "../errors.ts";
import {
  INDEX_INTERVAL_BYTES_DEFAULT,
  MAX_MESSAGE_BYTES_DEFAULT,
  MAX_MESSAGE_BYTES_MAX,
  SEGMENT_BYTES_DEFAULT,
  SEGMENT_BYTES_MAX,
  SEGMENT_BYTES_MIN,
} from "../limits.ts";
import type { LogConfig } from "../log/log-config.ts";

const WEEK_MS = 7 * 24 * 60 * 60 * 1000;
const NEVER = Number.MAX_SAFE_INTEGER;

function integer(min: number, max: number) {
  return z
    .union([
      z.number(),
      z
        .string()
        .regex(/^-?\d+$/, "must be an integer")
        .transform(Number),
    ])
    .pipe(z.number().int("must be an integer").min(min).max(max));
}

export const topicConfigSchema = z
  .object({
    "cleanup.policy": z.enum(["delete"]).default("delete"),
    "compression.type": z.enum(["producer", "none", "gzip", "snappy", "lz4", "zstd"]).default("producer"),
    "file.delete.delay.ms": integer(0, NEVER).default(60_000),
    "flush.messages": integer(1, NEVER).default(NEVER),
    "flush.ms": integer(0, NEVER).default(NEVER),
    "index.interval.bytes": integer(0, SEGMENT_BYTES_MAX).default(INDEX_INTERVAL_BYTES_DEFAULT),
    "max.message.bytes": integer(0, MAX_MESSAGE_BYTES_MAX).default(MAX_MESSAGE_BYTES_DEFAULT),
    "message.timestamp.type": z.enum(["CreateTime", "LogAppendTime"]).default("CreateTime"),
    "min.insync.replicas": integer(1, 1024).default(1),
    "retention.bytes": integer(-1, NEVER).default(-1),
    "retention.ms": integer(-1, NEVER).default(WEEK_MS),
    "segment.bytes": integer(SEGMENT_BYTES_MIN, SEGMENT_BYTES_MAX).default(SEGMENT_BYTES_DEFAULT),
    "segment.ms": integer(1, NEVER).default(WEEK_MS),
  })
  .strict();

export type TopicConfig = z.output<typeof topicConfigSchema>;
export type TopicConfigInput = z.input<typeof topicConfigSchema>;

/** Validates a topic's config, filling defaults; names the bad key in the error's field. */
export function parseTopicConfig(input: unknown): TopicConfig {
  const result = topicConfigSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const key = issue.path.join(".") || (issue.code === "unrecognized_keys" ? issue.keys[0]! : "config");
  const message =
    issue.code === "unrecognized_keys"
      ? `unknown topic config key${issue.keys.length > 1 ? "s" : ""}: ${issue.keys.join(", ")}`
      : `topic config ${key}: ${issue.message}`;
  throw new SluiceError("INVALID_CONFIG", message, { field: `config.${key}` });
}

export function toLogConfig(config: TopicConfig): LogConfig {
  return {
    segmentBytes: config["segment.bytes"],
    segmentMs: config["segment.ms"],
    retentionMs: config["retention.ms"],
    retentionBytes: config["retention.bytes"],
    maxMessageBytes: config["max.message.bytes"],
    indexIntervalBytes: config["index.interval.bytes"],
    flushMessages: config["flush.messages"],
    flushMs: config["flush.ms"],
    messageTimestampType: config["message.timestamp.type"],
    compressionType: config["compression.type"],
    fileDeleteDelayMs: config["file.delete.delay.ms"],
  };
}
