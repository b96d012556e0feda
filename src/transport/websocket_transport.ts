// Copyright 2026 the midisock authors. MIT license.

import { HELLO_MAGIC, MAX_SENDER } from "./hello.ts";
import type { Transport } from "./transport.ts";

const TEXT = new TextEncoder();

/** Options for {@linkcode WebSocketTransport}. */
export interface WebSocketTransportOptions {
  /**
   * The peer's address, where it is known (a server knows it from the HTTP
   * connection that was upgraded). A server's `allow` list checks it, and
   * a port takes its name from it.
   */
  remoteAddr?: Deno.Addr;
  /** The address of this end, where it is known. */
  localAddr?: Deno.Addr;
  /**
   * The most bytes of received frames that may wait unread. A WebSocket
   * cannot tell its peer to pause, so a frame that would make more than
   * this wait closes the socket (code 1008), and a single frame bigger than
   * this closes it too (code 1009, "message too big"), whether anyone
   * reads or not (before a server has read a client's hello line, say).
   * Either errors the readable, which drops what it held: the port sees a
   * failed connection, as after a reset, not a silent loss; and `onLimit`
   * hears why.
   *
   * @default {1048576}
   */
  maxUnreadBytes?: number;
  /**
   * Called once when the transport closes the socket for `maxUnreadBytes`,
   * with the reason (also the close frame's), so that its owner can count
   * it and report it: the browser gateway does.
   */
  onLimit?: (reason: string) => void;
  /**
   * A write waits while the socket holds more than this many bytes not yet
   * sent (its `bufferedAmount`), so that a port's queue, and the hub's
   * slow-client rule, measure a slow peer as they do over TCP.
   *
   * @default {65536}
   */
  maxBufferedAmount?: number;
  /**
   * For a server's end: the peer asked to be told who sent each message
   * (the browser gateway sets this for `/ws?senders=1`), so a port over
   * this transport sends each sender's name in a text frame before that
   * sender's messages (see {@linkcode Transport.senders}). A client's end
   * has no use for it: a client asks with the URL, and a
   * {@linkcode SocketPort} that reads the frames skips the lines (it has no
   * way to hand a sender's name on; a page reads them itself).
   *
   * @default {false}
   */
  senders?: boolean;
}

// A WebSocket has no event for "bufferedAmount went down": a write that
// waits for it looks again every this many milliseconds.
const DRAIN_POLL_MS = 5;

// Close codes: 1000 normal; 1008 policy (too much unread); 1009 a frame too
// big; 4000 refused, with the reason (the server's reject reason, such as
// "wrong token").
const NORMAL = 1000;
const POLICY = 1008;
const TOO_BIG = 1009;
const REFUSED = 4000;

// A sender line, exactly as a server writes one (_hello.ts senderLine): no
// hello line is one (a hello line ends with a line feed, and names no
// `from`).
const SENDER_LINE = new RegExp(
  `^${HELLO_MAGIC}( from=[A-Za-z0-9._~%-]{0,${MAX_SENDER}})?$`,
);

/** Whether a text frame is a sender line: `MIDISOCK/1 from=NAME`, or bare. */
function isSenderLine(text: string): boolean {
  return SENDER_LINE.test(text);
}

/** A close reason cut to the 123 bytes of UTF-8 that a close frame holds. */
function closeReason(reason: string): string {
  const bytes = TEXT.encode(reason);
  if (bytes.length <= 123) return reason;
  return new TextDecoder().decode(bytes.subarray(0, 120)).replace(
    /\uFFFD$/,
    "",
  ) +
    "...";
}

