// Copyright 2026 the midisock authors. MIT license.
// The events of a reconnecting client, built from an init object, as the
// DOM's `new Event(type, init)` is.

/**
 * The fields of a {@linkcode ReconnectEvent}. Each has a default, so that
 * an event carries only what its type says.
 *
 * @example A reconnecting event made by hand
 * ```ts
 * import { ReconnectEvent, type ReconnectEventInit } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * const init: ReconnectEventInit = { attempt: 2, delay: 400 };
 * const event = new ReconnectEvent("reconnecting", init);
 * assert.deepEqual(
 *   [event.attempt, event.delay, event.error, event.downtime],
 *   [2, 400, undefined, 0],
 * );
 * ```
 */
export interface ReconnectEventInit extends EventInit {
  /**
   * `reconnecting`: the number of this attempt, from 1. `reconnect`: how
   * many attempts it took.
   *
   * @default {0}
   */
  attempt?: number;
  /**
   * `reconnecting`: how long the port waits before this attempt, in ms.
   *
   * @default {0}
   */
  delay?: number;
  /**
   * `disconnect`: why the connection ended, if it failed. `reconnecting`:
   * why the attempt before failed, if there was one.
   */
  error?: Error;
  /**
   * `reconnect`: how long the port was disconnected, in ms.
   *
   * @default {0}
   */
  downtime?: number;
}

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
   *
   * @example A port back after three attempts
   * ```ts
   * import { ReconnectEvent } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * const event = new ReconnectEvent("reconnect", { attempt: 3, downtime: 1200 });
   * assert.equal(`${event.type} ${event.attempt} ${event.downtime}`, "reconnect 3 1200");
   * ```
   */
  constructor(
    type: "disconnect" | "reconnecting" | "reconnect",
    init: ReconnectEventInit = {},
  ) {
    super(type, init);
    this.attempt = init.attempt ?? 0;
    this.delay = init.delay ?? 0;
    this.error = init.error;
    this.downtime = init.downtime ?? 0;
  }
}
