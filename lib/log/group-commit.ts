// Group commit: many appends that want durability share one fdatasync. A request made while a sync is
// running waits for the next one (its bytes may have missed the running one); every request made
// during that time joins the same next sync.

export class GroupCommit {
  #running: Promise<void> | undefined;
  #next: Promise<void> | undefined;
  #syncs = 0;

  constructor(readonly sync: () => Promise<void>) {}

  /** The sync running now, if any: whoever closes files must let it finish first. */
  get running(): Promise<void> | undefined {
    return this.#running;
  }

  /** How many syncs ran; tests use it to see requests being grouped. */
  get syncCount(): number {
    return this.#syncs;
  }

  /** Resolves once everything written before this call is durable. */
  request(): Promise<void> {
    if (this.#running === undefined) return this.#start();
    this.#next ??= this.#running
      .catch(() => undefined)
      .then(() => {
        this.#next = undefined;
        return this.#start();
      });
    return this.#next;
  }

  #start(): Promise<void> {
    this.#syncs++;
    const running = this.sync().finally(() => {
      if (this.#running === running) this.#running = undefined;
    });
    this.#running = running;
    return running;
  }
}
