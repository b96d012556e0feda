// Copyright 2026 the midisock authors. MIT license.
// The events of RTP-MIDI sessions and listeners, each built from an init
// object.

/** What an event names of a session: at least its name. */
export interface NamedSession {
  /** The session's name: `rtp:` and the peer's session name. */
  readonly name: string;
}

/** Why a session ended: the peer said BY, it went silent, or it was closed. */
export type RtpEndReason = "bye" | "timeout" | "closed";

/**
 * The fields of an {@linkcode RtpSessionEvent}.
 *
 * @example The fields of an end event
 * ```ts
 * import type { RtpSessionEventInit } from "@x/midisock/rtp";
 *
 * const init: RtpSessionEventInit = { session: { name: "rtp:MacBook" }, reason: "bye" };
 * console.log(init.reason);
 * ```
 */
export interface RtpSessionEventInit<S extends NamedSession = NamedSession>
  extends EventInit {
  /** The session. */
  session: S;
  /** Why it ended, for an `end` event. */
  reason?: RtpEndReason;
}

/**
 * A session that began (the `session` event of an
 * {@linkcode RtpListener}: a participant that accepted or sent an
 * invitation) or ended (the `end` event of an {@linkcode RtpSession}, with
 * its reason).
 *
 * @example An end event, as serve prints it
 * ```ts
 * import { RtpSessionEvent } from "@x/midisock/rtp";
 * import assert from "node:assert/strict";
 *
 * const session = { name: "rtp:MacBook" };
 * const event = new RtpSessionEvent("end", { session, reason: "timeout" });
 * assert.equal(`# ${event.type} ${event.session.name} ${event.reason}`, "# end rtp:MacBook timeout");
 * ```
 */
export class RtpSessionEvent<S extends NamedSession = NamedSession>
  extends Event {
  /** The session. */
  readonly session: S;
  /** Why it ended (`end` events only). */
  readonly reason: RtpEndReason | undefined;

  /**
   * Makes the event.
   *
   * @param type `session` or `end`.
   * @param init The session, and the reason it ended.
   */
  constructor(type: "session" | "end", init: RtpSessionEventInit<S>) {
    super(type, init);
    this.session = init.session;
    this.reason = init.reason;
  }
}

/**
 * The fields of an {@linkcode RtpPacketEvent}.
 *
 * @example The fields of a bad packet event
 * ```ts
 * import type { RtpPacketEventInit } from "@x/midisock/rtp";
 *
 * const init: RtpPacketEventInit = { address: "10.0.0.5:5004", reason: "truncated RS packet (9 bytes, expected 12)" };
 * console.log(init.address);
 * ```
 */
export interface RtpPacketEventInit<S extends NamedSession = NamedSession>
  extends EventInit {
  /** Where the packet came from, `host:port`. */
  address: string;
  /** The session it was for, if one. */
  session?: S;
  /** For `badpacket`: what was wrong with it; for `refused`: why. */
  reason?: string;
  /** For `recovery`: the messages that the recovery journal gave back. */
  recovered?: number;
  /** For `recovery`: the packets lost before this one. */
  lost?: number;
}

/**
 * A packet worth a line: one that was malformed (`badpacket`; it is counted
 * and skipped, and the session goes on), one whose recovery journal
 * repaired a loss (`recovery`: the lost note_offs, controllers and programs
 * were played before its own commands), messages dropped because the reader
 * fell behind (`overflow`), or something else given up (`dropped`: a sysex
 * too long or cut by loss, lost packets that no journal covered), or an
 * invitation that a listener answered NO or BY (`refused`).
 *
 * @example A bad packet, as serve prints it
 * ```ts
 * import { RtpPacketEvent } from "@x/midisock/rtp";
 * import assert from "node:assert/strict";
 *
 * const event = new RtpPacketEvent("badpacket", { address: "10.0.0.5:5005", reason: "data bytes with no status" });
 * assert.equal(`# ${event.type} ${event.address} ${event.reason}`, "# badpacket 10.0.0.5:5005 data bytes with no status");
 * ```
 */
export class RtpPacketEvent<S extends NamedSession = NamedSession>
  extends Event {
  /** Where the packet came from, `host:port`. */
  readonly address: string;
  /** The session it was for, if one. */
  readonly session: S | undefined;
  /** What was wrong (`badpacket`), or why (`refused`, `overflow`, `dropped`). */
  readonly reason: string;
  /** Messages that the journal gave back (`recovery`). */
  readonly recovered: number;
  /** Packets lost before this one (`recovery`). */
  readonly lost: number;

  /**
   * Makes the event.
   *
   * @param type `badpacket`, `recovery`, `overflow`, `dropped` or `refused`.
   * @param init Where from, and what.
   */
  constructor(
    type: "badpacket" | "recovery" | "overflow" | "dropped" | "refused",
    init: RtpPacketEventInit<S>,
  ) {
    super(type, init);
    this.address = init.address;
    this.session = init.session;
    this.reason = init.reason ?? "";
    this.recovered = init.recovered ?? 0;
    this.lost = init.lost ?? 0;
  }
}
