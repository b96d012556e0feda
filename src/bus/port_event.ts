// Copyright 2026 the midisock authors. MIT license.

import type { SocketPort } from "../port/socket_port.ts";

/**
 * An event about one client of a {@linkcode PortServer} or
 * {@linkcode BroadcastHub}: `connect`, `disconnect` or `slowclient`.
 *
 * @example Listening for clients
 * ```ts
 * import { connect, PortServer } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * await using server = new PortServer("127.0.0.1", 0);
 * const connected = new Promise<string>((resolve) =>
 *   server.addEventListener("connect", (event) => resolve(event.port.name), { once: true })
 * );
 * server.poll(); // use the server as a port: it adopts clients
 * await using client = await connect("127.0.0.1", server.port);
 * assert.equal(await connected, `127.0.0.1:${client.localAddr.port}`);
 * ```
 */
export class PortEvent extends Event {
  /** The client. */
  readonly port: SocketPort;
  /** Bytes that were queued for the client and dropped (for `slowclient`). */
  readonly droppedBytes: number;
  /**
   * For `disconnect`: how many messages of the client the server has taken,
   * all told: each message it received from the client (delivered to the
   * readers, or refused with a `filtered` event) and each that it released
   * for the client when it left. A reader of `withPorts()` from the start
   * that has seen this many of the client's messages and `filtered` events
   * has seen all of them: the CLI prints a client's `# disconnect` line
   * then. (Not so for a relay whose reader stopped: it relays the messages
   * it counts, and keeps none for readers; nor, once the server closes,
   * for the messages that come after its readers' end.) 0 for other
   * events.
   */
  readonly messages: number;

  /**
   * Makes the event.
   *
   * @param type `connect`, `disconnect` or `slowclient`.
   * @param port The client.
   * @param droppedBytes Bytes dropped with it.
   * @param messages For `disconnect`, the client's messages taken.
   */
  constructor(
    type: string,
    port: SocketPort,
    droppedBytes = 0,
    messages = 0,
  ) {
    super(type);
    this.port = port;
    this.droppedBytes = droppedBytes;
    this.messages = messages;
  }
}