/**
 * A WebSocket as a {@linkcode Transport}: binary frames carry the same plain
 * MIDI bytes as a TCP stream, so a browser (or any WebSocket peer) joins a
 * bus as one more client. It wraps a socket in any state: one that
 * `Deno.upgradeWebSocket` gave (it opens once the response is sent), or a
 * client's `new WebSocket(url)`. Writes made before it opens wait for it.
 *
 * - A frame's bytes are the stream's next bytes, whatever the frame
 *   boundaries: a message may span frames, and a frame may hold many. A
 *   text frame counts as its UTF-8 bytes, so a hello line may be a text
 *   frame; but a sender line (`MIDISOCK/1 from=NAME`, with no line feed,
 *   which a server sends a peer that asked for the senders' names) is
 *   skipped, for it is no MIDI.
 * - A WebSocket cannot half-close: closing the writable sends what is
 *   buffered, then closes the socket (code 1000).
 * - `close(reason)` closes at once; with a reason, with code 4000 and that
 *   reason (at most 123 bytes), which a page can show: a PortServer gives
 *   the reason it refused a client, such as `wrong token`.
 *
 * @example A port over a WebSocket, end to end
 * ```ts
 * import { message, SocketPort, WebSocketTransport } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * const accepted = Promise.withResolvers<SocketPort>();
 * await using http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
 *   const { socket, response } = Deno.upgradeWebSocket(req);
 *   accepted.resolve(new SocketPort(new WebSocketTransport(socket), { name: "browser" }));
 *   return response;
 * });
 * const ws = new WebSocket(`ws://127.0.0.1:${http.addr.port}/`);
 * await using client = new SocketPort(new WebSocketTransport(ws), { name: "client" });
 * await using server = await accepted.promise;
 * await client.send(message("note_on", { note: 60 }));
 * assert.deepEqual(await server.receive(), message("note_on", { note: 60 }));
 * ```
 */
export class WebSocketTransport implements Transport {
  #socket: WebSocket;
  #closed = false;
  #maxUnread: number;
  #maxBuffered: number;
  #onLimit: ((reason: string) => void) | undefined;
  #unread = 0;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #opened: Promise<void>;
  /** The peer's address, if it was given. */
  readonly remoteAddr?: Deno.Addr;
  /** This end's address, if it was given. */
  readonly localAddr?: Deno.Addr;
  /** Whether the peer asked for the senders' names. */
  readonly senders: boolean;
  /** The bytes of the peer's frames. It ends when the socket closes. */
  readonly readable: ReadableStream<Uint8Array>;
  /** The bytes to send, one binary frame a write. */
  readonly writable: WritableStream<Uint8Array>;

