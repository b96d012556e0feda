// Copyright 2026 the midisock authors. MIT license.

import type { Message } from "../midi/message.ts";
import type { SocketPort } from "../port/socket_port.ts";

/**
 * A message from a client that a {@linkcode PortServer} did not deliver:
 * the `filtered` event. Either the server takes no sysex (`acceptSysex:
 * false`), or its `filter` said no (or threw).
 *
 * @example Seeing a sysex held back
 * ```ts
 * import { connect, type FilterEvent, message, PortServer } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * await using server = new PortServer("127.0.0.1", 0, { acceptSysex: false });
 * const filtered = Promise.withResolvers<FilterEvent>();
 * server.addEventListener("filtered", (event) => filtered.resolve(event));
 * await using client = await connect("127.0.0.1", server.port);
 * await client.send(message("sysex", { data: [0x7e, 0x7f] }));
 * await client.send(message("start"));
 * assert.deepEqual(await server.receive(), message("start"));
 * assert.equal((await filtered.promise).reason, "sysex");
 * assert.equal(server.stats.filtered, 1);
 * ```
 */
export class FilterEvent extends Event {
  /** The client that sent it. */
  readonly port: SocketPort;
  /** The message. */
  readonly message: Message;
  /** `"sysex"` (acceptSysex is false), `"filter"`, or the filter's error. */
  readonly reason: string;

  /**
   * Makes the event, named `filtered`.
   *
   * @param port The client.
   * @param message The message.
   * @param reason Why it was not delivered.
   */
  constructor(port: SocketPort, message: Message, reason: string) {
    super("filtered");
    this.port = port;
    this.message = message;
    this.reason = reason;
  }
}
