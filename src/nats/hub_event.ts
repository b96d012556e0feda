// Copyright 2026 the midisock authors. MIT license.

import type { Message } from "../midi/message.ts";

/**
 * An event of a {@linkcode NatsBridge} about another hub on the bus:
 * - `hubjoin`: a hub was heard for the first time (or again, after it was
 *   given up);
 * - `hubleave`: a hub is gone, and the bridge released on its own clients'
 *   behalf what that hub's clients had left sounding. `reason` says why:
 *   `bye` (it closed), `timeout` (no heartbeat for `hubTimeout` ms: it
 *   crashed, or lost its own link to NATS) or `disconnect` (this hub lost
 *   its link to NATS, and so every other hub at once);
 * - `hubgap`: messages of a hub were lost on the way (its sequence numbers
 *   jumped), so the bridge released what that hub had left on, as far as
 *   it knew, rather than leave a note stuck whose note_off was lost.
 *
 * @example Printing the hubs that leave
 * ```ts
 * import { message } from "@x/midisock";
 * import { HubEvent } from "@x/midisock/nats";
 * import assert from "node:assert/strict";
 *
 * const event = new HubEvent("hubleave", "studio-b", {
 *   reason: "timeout",
 *   messages: [message("note_off", { note: 60 })],
 * });
 * assert.equal(`${event.type} ${event.hub} ${event.reason} notes=${event.notes}`, "hubleave studio-b timeout notes=1");
 * ```
 */
export class HubEvent extends Event {
  /** The other hub's id (its `hub` option). */
  readonly hub: string;
  /** Why: `bye`, `timeout`, `disconnect` or `gap`; empty for `hubjoin`. */
  readonly reason: "" | "bye" | "timeout" | "disconnect" | "gap";
  /** The messages released for it: note_offs, then control_change 64 = 0. */
  readonly messages: readonly Message[];

  /**
   * Makes the event.
   *
   * @param type `hubjoin`, `hubleave` or `hubgap`.
   * @param hub The other hub's id.
   * @param init Why, and the messages released.
   */
  constructor(
    type: "hubjoin" | "hubleave" | "hubgap",
    hub: string,
    init: {
      reason?: "bye" | "timeout" | "disconnect" | "gap";
      messages?: readonly Message[];
    } = {},
  ) {
    super(type);
    this.hub = hub;
    this.reason = init.reason ?? "";
    this.messages = init.messages ?? [];
  }

  /** How many notes were released. */
  get notes(): number {
    return this.messages.filter((msg) => msg.type === "note_off").length;
  }
}