  /**
   * Wraps a WebSocket. The transport owns it from now on.
   *
   * @param socket A WebSocket, connecting or open.
   * @param options Its addresses, and its bounds.
   */
  constructor(socket: WebSocket, options: WebSocketTransportOptions = {}) {
    this.#socket = socket;
    this.remoteAddr = options.remoteAddr;
    this.localAddr = options.localAddr;
    this.senders = options.senders ?? false;
    this.#maxUnread = options.maxUnreadBytes ?? 1024 * 1024;
    this.#maxBuffered = options.maxBufferedAmount ?? 64 * 1024;
    this.#onLimit = options.onLimit;
    // Every frame must fit maxUnreadBytes: 0 would refuse them all.
    for (
      const [field, value, least] of [
        ["maxUnreadBytes", this.#maxUnread, 1],
        ["maxBufferedAmount", this.#maxBuffered, 0],
      ] as const
    ) {
      if (!Number.isInteger(value) || value < least) {
        throw new RangeError(
          `Invalid ${field} option: expected an integer >= ${least}, got ${value}`,
        );
      }
    }
    socket.binaryType = "arraybuffer";
    const opened = Promise.withResolvers<void>();
    this.#opened = opened.promise;
    this.#opened.catch(() => {});
    let open = socket.readyState === WebSocket.OPEN;
    if (open) opened.resolve();
    socket.addEventListener("open", () => {
      open = true;
      opened.resolve();
    });
    this.readable = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
      },
      pull: () => {
        this.#unread = 0; // the reader has taken everything queued
      },
      cancel: () => this.close(),
    }, { highWaterMark: 0 });
    socket.addEventListener("message", (event) => this.#receive(event.data));
    socket.addEventListener("close", (event) => {
      // An error only where someone will see it: a write waiting for the
      // socket to open, or a reader of a socket that did not close cleanly.
      const why = () =>
        `(code ${event.code}${event.reason ? `: ${event.reason}` : ""})`;
      if (!open) {
        opened.reject(new Error(`WebSocket closed before it opened ${why()}`));
      }
      this.#end(
        event.wasClean || this.#closed
          ? undefined
          : new Error(`WebSocket closed abnormally ${why()}`),
      );
    });
    this.writable = new WritableStream<Uint8Array>({
      write: (chunk) => this.write(chunk),
      close: () => this.closeWrite(),
      abort: () => this.close(),
    });
  }

  #receive(data: unknown): void {
    if (this.#closed) return;
    // A line naming the sender of what follows (Transport.senders) is no
    // MIDI: it would read as data bytes after a status.
    if (typeof data === "string" && isSenderLine(data)) return;
    const bytes = typeof data === "string"
      ? TEXT.encode(data)
      : data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : undefined;
    if (bytes === undefined || bytes.length === 0) return;
    if (bytes.length > this.#maxUnread) {
      this.#overLimit(
        TOO_BIG,
        `a frame of ${bytes.length} bytes, over maxUnreadBytes (${this.#maxUnread})`,
      );
    } else if (this.#unread + bytes.length > this.#maxUnread) {
      this.#overLimit(
        POLICY,
        `more than ${this.#maxUnread} bytes received and not yet read`,
      );
    } else {
      this.#unread += bytes.length;
      this.#controller.enqueue(bytes);
    }
  }

  // Closes the socket for maxUnreadBytes: nothing more of it is held.
  #overLimit(code: number, reason: string): void {
    this.#end(new Error(`WebSocket closed: ${reason}`));
    this.#shut(code, reason);
    this.#onLimit?.(reason);
  }

  // Ends the readable, once: closed, or errored with `error`.
  #end(error?: Error): void {
    try {
      if (error) this.#controller.error(error);
      else this.#controller.close();
    } catch {
      // Already ended.
    }
  }

  #shut(code: number, reason?: string): void {
    this.#closed = true;
    const socket = this.#socket;
    const shut = () => {
      try {
        socket.close(
          code,
          reason === undefined ? undefined : closeReason(reason),
        );
      } catch {
        // Already closing.
      }
    };
    // A socket that is still opening is closed once it has opened.
    if (socket.readyState === WebSocket.CONNECTING) {
      this.#opened.then(shut, () => {});
    } else {
      shut();
    }
  }

  /**
   * Sends `bytes` as one binary frame (a copy: the caller may reuse its
   * buffer at once), then waits while the socket holds more than
   * `maxBufferedAmount` bytes not yet sent.
   *
   * @param bytes The bytes.
   * @returns When the socket has taken them.
   * @throws {Error} If the socket is closed, or closes before it opens.
   */
  write(bytes: Uint8Array): Promise<void> {
    return this.#send(bytes.slice());
  }

  /**
   * Sends `text` as one text frame, in order with the binary frames, then
   * waits as {@linkcode WebSocketTransport.write} does. A server names the
   * sender of the messages that follow this way, for a page that asked.
   *
   * @param text The text.
   * @returns When the socket has taken it.
   * @throws {Error} If the socket is closed, or closes before it opens.
   */
  writeText(text: string): Promise<void> {
    return this.#send(text);
  }

  async #send(data: Uint8Array | string): Promise<void> {
    const socket = this.#socket;
    if (socket.readyState !== WebSocket.OPEN) await this.#opened;
    if (this.#closed || socket.readyState !== WebSocket.OPEN) {
      throw new Error("Cannot write: the WebSocket is closed");
    }
    socket.send(data);
    await this.#drained(this.#maxBuffered);
  }

  /**
   * Sends what the socket holds, then closes it (code 1000). A WebSocket
   * has no half-close, so the readable ends too once the peer answers.
   *
   * @returns When the close has begun.
   */
  async closeWrite(): Promise<void> {
    const socket = this.#socket;
    if (socket.readyState === WebSocket.CONNECTING) {
      await this.#opened.catch(() => {});
    }
    await this.#drained(0);
    this.#shut(NORMAL);
  }

  // Waits until the socket holds at most `most` bytes unsent, or is no
  // longer open.
  async #drained(most: number): Promise<void> {
    const socket = this.#socket;
    while (
      socket.bufferedAmount > most && socket.readyState === WebSocket.OPEN
    ) {
      await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
    }
  }

  /**
   * Closes the socket at once, and ends the readable. Closing twice is
   * harmless.
   *
   * @param reason Why, for the peer: sent in the close frame, with code
   * 4000. Without one, the code is 1000.
   */
  close(reason?: string): void {
    if (this.#closed) return;
    this.#shut(reason === undefined ? NORMAL : REFUSED, reason);
    this.#end();
  }
}
