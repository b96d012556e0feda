// Copyright 2026 the midisock authors. MIT license.

import type { MidiPort } from "./midi_port.ts";

/**
 * Bytes from a port that made no message: the `drop` event of a
 * {@linkcode SocketPort}, which a {@linkcode PortServer} passes on for its
 * clients (and of a MIDI device's input, in `@x/midisock/device`). It fires once for each chunk of input that dropped anything, and
 * once more if the port ends in the middle of a message. Its counts are the
 * increase of the port's parser counters (see {@linkcode MidiParserStats}).
 *
 * @typeParam P The kind of port: a {@linkcode MidiPort} unless said (a
 * {@linkcode SocketPort} for a socket port, a server or a reconnecting port).
 *
 * @example Seeing an oversized sysex dropped
 * ```ts
 * import { connect, type DropEvent, PortServer } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * await using server = new PortServer("127.0.0.1", 0, { maxSysexBytes: 4 });
 * const dropped = Promise.withResolvers<DropEvent>();
 * server.addEventListener("drop", (event) => dropped.resolve(event));
 * await using client = await connect("127.0.0.1", server.port);
 * await client.send({ type: "sysex", data: new Uint8Array([1, 2, 3, 4, 5]) });
 * server.poll(); // read the server as a port: it takes in its clients
 * const event = await dropped.promise;
 * assert.equal(event.oversizedSysex, 1);
 * assert.equal(event.skippedBytes, 7);
 * ```
 */
export class DropEvent<P extends { readonly name: string } = MidiPort>
  extends Event {
  /** The port whose input it was. */
  readonly port: P;
  /** Bytes that made no message. */
  readonly skippedBytes: number;
  /** Messages cut short by a status byte or by the end of the stream. */
  readonly discardedMessages: number;
  /** Sysex messages over the size limit. */
  readonly oversizedSysex: number;

  /**
   * Makes the event, named `drop`.
   *
   * @param port The port.
   * @param counts What was dropped.
   */
  constructor(
    port: P,
    counts: {
      skippedBytes: number;
      discardedMessages: number;
      oversizedSysex: number;
    },
  ) {
    super("drop");
    this.port = port;
    this.skippedBytes = counts.skippedBytes;
    this.discardedMessages = counts.discardedMessages;
    this.oversizedSysex = counts.oversizedSysex;
  }
}
