// Sends one connection's frames and keeps its backpressure state. After a send answers
// "backpressure" the socket holds the frame and wants nothing more: records frames wait for drain.
// Replies (subscribed, produced, error) still go, each answering one client frame, with Bun's send
// buffer bounded by WS_SEND_BUFFER_BYTES_MAX; a dropped frame ends the connection, since a stream
// with a hole in it is worse than none.
import type { SendOutcome, WebSocketPeer } from "../platform/http-server.ts";

export class FrameSender {
  #paused = false;
  #dropped = false;

  constructor(
    readonly peer: WebSocketPeer,
    /** Called once, when a frame is dropped: the connection must close. */
    readonly onDropped: () => void,
  ) {}

  /** Whether a records frame may go now: no backpressure, nothing dropped. */
  get writable(): boolean {
    return !this.#paused && !this.#dropped;
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** Sends a frame; false when it was dropped (the connection is then closing). */
  send(frame: string | Uint8Array): boolean {
    if (this.#dropped) return false;
    const outcome: SendOutcome = this.peer.send(frame);
    if (outcome === "backpressure") this.#paused = true;
    if (outcome !== "dropped") return true;
    this.#dropped = true;
    this.onDropped();
    return false;
  }

  /** The platform's drain: the send buffer has room again. */
  drained(): void {
    this.#paused = false;
  }
}
