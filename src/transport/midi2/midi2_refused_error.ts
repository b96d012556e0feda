// Copyright 2026 the midisock authors. MIT license.

/**
 * The error of {@linkcode dialMidi2} when the host does not establish the
 * session: a Bye (its reason code in `code`), a wrong secret or password
 * (Authentication Required again, state Incorrect Digest: `authState`), or a
 * method the client has no credentials for. The message names the host and
 * the reason.
 *
 * @example
 * ```ts
 * import { Midi2RefusedError } from "@x/midisock/midi2";
 * import assert from "node:assert/strict";
 *
 * const error = new Midi2RefusedError("127.0.0.1:5673", "wrong shared secret", { authState: 1 });
 * assert.match(error.message, /127\.0\.0\.1:5673 refused the session: wrong shared secret/);
 * assert.equal(error.authState, 1);
 * ```
 */
export class Midi2RefusedError extends Error {
  /** The host, `host:port`. */
  readonly host: string;
  /** The reason, in words. */
  readonly reason: string;
  /** The Bye reason code, if the host sent a Bye. */
  readonly code: number | undefined;
  /** The authentication state of the host's last challenge, if any. */
  readonly authState: number | undefined;

  /**
   * Makes the error.
   *
   * @param host The host, `host:port`.
   * @param reason Why, in words.
   * @param details The Bye reason code or the authentication state.
   */
  constructor(
    host: string,
    reason: string,
    details: { code?: number; authState?: number } = {},
  ) {
    super(`Network MIDI 2.0 host ${host} refused the session: ${reason}`);
    this.name = "Midi2RefusedError";
    this.host = host;
    this.reason = reason;
    this.code = details.code;
    this.authState = details.authState;
  }

  /**
   * Whether the same client may be taken later: the host was full (Bye
   * reason Too Many Open Sessions, 0x40). A wrong secret, or a host that
   * turns the client away, is not.
   *
   * @example
   * ```ts
   * import { Midi2RefusedError } from "@x/midisock/midi2";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new Midi2RefusedError("h:1", "full", { code: 0x40 }).retryable, true);
   * assert.equal(new Midi2RefusedError("h:1", "wrong shared secret").retryable, false);
   * ```
   */
  get retryable(): boolean {
    return this.code === 0x40;
  }
}
