// Copyright 2026 the midisock authors. MIT license.

import type { Message } from "../midi/message.ts";
import type { SocketPort } from "../port/socket_port.ts";

/**
 * A client left with notes on or a sustain pedal down, and the server
 * released them for it, as if the client had sent the messages: the
 * `release` event of a {@linkcode PortServer} (option `releaseNotes`).
 *
 * @example Counting what the server releases
 * ```ts
 * import { connect, message, PortServer } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * await using server = new PortServer("127.0.0.1", 0, { relay: true });
 * const released = new Promise<number>((resolve) =>
 *   server.addEventListener("release", (event) => resolve(event.notes))
 * );
 * const player = await connect("127.0.0.1", server.port);
 * await player.send(message("note_on", { note: 60, velocity: 100 }));
 * await player.send(message("note_on", { note: 64, velocity: 100 }));
 * await player.close(); // without its note_offs
 * assert.equal(await released, 2);
 * ```
 */
export class ReleaseEvent extends Event {
  /** The client that left. */
  readonly port: SocketPort;
  /** The messages emitted for it: note_offs, then control_change 64 = 0. */
  readonly messages: readonly Message[];

  /**
   * Makes the event.
   *
   * @param port The client that left.
   * @param messages The messages emitted for it.
   */
  constructor(port: SocketPort, messages: readonly Message[]) {
    super("release");
    this.port = port;
    this.messages = messages;
  }

  /** How many notes were released. */
  get notes(): number {
    return this.messages.filter((msg) => msg.type === "note_off").length;
  }

  /** On how many channels the sustain pedal was let up. */
  get pedals(): number {
    return this.messages.length - this.notes;
  }
}
