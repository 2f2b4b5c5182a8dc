// Hands out idempotent producer ids and epochs: Kafka's InitProducerId without a transactional id.
// Ids are never reissued for the life of the data directory: they are reserved in blocks whose end
// is persisted before the first id of the block is handed out, so the file is written once per
// PRODUCER_ID_BLOCK_SIZE ids and a crash only skips the rest of a block. Given an id it issued, it
// bumps that id's epoch instead, which fences the instance holding the old epoch: the partitions
// refuse its batches with INVALID_PRODUCER_EPOCH once the new epoch has written there.
//
// File <dataDir>/producer-ids.json, replaced atomically:
//   {"version": 1, "nextProducerId": <first id not yet reserved>,
//    "epochs": {"<producerId>": {"epoch": <last epoch issued>, "bumpedMs": <when>}}}
// An epoch entry is dropped once older than producer.id.expiration.ms; the partitions remember the
// epochs their producers wrote with, and the current epoch is the largest either knows.
import { z } from "zod";
import { SluiceError } from "../errors.ts";
import { PRODUCER_EPOCH_MAX, PRODUCER_ID_BLOCK_SIZE, PRODUCER_ID_EXPIRATION_MS_DEFAULT } from "../limits.ts";
import { joinPath } from "../storage/storage.ts";
import type { LogManager } from "../topics/log-manager.ts";

export const PRODUCER_IDS_FILE = "producer-ids.json";
const PRODUCER_IDS_VERSION = 1;

const producerIdsFileSchema = z
  .object({
    version: z.literal(PRODUCER_IDS_VERSION),
    nextProducerId: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    epochs: z.record(
      z.string().regex(/^\d+$/),
      z.object({ epoch: z.number().int().min(0).max(PRODUCER_EPOCH_MAX), bumpedMs: z.number().int() }),
    ),
  })
  .strict();

type ProducerIdsFile = z.output<typeof producerIdsFileSchema>;

export interface ProducerIdAndEpoch {
  producerId: number;
  producerEpoch: number;
}

export interface InitProducerIdRequest {
  /** An id this node issued: its epoch is bumped. Left out: a new id with epoch 0. */
  producerId?: number;
  /** The epoch the caller holds; a lower one than the current is refused (it was fenced). */
  producerEpoch?: number;
}

export class ProducerIds {
  /** The next id of the reserved block, and the block's end (exclusive). */
  #next = 0;
  #blockEnd = 0;

  constructor(readonly logs: LogManager) {}

  get #path(): string {
    return joinPath(this.logs.dataDir, PRODUCER_IDS_FILE);
  }

  initProducerId(request: InitProducerIdRequest = {}): ProducerIdAndEpoch {
    if (request.producerId === undefined) return { producerId: this.#allocate(), producerEpoch: 0 };
    return this.#bumpEpoch(request.producerId, request.producerEpoch);
  }

  #allocate(): number {
    if (this.#next === this.#blockEnd) {
      // Read again rather than trust memory: another allocator on this directory may have reserved since.
      const file = this.#read();
      const start = file.nextProducerId;
      if (start > Number.MAX_SAFE_INTEGER - PRODUCER_ID_BLOCK_SIZE) {
        throw new SluiceError("STORAGE_ERROR", "producer ids are exhausted");
      }
      this.#write({ ...file, nextProducerId: start + PRODUCER_ID_BLOCK_SIZE });
      this.#next = start;
      this.#blockEnd = start + PRODUCER_ID_BLOCK_SIZE;
    }
    return this.#next++;
  }

  #bumpEpoch(producerId: number, heldEpoch: number | undefined): ProducerIdAndEpoch {
    const file = this.#read();
    if (producerId >= file.nextProducerId) {
      throw new SluiceError("INVALID_REQUEST", `producerId: ${producerId} was never issued by this node`, {
        field: "producerId",
      });
    }
    let current = Math.max(file.epochs[producerId]?.epoch ?? 0, this.#epochInLogs(producerId));
    if (heldEpoch !== undefined && heldEpoch < current) {
      throw new SluiceError(
        "INVALID_PRODUCER_EPOCH",
        `producerEpoch: producer ${producerId} is at epoch ${current}; epoch ${heldEpoch} was fenced`,
        { field: "producerEpoch" },
      );
    }
    // An epoch above what is known was issued and then forgotten (expired): the caller remembers it.
    if (heldEpoch !== undefined) current = Math.max(current, heldEpoch);
    const nowMs = this.logs.clock.nowMs();
    const epochs = liveEpochs(file, nowMs);
    if (current >= PRODUCER_EPOCH_MAX) {
      // Epochs are int16: an exhausted id is retired and its owner gets a fresh one, as in Kafka.
      delete epochs[producerId];
      this.#write({ ...file, epochs });
      return { producerId: this.#allocate(), producerEpoch: 0 };
    }
    const producerEpoch = current + 1;
    epochs[producerId] = { epoch: producerEpoch, bumpedMs: nowMs };
    this.#write({ ...file, epochs });
    return { producerId, producerEpoch };
  }

  /** The highest epoch any partition has seen this producer write with (0 when none has). */
  #epochInLogs(producerId: number): number {
    let epoch = 0;
    for (const topic of this.logs.listTopics()) {
      for (let partition = 0; partition < topic.partitions; partition++) {
        const entry = this.logs.partition(topic.name, partition).producerState.entry(producerId);
        if (entry !== undefined) epoch = Math.max(epoch, entry.producerEpoch);
      }
    }
    return epoch;
  }

  #read(): ProducerIdsFile {
    const bytes = this.logs.storage.readFile(this.#path);
    if (bytes === undefined) return { version: PRODUCER_IDS_VERSION, nextProducerId: 0, epochs: {} };
    const malformed = (why: string) =>
      new SluiceError("STORAGE_ERROR", `${PRODUCER_IDS_FILE} in ${this.logs.dataDir} is malformed: ${why}`);
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(bytes));
    } catch (error) {
      throw malformed(error instanceof Error ? error.message : String(error));
    }
    const parsed = producerIdsFileSchema.safeParse(json);
    if (!parsed.success) throw malformed(parsed.error.message);
    return parsed.data;
  }

  #write(file: ProducerIdsFile): void {
    const text = `${JSON.stringify(file, null, 2)}\n`;
    this.logs.storage.writeFileAtomic(this.#path, new TextEncoder().encode(text));
  }
}

/** The epoch entries not yet expired: the file stays small however many producers ever bumped. */
function liveEpochs(file: ProducerIdsFile, nowMs: number): ProducerIdsFile["epochs"] {
  const epochs: ProducerIdsFile["epochs"] = {};
  for (const [id, entry] of Object.entries(file.epochs)) {
    if (nowMs - entry.bumpedMs < PRODUCER_ID_EXPIRATION_MS_DEFAULT) epochs[id] = entry;
  }
  return epochs;
}
