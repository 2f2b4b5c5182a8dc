// Every error the world can cause Sluice, with a stable numeric code, its HTTP status and whether a
// client may retry. Codes are never reused: retire one by leaving it in the table.
//
// Codes are grouped by area: 1xxx request, 2xxx topics and partitions, 3xxx records and batches,
// 4xxx storage, 5xxx configuration, 6xxx consumer groups, 7xxx WebSocket streams, 8xxx access
// control, 10xxx cluster. kafkaCode names Kafka's nearest error for
// the wire protocol.

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
  /**
   * A topic Sluice keeps for itself (`__consumer_offsets`): only Sluice creates or deletes it. 403: the
   * request is well formed and the topic exists; it is refused by rule, as Kafka refuses writes to it.
   */
  TOPIC_IS_INTERNAL: { code: 2006, status: 403, retriable: false, kafkaCode: 17 },
  // 6xxx: consumer groups (lib/groups/).
  /** No consumer group by that id: it has no members and no committed offsets. */
  GROUP_ID_NOT_FOUND: { code: 6000, status: 404, retriable: false, kafkaCode: 69 },
  /** A group id that is empty or longer than GROUP_ID_BYTES_MAX (lib/groups/limits.ts). */
  INVALID_GROUP_ID: { code: 6001, status: 400, retriable: false, kafkaCode: 24 },
  /**
   * The member is not in the group (it left, was dropped after its session timeout, or missed a
   * rebalance): it must join again without its old id. Also a commit without a member id while the
   * group has members, as Kafka answers it.
   */
  UNKNOWN_MEMBER_ID: { code: 6002, status: 404, retriable: false, kafkaCode: 25 },
  /** The member's generation is not the group's: a rebalance happened; it must join again. */
  ILLEGAL_GENERATION: { code: 6003, status: 409, retriable: false, kafkaCode: 22 },
  /** A heartbeat during a rebalance: the member must join again to get its new assignment. */
  REBALANCE_IN_PROGRESS: { code: 6004, status: 409, retriable: false, kafkaCode: 27 },
  /** Deleting, or resetting the offsets of, a group with active members: they must leave first. */
  NON_EMPTY_GROUP: { code: 6005, status: 409, retriable: false, kafkaCode: 68 },
  /** A session timeout outside Kafka's group.min/max.session.timeout.ms (lib/groups/limits.ts). */
  INVALID_SESSION_TIMEOUT: { code: 6006, status: 400, retriable: false, kafkaCode: 26 },
  /** A join asking for another assignor than the one the group's members use. */
  INCONSISTENT_GROUP_PROTOCOL: { code: 6007, status: 409, retriable: false, kafkaCode: 23 },
  /** A join to a group that already has GROUP_MEMBERS_MAX members (Kafka's group.max.size). */
  GROUP_MAX_SIZE_REACHED: { code: 6008, status: 409, retriable: false, kafkaCode: 81 },
  /** Commit metadata longer than OFFSET_METADATA_BYTES_MAX (Kafka's offset.metadata.max.bytes). */
  OFFSET_METADATA_TOO_LARGE: { code: 6009, status: 400, retriable: false, kafkaCode: 12 },
  // 7xxx: WebSocket streams (/api/v1/ws). Statuses apply where the error can answer HTTP (the upgrade).
  /** GET /api/v1/ws without a WebSocket upgrade. */
  UPGRADE_REQUIRED: { code: 7000, status: 426, retriable: false, kafkaCode: 42 },
  /** The node holds WS_CONNECTIONS_MAX connections already; retry later or elsewhere. */
  TOO_MANY_CONNECTIONS: { code: 7001, status: 503, retriable: true, kafkaCode: 42 },
  /** The connection holds WS_SUBSCRIPTIONS_PER_CONNECTION_MAX subscriptions already. */
  TOO_MANY_SUBSCRIPTIONS: { code: 7002, status: 429, retriable: false, kafkaCode: 42 },
  /** A subscribe frame reuses an id that is still subscribed on this connection. */
  SUBSCRIPTION_EXISTS: { code: 7003, status: 409, retriable: false, kafkaCode: 42 },
  /** A credit or unsubscribe frame names an id with no subscription on this connection. */
  UNKNOWN_SUBSCRIPTION: { code: 7004, status: 404, retriable: false, kafkaCode: 42 },
  /**
   * The next batch (binary) or record (JSON) is larger than the subscription's whole byte credit, or
   * holds more records than its record credit: nothing is sent until the client grants more.
   */
  CREDIT_TOO_SMALL: { code: 7005, status: 400, retriable: true, kafkaCode: 42 },
  /** A frame type the protocol reserves but this node does not serve yet (retired: join and commit are served). */
  NOT_YET_SUPPORTED: { code: 7006, status: 501, retriable: false, kafkaCode: 35 },
  /** A join frame past WS_GROUP_MEMBERS_PER_CONNECTION_MAX members on one connection; leave one first. */
  TOO_MANY_GROUP_MEMBERS: { code: 7007, status: 429, retriable: false, kafkaCode: 81 },
  // 8xxx: access control (lib/auth/). Answered before a request does anything, so they leave no trace.
  /** No token, or one that is unknown or revoked (answered with WWW-Authenticate: Bearer). */
  UNAUTHENTICATED: { code: 8000, status: 401, retriable: false, kafkaCode: 58 },
  /** The token is valid but none of its grants covers this (admin, or produce/consume on the topic). */
  FORBIDDEN: { code: 8001, status: 403, retriable: false, kafkaCode: 29 },
  /** The token produced past its produce rate: wait for Retry-After, then send again. */
  PRODUCE_RATE_LIMITED: { code: 8002, status: 429, retriable: true, kafkaCode: 89 },
  /** No API token by that name. */
  TOKEN_NOT_FOUND: { code: 8003, status: 404, retriable: false, kafkaCode: 58 },
  /** A token by that name exists: names are unique, so a token can be revoked by name. */
  TOKEN_ALREADY_EXISTS: { code: 8004, status: 409, retriable: false, kafkaCode: 58 },
  /** The token comes from the config (authAdminToken, authTokensFile): only the operator removes it. */
  TOKEN_NOT_REVOCABLE: { code: 8005, status: 409, retriable: false, kafkaCode: 58 },
  /** The node holds TOKENS_MAX tokens (lib/auth/limits.ts). */
  TOO_MANY_TOKENS: { code: 8006, status: 409, retriable: false, kafkaCode: 58 },
  // 10xxx: cluster mode (lib/cluster/): replication, leadership, coordination through etcd.
  /** This node does not lead the partition (and the request was already forwarded once). */
  NOT_LEADER_OR_FOLLOWER: { code: 10000, status: 503, retriable: true, kafkaCode: 6 },
  /** The partition has no live leader now (its replicas are down, or an election is under way). */
  LEADER_NOT_AVAILABLE: { code: 10001, status: 503, retriable: true, kafkaCode: 5 },
  /** acks=all while the ISR is smaller than min.insync.replicas: refused before the append. */
  NOT_ENOUGH_REPLICAS: { code: 10002, status: 503, retriable: true, kafkaCode: 19 },
  /** acks=all: appended on the leader, but the ISR fell below min.insync.replicas before it was committed. */
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: { code: 10003, status: 503, retriable: true, kafkaCode: 20 },
  /** acks=all: the ISR did not take the records within ackTimeoutMs; they may still be committed later. */
  REQUEST_TIMED_OUT: { code: 10004, status: 504, retriable: true, kafkaCode: 7 },
  /** A replica request names an older leader epoch than the leader's: the sender is behind. */
  FENCED_LEADER_EPOCH: { code: 10005, status: 409, retriable: true, kafkaCode: 74 },
  /** A replica request names a newer leader epoch than the leader knows: it is behind itself. */
  UNKNOWN_LEADER_EPOCH: { code: 10006, status: 409, retriable: true, kafkaCode: 75 },
  /** A replication factor below 1 or above the live nodes (or above 1 on a single node). */
  INVALID_REPLICATION_FACTOR: { code: 10007, status: 400, retriable: false, kafkaCode: 38 },
  /** etcd cannot be reached: cluster metadata (topics, leadership) cannot change now. */
  COORDINATOR_NOT_AVAILABLE: { code: 10008, status: 503, retriable: true, kafkaCode: 15 },
  /** The group is coordinated by another node (the leader of its __consumer_offsets partition): ask it. */
  NOT_COORDINATOR: { code: 10009, status: 503, retriable: true, kafkaCode: 16 },
  /** A reassignment's replica list is empty, repeats a node or names a node that is not live. */
  INVALID_REPLICA_ASSIGNMENT: { code: 10010, status: 400, retriable: false, kafkaCode: 39 },
  /** Cancel asked for a partition with no reassignment under way. */
  NO_REASSIGNMENT_IN_PROGRESS: { code: 10011, status: 409, retriable: false, kafkaCode: 85 },
  /** The reassignment cannot be cancelled: no original replica is in sync to go back to. */
  REASSIGNMENT_NOT_CANCELLABLE: { code: 10012, status: 409, retriable: false, kafkaCode: 60 },
  /** A cluster request (reassignment) on a node that runs alone. */
  NOT_CLUSTERED: { code: 10013, status: 400, retriable: false, kafkaCode: 35 },
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
