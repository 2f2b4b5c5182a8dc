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
import type { CleanupPolicy, LogConfig } from "../log/log-config.ts";

const DAY_MS = 24 * 60 * 60 * 1000;
const WEEK_MS = 7 * DAY_MS;
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

function ratio() {
  return z
    .union([
      z.number(),
      z
        .string()
        .regex(/^\d+(\.\d+)?$/, "must be a number")
        .transform(Number),
    ])
    .pipe(z.number().min(0).max(1));
}

/**
 * Kafka's list form: "delete", "compact", or both comma-separated in either order (spaces allowed).
 * Normalised to one spelling so the rest of Sluice compares a single string.
 */
const cleanupPolicy = z.string().transform((text, context): CleanupPolicy => {
  const parts = new Set(text.split(",").map((part) => part.trim()));
  const known = [...parts].every((part) => part === "delete" || part === "compact");
  if (!known) {
    context.addIssue({ code: "custom", message: 'must be "delete", "compact" or "compact,delete"' });
    return z.NEVER;
  }
  if (parts.size === 2) return "compact,delete";
  return parts.has("compact") ? "compact" : "delete";
});

export const topicConfigSchema = z
  .object({
    "cleanup.policy": cleanupPolicy.default("delete"),
    "compression.type": z.enum(["producer", "none", "gzip", "snappy", "lz4", "zstd"]).default("producer"),
    "delete.retention.ms": integer(0, NEVER).default(DAY_MS),
    "file.delete.delay.ms": integer(0, NEVER).default(60_000),
    "flush.messages": integer(1, NEVER).default(NEVER),
    "flush.ms": integer(0, NEVER).default(NEVER),
    "index.interval.bytes": integer(0, SEGMENT_BYTES_MAX).default(INDEX_INTERVAL_BYTES_DEFAULT),
    "max.message.bytes": integer(0, MAX_MESSAGE_BYTES_MAX).default(MAX_MESSAGE_BYTES_DEFAULT),
    "message.timestamp.type": z.enum(["CreateTime", "LogAppendTime"]).default("CreateTime"),
    "min.cleanable.dirty.ratio": ratio().default(0.5),
    "min.compaction.lag.ms": integer(0, NEVER).default(0),
    "min.insync.replicas": integer(1, 1024).default(1),
    // Cluster mode: how many nodes hold each partition; left out, min(3, live nodes) (a single node: 1).
    "replication.factor": integer(1, 16).optional(),
    "retention.bytes": integer(-1, NEVER).default(-1),
    "retention.ms": integer(-1, NEVER).default(WEEK_MS),
    "segment.bytes": integer(SEGMENT_BYTES_MIN, SEGMENT_BYTES_MAX).default(SEGMENT_BYTES_DEFAULT),
    "segment.ms": integer(1, NEVER).default(WEEK_MS),
    "unclean.leader.election.enable": z
      .union([z.boolean(), z.enum(["true", "false"]).transform((text) => text === "true")])
      .default(false),
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
    cleanupPolicy: config["cleanup.policy"],
    minCleanableDirtyRatio: config["min.cleanable.dirty.ratio"],
    deleteRetentionMs: config["delete.retention.ms"],
    minCompactionLagMs: config["min.compaction.lag.ms"],
  };
}
