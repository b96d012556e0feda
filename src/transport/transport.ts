// Copyright 2026 the midisock authors. MIT license.

/**
 * What a port runs over: a byte duplex, with the addresses of its two ends.
 * TCP and TLS connections ({@linkcode TcpTransport}) are transports, and so
 * is anything else that carries bytes both ways, such as a WebSocket or a
 * MIDI device. A {@linkcode SocketPort} over any transport has the same
 * surface, and joins a server's bus with the same queues, limits and
 * counters: the port and the hub only use what this interface gives.
 *
 * The rules a transport keeps:
 * - `readable` gives the peer's bytes in the order they came, in chunks of
 *   any size, and closes at the peer's end of stream. A failure (a reset)
 *   errors it. After {@linkcode Transport.close}, it closes or errors.
 * - `writable` takes bytes for the peer. A write resolves once the bytes are
 *   handed on (to the system, for a socket). Closing it ends the stream
 *   after what was written, so the peer sees end of stream, while the
 *   readable goes on. Aborting it drops what was not yet written.
 * - `close()` ends both ways at once, and ends a read or a write in flight.
 *   It may be called more than once. A {@linkcode WebSocketTransport} is one
 *   more transport, for browsers.
 *
 * @example A transport in memory: two ports wired to each other
 * ```ts
 * import { message, SocketPort, type Transport } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * function pipePair(): [Transport, Transport] {
 *   const ab = new TransformStream<Uint8Array, Uint8Array>();
 *   const ba = new TransformStream<Uint8Array, Uint8Array>();
 *   const end = (readable: ReadableStream<Uint8Array>, writable: WritableStream<Uint8Array>): Transport => ({
 *     readable,
 *     writable,
 *     close() {
 *       readable.cancel().catch(() => {});
 *       writable.abort().catch(() => {});
 *     },
 *   });
 *   return [end(ba.readable, ab.writable), end(ab.readable, ba.writable)];
 * }
 *
 * const [left, right] = pipePair();
 * await using a = new SocketPort(left, { name: "a" });
 * await using b = new SocketPort(right, { name: "b" });
 * await a.send(message("note_on", { note: 60 }));
 * assert.deepEqual(await b.receive(), message("note_on", { note: 60 }));
 * ```
 */
export interface Transport {
  /** The bytes that the peer sends. */
  readonly readable: ReadableStream<Uint8Array>;
  /** The bytes to send to the peer. */
  readonly writable: WritableStream<Uint8Array>;
  /** The address of this end, if the transport has one. */
  readonly localAddr?: Deno.Addr;
  /** The address of the peer, if the transport has one. */
  readonly remoteAddr?: Deno.Addr;
  /**
   * Ends both ways at once.
   *
   * @param reason Why, for the peer, where the transport can carry it (a
   * WebSocket sends it in its close frame; TCP cannot, and ignores it). A
   * PortServer gives the reason it turned a client away.
   */
  close(reason?: string): void;
  /**
   * Optional, for speed: reads the peer's next bytes into `buf`, as
   * `Deno.Conn.read()` does, and resolves to how many, or to null at the
   * peer's end of stream or after close(). A port reads a transport that
   * has it with it, rather than through `readable`, which saves the stream
   * machinery on the path of each message. It must keep the readable's
   * rules; a port uses one or the other, never both.
   */
  read?(buf: Uint8Array): Promise<number | null>;
  /**
   * Optional, for speed, with closeWrite(): writes all of `bytes`, as a
   * write to `writable` does, and is done with them once it resolves (the
   * port may then fill their buffer again). A port writes a transport that
   * has both with them, rather than through `writable`.
   */
  write?(bytes: Uint8Array): Promise<void>;
  /** Optional, with write(): ends the write side, as closing `writable` does. */
  closeWrite?(): Promise<void>;
  /**
   * Optional: true if the peer asked, when it connected, to be told who
   * sent each message (the browser page does, at `/ws?senders=1`). The
   * transport then has writeText(), and a server's port for this peer
   * sends there, before each run of one sender's messages, the line
   * `MIDISOCK/1 from=NAME` (the name percent-encoded as in a hello line;
   * `MIDISOCK/1` alone for the server's own messages). The byte stream
   * itself stays plain MIDI.
   */
  readonly senders?: boolean;
  /**
   * Optional, with `senders`: sends a line of text beside the bytes, in
   * order with them, where the transport has a channel for it that is not
   * the byte stream (a WebSocket's text frames). A port calls it only
   * between writes, never during one.
   */
  writeText?(text: string): Promise<void>;
}
