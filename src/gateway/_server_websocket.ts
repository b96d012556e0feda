// Copyright 2026 the midisock authors. MIT license.
// Private: the server's end of a WebSocket (RFC 6455) over a connection
// that the gateway accepted and upgraded itself. Deno.upgradeWebSocket
// takes only a request of Deno.serve's (which owns its accept loop) or a
// node:net socket, so this is the WebSocket of a connection that the
// gateway's own accept loop took in. It has the part of the WebSocket
// interface that WebSocketTransport uses (readyState, binaryType,
// bufferedAmount, send, close, and the message and close events), and
// speaks the protocol without extensions: no compression, no subprotocol.

import { sleep, timeoutSignal, whenAborted } from "../util/abort.ts";
import { writeAll } from "../util/write_all.ts";

const TEXT = new TextEncoder();

/** The GUID of RFC 6455's handshake. */
const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

// readyState, as a browser's WebSocket has it.
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

// Opcodes.
const CONTINUATION = 0x0;
const TEXT_FRAME = 0x1;
const BINARY_FRAME = 0x2;
const CLOSE_FRAME = 0x8;
const PING = 0x9;
const PONG = 0xa;

// Close codes: 1002 a protocol error; 1006 (never sent) no close frame;
// 1007 text that is not UTF-8; 1009 too big.
const PROTOCOL_ERROR = 1002;
const NO_STATUS = 1005;
const ABNORMAL = 1006;
const BAD_DATA = 1007;
const TOO_BIG = 1009;

/** A read's room when the buffer has nothing in it. */
const READ_BYTES = 16 * 1024;

/**
 * The value of `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`.
 *
 * @param key The client's key.
 * @returns base64(SHA-1(key + GUID)).
 */
export async function acceptKey(key: string): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-1", TEXT.encode(key + GUID)),
  );
  return btoa(String.fromCharCode(...digest));
}

/** Whether a `Sec-WebSocket-Key` is 16 bytes in base64, as RFC 6455 says. */
export function validKey(key: string | null): key is string {
  return key !== null && /^[A-Za-z0-9+/]{21}[AQgw]==$/.test(key);
}

/** Whether a close code may come in a close frame. */
function validCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
    (code >= 3000 && code <= 4999);
}

/** Options for {@linkcode ServerWebSocket}. */
export interface ServerWebSocketOptions {
  /** The page's URL of the socket, as `WebSocket.url`. */
  url: string;
  /**
   * The most bytes of one message (all its frames): one with more closes
   * the socket (code 1009) before more of it is read.
   */
  maxMessageBytes: number;
  /**
   * The close reason for a message over `maxMessageBytes`: a frame of
   * `bytes` (`whole`), or a message in frames of at least `bytes`; called
   * once, as the socket closes for it.
   */
  tooBig: (bytes: number, whole: boolean) => string;
  /**
   * Silence from the peer for this long sends a ping; as long again with
   * nothing heard closes the connection (code 1006), as a browser that
   * vanished never answers.
   *
   * @default {30000}
   */
  idleTimeout?: number;
  /**
   * How long a close waits for the peer's close frame, and for what is
   * still to be sent, before it closes the connection.
   *
   * @default {2000}
   */
  closeTimeout?: number;
}

/**
 * The server's end of a WebSocket over an accepted connection whose
 * upgrade has been answered (101). It is open from the start, and reads
 * once {@linkcode ServerWebSocket.start} is called, so that its first
 * messages find their listeners.
 */
export class ServerWebSocket extends EventTarget {
  /** How binary messages are given: `arraybuffer` or `blob`. */
  binaryType: BinaryType = "blob";
  /** The socket's URL. */
  readonly url: string;
  /** No subprotocol is chosen. */
  readonly protocol = "";
  /** No extension is chosen. */
  readonly extensions = "";
  /** Resolves when the connection is closed and `close` has fired. */
  readonly done: Promise<void>;
  #started = Promise.withResolvers<Uint8Array>();
  #conn: Deno.Conn;
  #options: Required<ServerWebSocketOptions>;
  #state = OPEN;
  #buf = new Uint8Array(0);
  #start = 0;
  #end = 0;
  #heard = false;
  #fragments: Uint8Array[] = [];
  #fragmentBytes = 0;
  #fragmentType = 0;
  #queue: Uint8Array[] = [];
  #buffered = 0;
  #pumping: Promise<void> | undefined;
  #closeSent = false;
  #peerClose: { code: number; reason: string } | undefined;
  #failed = false;
  #stop = new AbortController();

