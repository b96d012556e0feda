// Copyright 2026 the midisock authors. MIT license.
// The events of a port, each built from an init object, as the DOM's
// `new Event(type, init)` is.

import type { MidiPort } from "./midi_port.ts";

/**
 * The fields of a {@linkcode DropEvent}: the port, and how much of its input
 * made no message.
 *
 * @typeParam P The kind of port.
 *
 * @example A drop event made by hand
 * ```ts
 * import { DropEvent, type DropEventInit } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * const init: DropEventInit<{ name: string }> = {
 *   port: { name: "keys" },
 *   skippedBytes: 3,
 * };
 * const event = new DropEvent("drop", init);
 * assert.deepEqual(
 *   [event.port.name, event.skippedBytes, event.discardedMessages],
 *   ["keys", 3, 0],
 * );
 * ```
 */
export interface DropEventInit<P extends { readonly name: string } = MidiPort>
  extends EventInit {
  /** The port whose input it was. */
  port: P;
  /**
   * Bytes that made no message.
   *
   * @default {0}
   */
  skippedBytes?: number;
  /**
   * Messages cut short by a status byte or by the end of the stream.
   *
   * @default {0}
   */
  discardedMessages?: number;
  /**
   * Sysex messages over the size limit.
   *
   * @default {0}
   */
  oversizedSysex?: number;
}

/**
 * Bytes from a port that made no message: the `drop` event of a
 * {@linkcode SocketPort}, which a {@linkcode PortServer} passes on for its
 * clients (and of a MIDI device's input, in `@x/midisock/device`). It fires
 * once for each chunk of input that dropped anything, and once more if the
 * port ends in the middle of a message. Its counts are the increase of the
 * port's parser counters (see {@linkcode MidiParserStats}).
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
   * Makes the event.
   *
   * @param type `drop`.
   * @param init The port and its counts.
   *
   * @example Forwarding a client's drop as a server's
   * ```ts
   * import { DropEvent } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * const event = new DropEvent("drop", {
   *   port: { name: "127.0.0.1:5000" },
   *   oversizedSysex: 1,
   *   skippedBytes: 7,
   * });
   * assert.equal(event.type, "drop");
   * assert.equal(event.oversizedSysex, 1);
   * ```
   */
  constructor(type: "drop", init: DropEventInit<P>);
  /**
   * Makes the event, named `drop`, the old way.
   *
   * @deprecated Use `new DropEvent("drop", { port, ...counts })`.
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
  );
  constructor(
    type: "drop" | P,
    init: Omit<DropEventInit<P>, "port"> & { port?: P },
  ) {
    // The old form starts with the port, the new one with the type.
    const old = typeof type !== "string";
    super(old ? "drop" : type, old ? undefined : init);
    this.port = old ? type : init.port!;
    this.skippedBytes = init.skippedBytes ?? 0;
    this.discardedMessages = init.discardedMessages ?? 0;
    this.oversizedSysex = init.oversizedSysex ?? 0;
  }
}
