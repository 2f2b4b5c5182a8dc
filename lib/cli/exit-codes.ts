// Exit codes scripts can rely on; documented in the README's CLI section. Never renumber one.
export const EXIT = {
  /** Done as asked. */
  ok: 0,
  /** Anything else that went wrong: the node answered an error, an I/O failure, a bug. */
  failure: 1,
  /** Bad command line, flags, environment or config file: nothing was done. */
  usage: 2,
  /** The node could not be reached (connection refused, DNS, timeout). */
  unavailable: 3,
  /** What the command names does not exist (HTTP 404: topic, partition, group). */
  notFound: 4,
  /** The request conflicts with the node's state (HTTP 409: topic exists, group not empty). */
  conflict: 5,
  /** `sluice check` found damage (a corrupt or torn batch, an inconsistent index). */
  damageFound: 6,
  /** `sluice serve` did not stop cleanly: a second signal, or the shutdown timeout passed. */
  forcedShutdown: 7,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
