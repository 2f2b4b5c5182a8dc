// Every error the world can cause Sluice, with a stable numeric code, its HTTP status and whether a
// client may retry. Codes are never reused: retire one by leaving it in the table.
//
// Codes are grouped by area: 1xxx request, 2xxx topics and partitions, 3xxx records and batches,
// 4xxx storage, 5xxx configuration. kafkaCode names Kafka's nearest error for the wire protocol.

export const ERRORS = {
  INVALID_REQUEST: { code: 1000, status: 400, retriable: false, kafkaCode: 42 },
  UNKNOWN_TOPIC_OR_PARTITION: { code: 2000, status: 404, retriable: false, kafkaCode: 3 },
  TOPIC_ALREADY_EXISTS: { code: 2001, status: 409, retriable: false, kafkaCode: 36 },
  INVALID_TOPIC_NAME: { code: 2002, status: 400, retriable: false, kafkaCode: 17 },
  INVALID_PARTITIONS: { code: 2003, status: 400, retriable: false, kafkaCode: 37 },
  OFFSET_OUT_OF_RANGE: { code: 2004, status: 416, retriable: false, kafkaCode: 1 },
  TOPIC_DELETION_IN_PROGRESS: { code: 2005, status: 409, retriable: true, kafkaCode: 3 },
  CORRUPT_MESSAGE: { code: 3000, status: 400, retriable: false, kafkaCode: 2 },
  INVALID_RECORD: { code: 3001, status: 400, retriable: false, kafkaCode: 87 },
  MESSAGE_TOO_LARGE: { code: 3002, status: 413, retriable: false, kafkaCode: 10 },
  RECORD_LIST_TOO_LARGE: { code: 3003, status: 413, retriable: false, kafkaCode: 18 },
  UNSUPPORTED_COMPRESSION_TYPE: { code: 3004, status: 415, retriable: false, kafkaCode: 76 },
  UNSUPPORTED_MAGIC: { code: 3005, status: 400, retriable: false, kafkaCode: 87 },
  INVALID_TIMESTAMP: { code: 3006, status: 400, retriable: false, kafkaCode: 32 },
  DISK_FULL: { code: 4000, status: 507, retriable: true, kafkaCode: 56 },
  STORAGE_ERROR: { code: 4001, status: 500, retriable: true, kafkaCode: 56 },
  LOG_CLOSED: { code: 4002, status: 503, retriable: true, kafkaCode: 56 },
  INVALID_CONFIG: { code: 5000, status: 400, retriable: false, kafkaCode: 40 },
  /** No route for that method and path. */
  NOT_FOUND: { code: 1001, status: 404, retriable: false, kafkaCode: 42 },
  /** A request body or record count above the gateway's limits (lib/gateway/limits.ts). */
  REQUEST_TOO_LARGE: { code: 1002, status: 413, retriable: false, kafkaCode: 10 },
  /** A body whose Content-Type the route does not take (JSON vs raw RecordBatch bytes). */
  UNSUPPORTED_MEDIA_TYPE: { code: 1003, status: 415, retriable: false, kafkaCode: 42 },
  /**
   * An idempotent producer's batch skips or repeats part of a sequence (not a whole cached batch).
   * 409: the body is well formed; it conflicts with what the partition already holds from that
   * producer. Not retriable as is: the producer must resend from the right sequence or bump its epoch.
   */
  OUT_OF_ORDER_SEQUENCE_NUMBER: { code: 3007, status: 409, retriable: false, kafkaCode: 45 },
  /**
   * A producer epoch below the one the partition (or the id allocator) has seen: a newer instance of
   * the producer fenced this one. 409 for the same reason; retrying can never succeed.
   */
  INVALID_PRODUCER_EPOCH: { code: 3008, status: 409, retriable: false, kafkaCode: 47 },
} as const;

export type ErrorName = keyof typeof ERRORS;

export class SluiceError extends Error {
  override name = "SluiceError";
  readonly code: number;
  readonly status: number;
  readonly retriable: boolean;
  readonly kafkaCode: number;

  constructor(
    readonly errorName: ErrorName,
    message: string,
    readonly options: { field?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    const entry = ERRORS[errorName];
    this.code = entry.code;
    this.status = entry.status;
    this.retriable = entry.retriable;
    this.kafkaCode = entry.kafkaCode;
  }

  get field(): string | undefined {
    return this.options.field;
  }

  toJSON(): { code: number; name: ErrorName; message: string; field?: string } {
    const body = { code: this.code, name: this.errorName, message: this.message };
    return this.field === undefined ? body : { ...body, field: this.field };
  }
}

export function isSluiceError(error: unknown, name?: ErrorName): error is SluiceError {
  return error instanceof SluiceError && (name === undefined || error.errorName === name);
}
