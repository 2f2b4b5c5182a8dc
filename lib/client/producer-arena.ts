// Memory a partition's batches are written into back to back: the batches one request carries then
// sit side by side, so the request body is a view of them (no concatenation), and a full-size arena
// is used again once every batch in it was answered (warm memory: no page faults, no zeroing on the
// hot path). An arena whose request failed is never reused: the HTTP layer may still hold its bytes.

export class Arena {
  /** Bytes handed out from the start: sealed batches, then the open one's start. */
  used = 0;
  #pending = 0;
  #retired = false;
  #poisoned = false;

  constructor(
    readonly bytes: Uint8Array,
    readonly pool: ArenaPool | undefined,
  ) {}

  get free(): number {
    return this.bytes.length - this.used;
  }

  /** A batch starts here; it holds the arena until released. */
  hold(): void {
    this.#pending++;
  }

  /** A batch in it was answered (`reusable`: its request succeeded, nothing holds its bytes). */
  release(reusable: boolean): void {
    if (!reusable) this.#poisoned = true;
    this.#pending--;
    this.#recycleIfDone();
  }

  /** No more batches go in: the partition moved on to another arena. */
  retire(): void {
    this.#retired = true;
    this.#recycleIfDone();
  }

  #recycleIfDone(): void {
    if (this.#retired && this.#pending === 0 && !this.#poisoned) this.pool?.give(this);
  }
}

/** Free full-size arenas of one producer, at most `keepMax` of them. */
export class ArenaPool {
  readonly #free: Arena[] = [];

  constructor(
    /** Size of a full arena: the largest request. */
    readonly arenaBytes: number,
    readonly keepMax: number,
  ) {}

  /**
   * An empty arena of at least `minBytes`, preferring `wantBytes`: a reused full-size one when
   * that size is wanted, else a fresh one (only full-size arenas come back to the pool).
   */
  take(minBytes: number, wantBytes: number): Arena {
    const bytes = Math.max(minBytes, Math.min(wantBytes, this.arenaBytes));
    if (bytes === this.arenaBytes) {
      const reused = this.#free.pop();
      if (reused !== undefined) return new Arena(reused.bytes, this);
      return new Arena(new Uint8Array(bytes), this);
    }
    return new Arena(new Uint8Array(bytes), undefined);
  }

  give(arena: Arena): void {
    if (arena.bytes.length === this.arenaBytes && this.#free.length < this.keepMax) this.#free.push(arena);
  }
}
