// The JSON answers of the node routes (overview and traffic rates) as zod schemas, typed against the
// lib results they describe and strict, as in answers.ts.
import { z } from "zod";
import type { TrafficRate, TrafficSample } from "../lib/metrics/traffic-rates.ts";

const perSecond = z.number().min(0);

export const trafficRate: z.ZodType<TrafficRate> = z
  .object({
    recordsInPerS: perSecond,
    bytesInPerS: perSecond,
    recordsOutPerS: perSecond,
    bytesOutPerS: perSecond,
  })
  .strict();

export const trafficSample: z.ZodType<TrafficSample> = z
  .object({
    timeMs: z.number().int(),
    total: trafficRate,
    topics: z.record(z.string(), trafficRate).meta({ description: "By topic name." }),
  })
  .strict();

export const trafficHistoryAnswer = z
  .object({
    intervalMs: z.number().int().min(1),
    samples: z.array(trafficSample).meta({ description: "Oldest first, one per interval." }),
  })
  .strict();

const bytes = z.number().int().min(0);

export const nodeAnswer = z
  .object({
    version: z.string(),
    startedMs: z.number().int().meta({ description: "When this node started serving (epoch ms)." }),
    uptimeMs: z.number().int().min(0),
    dataDir: z.string(),
    dataDirBytes: bytes.meta({ description: "Bytes of the files under the data directory, as du counts." }),
    diskFreeBytes: bytes.meta({ description: "Free bytes on the data directory's file system." }),
    diskTotalBytes: bytes,
    topics: z.number().int().min(0),
    partitions: z.number().int().min(0),
    rates: trafficRate.meta({ description: "The node's traffic over the last sample interval." }),
  })
  .strict();

export type NodeAnswer = z.output<typeof nodeAnswer>;
