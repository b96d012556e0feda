// Copyright 2026 the midisock authors. MIT license.

/**
 * An event of a {@linkcode ReconnectingPort}: `disconnect` (its connection
 * ended), `reconnecting` (it waits, then dials again) or `reconnect` (it is
 * connected again).
 *
 * @example Printing a port's reconnects
 * ```ts
 * import { connect, PortServer } from "@x/midisock";
 *
 * await using server = new PortServer("127.0.0.1", 0);
 * await using port = await connect("127.0.0.1", server.port, {
 *   reconnect: true,
 * });
 * port.addEventListener("reconnecting", (event) => {
 *   console.log(`attempt ${event.attempt} in ${event.delay} ms`);
 * });
 * port.addEventListener("reconnect", (event) => {
 *   console.log(`back after ${event.attempt} attempts, ${event.downtime} ms`);
 * });
 * ```
 */
export class ReconnectEvent extends Event {
  /**
   * `reconnecting`: the number of this attempt, from 1. `reconnect`: how
   * many attempts it took. `disconnect`: 0.
   */
  readonly attempt: number;
  /** `reconnecting`: how long the port waits before this attempt, in ms. */
  readonly delay: number;
  /**
   * `disconnect`: why the connection ended, if it failed (undefined when
   * the server closed it cleanly). `reconnecting`: why the attempt before
   * failed, if there was one.
   */
  readonly error: Error | undefined;
  /** `reconnect`: how long the port was disconnected, in ms. */
  readonly downtime: number;

  /**
   * Makes the event.
   *
   * @param type `disconnect`, `reconnecting` or `reconnect`.
   * @param init Its fields; each defaults to 0 or undefined.
   */
  constructor(
    type: "disconnect" | "reconnecting" | "reconnect",
    init: {
      attempt?: number;
      delay?: number;
      error?: Error;
      downtime?: number;
    } = {},
  ) {
    super(type);
    this.attempt = init.attempt ?? 0;
    this.delay = init.delay ?? 0;
    this.error = init.error;
    this.downtime = init.downtime ?? 0;
  }
}