  /**
   * Wraps a connection whose upgrade has been answered.
   *
   * @param conn The connection, which the socket owns from now on.
   * @param options Its URL, bounds and timeouts.
   */
  constructor(conn: Deno.Conn, options: ServerWebSocketOptions) {
    super();
    this.#conn = conn;
    this.url = options.url;
    this.#options = { idleTimeout: 30_000, closeTimeout: 2000, ...options };
    this.done = this.#started.promise.then((head) => this.#run(head));
  }

  /** `OPEN`, `CLOSING` (1, 2, 3), or `CLOSED`, as a WebSocket's. */
  get readyState(): number {
    return this.#state;
  }

  /** Bytes given to send() and not yet written to the connection. */
  get bufferedAmount(): number {
    return this.#buffered;
  }

  /**
   * Starts reading.
   *
   * @param head Bytes read past the upgrade request: the first frames.
   */
  start(head: Uint8Array): void {
    this.#started.resolve(head);
  }

  /**
   * Sends a message: text for a string, else binary.
   *
   * @param data What to send.
   */
  send(data: string | ArrayBufferLike | ArrayBufferView): void {
    if (this.#state !== OPEN) return; // as a WebSocket does: dropped
    if (typeof data === "string") {
      this.#frame(TEXT_FRAME, TEXT.encode(data));
    } else if (ArrayBuffer.isView(data)) {
      this.#frame(
        BINARY_FRAME,
        new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      );
    } else {
      this.#frame(BINARY_FRAME, new Uint8Array(data));
    }
  }

  /**
   * Starts the closing handshake: a close frame with the code and reason,
   * then the connection closes once the peer answers (or after
   * `closeTimeout`).
   *
   * @param code A close code, 1000 to 4999.
   * @param reason At most 123 bytes of UTF-8.
   */
  close(code?: number, reason?: string): void {
    if (
      code !== undefined &&
      (!Number.isInteger(code) || code < 1000 || code > 4999)
    ) {
      throw new DOMException(
        `Invalid close code ${code}: expected 1000..4999`,
        "InvalidAccessError",
      );
    }
    const why = TEXT.encode(reason ?? "");
    if (why.length > 123) {
      throw new DOMException(
        `Invalid close reason: ${why.length} bytes, over 123`,
        "SyntaxError",
      );
    }
    if (this.#state !== OPEN) return;
    this.#state = CLOSING;
    this.#sendClose(code, why);
    this.#deadline();
  }

  // The connection closes after closeTimeout, whatever happens.
  #deadline(): void {
    const timeout = timeoutSignal(this.#options.closeTimeout);
    this.done.finally(() => timeout[Symbol.dispose]());
    whenAborted(timeout.signal).then(() => this.#abort());
  }

  #sendClose(code: number | undefined, why = new Uint8Array(0)): void {
    if (this.#closeSent) return;
    this.#closeSent = true;
    if (code === undefined) {
      this.#frame(CLOSE_FRAME, new Uint8Array(0));
      return;
    }
    const payload = new Uint8Array(2 + why.length);
    payload[0] = code >> 8;
    payload[1] = code & 0xff;
    payload.set(why, 2);
    this.#frame(CLOSE_FRAME, payload);
  }

  // Fails the connection: a close frame with `code` (unless one went),
  // then the connection closes; the close event says 1006.
  #fail(code: number, reason: string): void {
    this.#failed = true;
    this.#state = CLOSING;
    let why = TEXT.encode(reason);
    if (why.length > 123) why = why.subarray(0, 123);
    this.#sendClose(code, why);
  }

  // Closes the connection at once: any read or write of it ends.
  #abort(): void {
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
  }

