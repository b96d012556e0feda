// Copyright 2026 the midisock authors. MIT license.

// What each reason of a verdict line means, for the client that hears it.
const REASONS: Readonly<Record<string, string>> = {
  allow: "not on its allow-list",
  full: "it is full",
};

// The reasons that a retry cannot fix: the same client would be turned
// away again for the same reason.
const FINAL = new Set(["token", "allow"]);

/**
 * The error for a client that a server turned away, and told why, in its
 * reply to the client's hello line (`MIDISOCK/1 verdict=refused
 * reason=token`). {@linkcode connect} with a token rejects with it; a
 * {@linkcode ReconnectingPort} closes with it when a retry cannot help
 * (`token`, `allow`), and retries with backoff when it can (`full`).
 *
 * @example Asking for a token when the server wants one
 * ```ts
 * import { connect, PortServer, RefusedError } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * await using server = new PortServer("127.0.0.1", 0, { token: "s3cret" });
 * try {
 *   await connect("127.0.0.1", server.port, { hello: { token: "guess" } });
 *   assert.fail("it was taken in");
 * } catch (error) {
 *   assert.ok(error instanceof RefusedError);
 *   assert.equal(error.reason, "token");
 *   assert.equal(
 *     error.message,
 *     `Refused by 127.0.0.1:${server.port}: wrong token`,
 *   );
 * }
 * ```
 */
export class RefusedError extends Error {
  /**
   * The reason that the server gave: `token` (the client's token is
   * missing or wrong; the server never says which), `allow` (its address
   * is not on the allow-list), `full` (the server is at `maxClients`), or
   * another that a newer server gives.
   */
  readonly reason: string;

  /**
   * Makes the error.
   *
   * @param address The server's address, as `host:port`.
   * @param reason The reason that the server gave.
   * @param options Whether the client sent a token (the message then says
   * that it is wrong, rather than that the server asks for one).
   *
   * @example A full server
   * ```ts
   * import { RefusedError } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * const error = new RefusedError("127.0.0.1:8080", "full");
   * assert.equal(error.message, "Refused by 127.0.0.1:8080: it is full");
   * assert.equal(error.final, false);
   * ```
   */
  constructor(
    address: string,
    reason: string,
    options: { tokenSent?: boolean } = {},
  ) {
    const text = reason === "token"
      ? options.tokenSent ? "wrong token" : "it asks for a token"
      : REASONS[reason] ?? reason;
    super(`Refused by ${address}: ${text}`);
    this.name = "RefusedError";
    this.reason = reason;
  }

  /**
   * Whether a retry cannot help: the reason is `token` or `allow`.
   *
   * @example A wrong token is final
   * ```ts
   * import { RefusedError } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new RefusedError("bus:8080", "token").final, true);
   * ```
   */
  get final(): boolean {
    return FINAL.has(this.reason);
  }
}
