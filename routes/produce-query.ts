// The query string both produce routes take: acks (0, 1, all; Kafka's -1 is all) and durable.
import { z } from "zod";
import type { Acks } from "../lib/gateway/append-batches.ts";
import { booleanString } from "./validate.ts";

const ACKS: Record<string, Acks> = { "0": 0, "1": 1, all: "all", "-1": "all" };

export const produceQuery = z
  .object({
    acks: z
      .enum(["0", "1", "all", "-1"])
      .default("1")
      .meta({
        description: "0 answers at once; 1 and all (-1) after the append (one node is the whole ISR).",
      })
      .transform((text) => ACKS[text]!),
    durable: booleanString.default(false).meta({ description: "Answer only once the append is fsynced." }),
  })
  .strict();