  #frame(opcode: number, payload: Uint8Array): void {
    const length = payload.length;
    const head = length < 126 ? 2 : length < 65536 ? 4 : 10;
    const frame = new Uint8Array(head + length);
    frame[0] = 0x80 | opcode;
    if (length < 126) {
      frame[1] = length;
    } else if (length < 65536) {
      frame[1] = 126;
      frame[2] = length >> 8;
      frame[3] = length & 0xff;
    } else {
      frame[1] = 127;
      const view = new DataView(frame.buffer);
      view.setUint32(2, Math.floor(length / 2 ** 32));
      view.setUint32(6, length >>> 0);
    }
    frame.set(payload, head);
    this.#queue.push(frame);
    this.#buffered += frame.length;
    this.#pumping ??= this.#pump();
  }

  // Writes what is queued, as one write for all that waits.
  async #pump(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const frames = this.#queue.splice(0);
        let bytes = frames[0];
        if (frames.length > 1) {
          bytes = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
          let at = 0;
          for (const frame of frames) {
            bytes.set(frame, at);
            at += frame.length;
          }
        }
        await writeAll(this.#conn, bytes);
        this.#buffered -= bytes.length;
      }
    } catch {
      // The connection failed or closed: the read loop ends too.
      this.#queue.length = 0;
      this.#buffered = 0;
      this.#abort();
    } finally {
      this.#pumping = undefined;
    }
  }

  async #run(head: Uint8Array): Promise<void> {
    this.#buf = new Uint8Array(Math.max(READ_BYTES, head.length));
    this.#buf.set(head);
    this.#end = head.length;
    const keepAlive = this.#keepAlive();
    try {
      await this.#readFrames();
      // Failed: our close frame goes, then the end of our side, and what
      // the peer still sends is read and dropped until it closes (or the
      // close timeout): a connection closed with bytes unread is reset,
      // which can lose the close frame on its way.
      if (this.#failed) {
        this.#deadline();
        await this.#pumping;
        await this.#conn.closeWrite();
        while (await this.#conn.read(this.#buf) !== null);
      }
    } catch {
      // The connection failed, or was closed under the read.
    }
    this.#stop.abort();
    await keepAlive;
    if (this.#state === OPEN) this.#state = CLOSING;
    // What is still queued (our close frame) goes first, within the
    // close timeout.
    if (this.#pumping) {
      using timeout = timeoutSignal(this.#options.closeTimeout);
      await Promise.race([this.#pumping, whenAborted(timeout.signal)]);
    }
    this.#abort();
    await this.#pumping;
    this.#state = CLOSED;
    const peer = this.#peerClose;
    const clean = peer !== undefined && !this.#failed;
    this.dispatchEvent(
      new CloseEvent("close", {
        code: clean ? peer.code : ABNORMAL,
        reason: clean ? peer.reason : "",
        wasClean: clean,
      }),
    );
  }

  // Reads frames until the peer's close frame, a failure, or the end of
  // the connection.
  async #readFrames(): Promise<void> {
    while (!this.#failed) {
      if (!await this.#need(2)) return;
      let buf = this.#buf;
      let at = this.#start;
      const b0 = buf[at];
      const b1 = buf[at + 1];
      const fin = (b0 & 0x80) !== 0;
      const opcode = b0 & 0x0f;
      let length = b1 & 0x7f;
      let head = 2;
      if (length === 126) {
        head = 4;
      } else if (length === 127) {
        head = 10;
      }
      if (!await this.#need(head)) return;
      buf = this.#buf;
      at = this.#start;
      if (head === 4) {
        length = (buf[at + 2] << 8) | buf[at + 3];
      } else if (head === 10) {
        const view = new DataView(buf.buffer, at + 2, 8);
        length = view.getUint32(0) * 2 ** 32 + view.getUint32(4);
      }
      if ((b0 & 0x70) !== 0) {
        return this.#fail(PROTOCOL_ERROR, "a frame with reserved bits set");
      }
      if ((b1 & 0x80) === 0) {
        return this.#fail(PROTOCOL_ERROR, "an unmasked frame from a client");
      }
      if (opcode >= CLOSE_FRAME) {
        if (opcode > PONG) {
          return this.#fail(PROTOCOL_ERROR, `an unknown opcode ${opcode}`);
        }
        if (!fin || length > 125) {
          return this.#fail(PROTOCOL_ERROR, "a bad control frame");
        }
      } else {
        if (opcode > BINARY_FRAME) {
          return this.#fail(PROTOCOL_ERROR, `an unknown opcode ${opcode}`);
        }
        if ((opcode === CONTINUATION) !== (this.#fragmentType !== 0)) {
          return this.#fail(PROTOCOL_ERROR, "a frame out of sequence");
        }
        const bytes = this.#fragmentBytes + length;
        if (bytes > this.#options.maxMessageBytes) {
          const whole = fin && opcode !== CONTINUATION;
          return this.#fail(TOO_BIG, this.#options.tooBig(bytes, whole));
        }
      }
      if (!await this.#need(head + 4 + length)) return;
      buf = this.#buf;
      at = this.#start + head;
      const payload = buf.slice(at + 4, at + 4 + length);
      for (let i = 0; i < length; i++) payload[i] ^= buf[at + (i & 3)];
      this.#start = at + 4 + length;
      if (opcode === CLOSE_FRAME) return this.#closeFrame(payload);
      if (opcode === PING) {
        if (this.#state === OPEN) this.#frame(PONG, payload);
      } else if (opcode !== PONG) {
        this.#data(opcode, fin, payload);
      }
    }
  }

  // A data frame: a whole message, or part of one.
  #data(opcode: number, fin: boolean, payload: Uint8Array): void {
    if (!fin || this.#fragmentType !== 0) {
      if (this.#fragmentType === 0) this.#fragmentType = opcode;
      this.#fragments.push(payload);
      this.#fragmentBytes += payload.length;
      if (!fin) return;
      opcode = this.#fragmentType;
      payload = new Uint8Array(this.#fragmentBytes);
      let at = 0;
      for (const part of this.#fragments) {
        payload.set(part, at);
        at += part.length;
      }
      this.#fragments = [];
      this.#fragmentBytes = 0;
      this.#fragmentType = 0;
    }
    let data: string | ArrayBuffer | Blob;
    if (opcode === TEXT_FRAME) {
      try {
        data = new TextDecoder("utf-8", { fatal: true }).decode(payload);
      } catch {
        return this.#fail(BAD_DATA, "a text message that is not UTF-8");
      }
    } else {
      // The payload is a copy, the whole of its own buffer.
      const bytes = payload as Uint8Array<ArrayBuffer>;
      data = this.binaryType === "blob" ? new Blob([bytes]) : bytes.buffer;
    }
    // A WebSocket that is closing gives no more messages.
    if (this.#state !== OPEN) return;
    this.dispatchEvent(new MessageEvent("message", { data }));
  }

  // The peer's close frame: answered with one (unless one went), then the
  // connection closes.
  #closeFrame(payload: Uint8Array): void {
    let code = NO_STATUS;
    let reason = "";
    if (payload.length === 1) {
      return this.#fail(PROTOCOL_ERROR, "a close frame of 1 byte");
    }
    if (payload.length >= 2) {
      code = (payload[0] << 8) | payload[1];
      if (!validCode(code)) {
        return this.#fail(PROTOCOL_ERROR, `a close code ${code}`);
      }
      try {
        reason = new TextDecoder("utf-8", { fatal: true }).decode(
          payload.subarray(2),
        );
      } catch {
        return this.#fail(BAD_DATA, "a close reason that is not UTF-8");
      }
    }
    this.#peerClose = { code, reason };
    this.#state = CLOSING;
    this.#sendClose(code === NO_STATUS ? undefined : code);
  }

  // Makes `n` bytes of the buffer from #start readable, reading as need
  // be: false if the connection ends first.
  async #need(n: number): Promise<boolean> {
    if (this.#start === this.#end) this.#start = this.#end = 0;
    while (this.#end - this.#start < n) {
      if (this.#buf.length - this.#start < n) {
        // Too little room after #start: move what is held to the front,
        // in a bigger buffer if it does not fit; back to a small one once
        // a big message has gone.
        const held = this.#buf.subarray(this.#start, this.#end);
        const size = Math.max(READ_BYTES, n);
        const buf = this.#buf.length < n || this.#buf.length > 4 * size
          ? new Uint8Array(size)
          : this.#buf;
        buf.set(held);
        this.#buf = buf;
        this.#start = 0;
        this.#end = held.length;
      }
      const read = await this.#conn.read(this.#buf.subarray(this.#end));
      if (read === null) return false;
      this.#end += read;
      this.#heard = true;
    }
    return true;
  }

  // While the socket is open: a ping after idleTimeout of silence, and the
  // end of the connection after as long again.
  async #keepAlive(): Promise<void> {
    const stop = this.#stop.signal;
    let pinged = false;
    while (true) {
      await sleep(this.#options.idleTimeout, stop);
      if (stop.aborted) return;
      if (this.#heard) {
        this.#heard = false;
        pinged = false;
      } else if (pinged) {
        this.#abort();
        return;
      } else if (this.#state === OPEN) {
        this.#frame(PING, new Uint8Array(0));
        pinged = true;
      }
    }
  }
}
