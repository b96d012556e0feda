// Copyright 2026 the midisock authors. MIT license.

/**
 * A client that a {@linkcode PortServer} turned away: the `reject` event.
 * It was closed before a byte of it was read (not on the allow-list, over
 * `maxClients`), or before anything it sent was delivered.
 *
 * @example Seeing a client turned away
 * ```ts
 * import { connect, PortServer, type RejectEvent } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * await using server = new PortServer("127.0.0.1", 0, { maxClients: 0 });
 * const rejected = Promise.withResolvers<RejectEvent>();
 * server.addEventListener("reject", (event) => rejected.resolve(event));
 * await using client = await connect("127.0.0.1", server.port);
 * const event = await rejected.promise;
 * assert.equal(event.address, `127.0.0.1:${client.localAddr.port}`);
 * assert.equal(event.reason, "over maxClients (0)");
 * ```
 */
export class RejectEvent extends Event {
  /** The client's address, `host:port`. */
  readonly address: string;
  /** Why it was turned away, such as `not on the allow-list`. */
  readonly reason: string;

  /**
   * Makes the event, named `reject`.
   *
   * @param address The client's address.
   * @param reason Why.
   */
  constructor(address: string, reason: string) {
    super("reject");
    this.address = address;
    this.reason = reason;
  }
}
