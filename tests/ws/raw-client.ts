// A WebSocket client over a plain TCP socket (RFC 6455 framing by hand), for the one thing Bun's
// WebSocket cannot do: stop reading, so the server meets real TCP backpressure, and read again later.
import { connect, type Socket } from "node:net";

const OPCODE_TEXT = 0x1;
const OPCODE_BINARY = 0x2;
const OPCODE_CLOSE = 0x8;

export interface RawFrame {
  opcode: number;
  payload: Uint8Array;
}

export class RawWebSocket {
  #buffer = new Uint8Array(0);
  readonly frames: RawFrame[] = [];
  /** Bytes of frames received so far. */
  receivedBytes = 0;

  private constructor(readonly socket: Socket) {}

  /** Connects and completes the handshake; frames are parsed as they arrive while reading. */
  static async connect(port: number, path: string): Promise<RawWebSocket> {
    const socket = connect(port, "127.0.0.1");
    const client = new RawWebSocket(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.write(
          `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        );
      });
      let handshake = "";
      const onData = (chunk: Buffer) => {
        handshake += chunk.toString("latin1");
        const end = handshake.indexOf("\r\n\r\n");
        if (end === -1) return;
        socket.off("data", onData);
        if (!handshake.startsWith("HTTP/1.1 101")) return reject(new Error(handshake.split("\r\n")[0]));
        socket.on("data", (data: Buffer) => client.#receive(new Uint8Array(data)));
        const rest = Buffer.from(handshake.slice(end + 4), "latin1");
        if (rest.length > 0) client.#receive(new Uint8Array(rest));
        resolve();
      };
      socket.on("data", onData);
    });
    return client;
  }

  /** Sends a masked text frame, as a client must. */
  sendText(text: string): void {
    const payload = new TextEncoder().encode(text);
    const lengthBytes = payload.length < 126 ? 0 : payload.length < 65536 ? 2 : 8;
    const frame = new Uint8Array(2 + lengthBytes + 4 + payload.length);
    const view = new DataView(frame.buffer);
    frame[0] = 0x80 | OPCODE_TEXT;
    if (lengthBytes === 0) frame[1] = 0x80 | payload.length;
    else if (lengthBytes === 2) {
      frame[1] = 0x80 | 126;
      view.setUint16(2, payload.length);
    } else {
      frame[1] = 0x80 | 127;
      view.setBigUint64(2, BigInt(payload.length));
    }
    const maskAt = 2 + lengthBytes;
    const mask = [0x12, 0x34, 0x56, 0x78];
    frame.set(mask, maskAt);
    for (let i = 0; i < payload.length; i++) frame[maskAt + 4 + i] = payload[i]! ^ mask[i % 4]!;
    this.socket.write(frame);
  }

  send(frame: unknown): void {
    this.sendText(JSON.stringify(frame));
  }

  /** Stops reading: the kernel's buffers fill, then the server's sends meet backpressure. */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  close(): void {
    this.socket.destroy();
  }

  /** JSON text frames received, parsed. */
  get texts(): unknown[] {
    return this.frames
      .filter((f) => f.opcode === OPCODE_TEXT)
      .map((f) => JSON.parse(new TextDecoder().decode(f.payload)));
  }

  get binaries(): Uint8Array[] {
    return this.frames.filter((f) => f.opcode === OPCODE_BINARY).map((f) => f.payload);
  }

  get closedByServer(): boolean {
    return this.frames.some((f) => f.opcode === OPCODE_CLOSE);
  }

  #receive(chunk: Uint8Array): void {
    const joined = new Uint8Array(this.#buffer.length + chunk.length);
    joined.set(this.#buffer);
    joined.set(chunk, this.#buffer.length);
    let position = 0;
    for (;;) {
      const frame = parseFrame(joined, position);
      if (frame === undefined) break;
      this.frames.push({ opcode: frame.opcode, payload: frame.payload });
      this.receivedBytes += frame.payload.length;
      position = frame.end;
    }
    this.#buffer = joined.slice(position);
  }
}

/** One unmasked, unfragmented server frame at `position`, or undefined when it is not all there yet. */
function parseFrame(bytes: Uint8Array, position: number): (RawFrame & { end: number }) | undefined {
  if (bytes.length - position < 2) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const opcode = bytes[position]! & 0x0f;
  let length = bytes[position + 1]! & 0x7f;
  let start = position + 2;
  if (length === 126) {
    if (bytes.length < start + 2) return undefined;
    length = view.getUint16(start);
    start += 2;
  } else if (length === 127) {
    if (bytes.length < start + 8) return undefined;
    length = Number(view.getBigUint64(start));
    start += 8;
  }
  if (bytes.length < start + length) return undefined;
  return { opcode, payload: bytes.slice(start, start + length), end: start + length };
}
