// Copyright 2026 the midisock authors. MIT license.

/**
 * The error for an operation on a port (or server) that is closed. It names
 * the port, and {@linkcode PortClosedError.port} holds its name.
 *
 * @example Catching it
 * ```ts
 * import { PortClosedError } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * const error = new PortClosedError("127.0.0.1:8080", "send note_on");
 * assert.ok(error instanceof PortClosedError);
 * assert.equal(error.message, "Cannot send note_on: port 127.0.0.1:8080 is closed");
 * assert.equal(error.port, "127.0.0.1:8080");
 * ```
 */
export class PortClosedError extends Error {
  /** The name of the port that is closed. */
  readonly port: string;

  /**
   * Makes the error.
   *
   * @param port The port's name.
   * @param action What could not be done, such as `"send note_on"`.
   * @param options The cause, if the port closed because of an error.
   */
  constructor(port: string, action: string, options?: ErrorOptions) {
    super(`Cannot ${action}: port ${port} is closed`, options);
    this.name = "PortClosedError";
    this.port = port;
  }
}
