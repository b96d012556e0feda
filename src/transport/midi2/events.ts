// Copyright 2026 the midisock authors. MIT license.
// The events of Network MIDI 2.0 sessions and of their listener, built from
// an init object, as the DOM's `new Event(type, init)` is.

/**
 * The fields of a {@linkcode Midi2Event}: whose session or address, why, and
 * how many.
 *
 * @example An event made by hand
 * ```ts
 * import { Midi2Event } from "@x/midisock/midi2";
 * import assert from "node:assert/strict";
 *
 * const event = new Midi2Event("drop", {
 *   name: "keys@127.0.0.1:5004",
 *   reason: "UMP MIDI 2.0 per-note pitch bend has no MIDI 1.0 form",
 * });
 * assert.deepEqual([event.type, event.count], ["drop", 1]);
 * ```
 */
export interface Midi2EventInit extends EventInit {
  /** The session's name (`ENDPOINT@HOST:PORT`), or the peer's address. */
  name: string;
  /** Why, in a sentence: a Bye's reason, a refusal, what was dropped. */
  reason?: string;
  /**
   * The Bye reason code (M2-124-UM), when one was sent or received.
   *
   * @default {undefined}
   */
  code?: number;
  /**
   * How many: UMP messages or commands dropped, datagrams malformed.
   *
   * @default {1}
   */
  count?: number;
}

/**
 * An event of a Network MIDI 2.0 session or listener:
 * - `session`: a session was established (its peer is `name`);
 * - `end`: a session ended, with the `reason` (a Bye, a timeout, a close);
 * - `refused`: an invitation was refused (`code` is the Bye reason sent);
 * - `drop`: something from a peer was dropped and counted: a UMP message
 *   with no MIDI 1.0 form, UMP Data commands lost for good, a malformed
 *   datagram.
 *
 * @example
 * ```ts
 * import { Midi2Event } from "@x/midisock/midi2";
 * import assert from "node:assert/strict";
 *
 * const event = new Midi2Event("refused", {
 *   name: "127.0.0.1:40000",
 *   reason: "wrong shared secret",
 *   code: 0x43,
 * });
 * assert.equal(event.code, 0x43);
 * ```
 */
export class Midi2Event extends Event {
  /** The session's name, or the peer's address. */
  readonly name: string;
  /** Why. */
  readonly reason: string;
  /** The Bye reason code, if any. */
  readonly code: number | undefined;
  /** How many. */
  readonly count: number;

  /**
   * Makes the event.
   *
   * @param type `session`, `end`, `refused` or `drop`.
   * @param init The fields.
   */
  constructor(type: string, init: Midi2EventInit) {
    super(type, init);
    this.name = init.name;
    this.reason = init.reason ?? "";
    this.code = init.code;
    this.count = init.count ?? 1;
  }
}

/** The events of a session and of a listener. */
export interface Midi2EventMap {
  /** A session was established. */
  session: Midi2Event;
  /** A session ended. */
  end: Midi2Event;
  /** An invitation was refused. */
  refused: Midi2Event;
  /** Something from a peer was dropped, and counted. */
  drop: Midi2Event;
}
