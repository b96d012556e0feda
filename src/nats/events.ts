// Copyright 2026 the midisock authors. MIT license.
// The events of a NATS bridge about the other hubs, built from an init
// object, as the DOM's `new Event(type, init)` is.

import type { Message } from "../midi/message.ts";

/**
 * The fields of a {@linkcode HubEvent}: the other hub, why, and what was
 * released for it.
 *
 * @example A hub event made by hand
 * ```ts
 * import { HubEvent, type HubEventInit } from "@x/midisock/nats";
 * import assert from "node:assert/strict";
 *
 * const init: HubEventInit = { hub: "studio-b", reason: "bye" };
 * const event = new HubEvent("hubleave", init);
 * assert.deepEqual([event.hub, event.reason, event.notes], ["studio-b", "bye", 0]);
 * ```
 */
export interface HubEventInit extends EventInit {
  /** The other hub's id (its `hub` option). */
  hub: string;
  /**
   * Why: `bye`, `timeout`, `disconnect` or `gap`; empty for `hubjoin`.
   *
   * @default {""}
   */
  reason?: "" | "bye" | "timeout" | "disconnect" | "gap";
  /**
   * The messages released for it: note_offs, then control_change 64 = 0.
   *
   * @default {[]}
   */
  messages?: readonly Message[];
}

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
 * const event = new HubEvent("hubleave", {
 *   hub: "studio-b",
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
   * @param init The other hub's id, why, and the messages released.
   *
   * @example A hub heard for the first time
   * ```ts
   * import { HubEvent } from "@x/midisock/nats";
   * import assert from "node:assert/strict";
   *
   * const event = new HubEvent("hubjoin", { hub: "studio-b" });
   * assert.deepEqual([event.type, event.hub, event.reason], ["hubjoin", "studio-b", ""]);
   * ```
   */
  constructor(type: "hubjoin" | "hubleave" | "hubgap", init: HubEventInit);
  /**
   * Makes the event the old way.
   *
   * @deprecated Use `new HubEvent(type, { hub, reason, messages })`.
   * @param type `hubjoin`, `hubleave` or `hubgap`.
   * @param hub The other hub's id.
   * @param init Why, and the messages released.
   */
  constructor(
    type: "hubjoin" | "hubleave" | "hubgap",
    hub: string,
    init?: Omit<HubEventInit, "hub">,
  );
  constructor(
    type: "hubjoin" | "hubleave" | "hubgap",
    init: HubEventInit | string,
    rest: Omit<HubEventInit, "hub"> = {},
  ) {
    // The old form's second argument is the hub's id, a string.
    const old = typeof init === "string";
    const fields = old ? { ...rest, hub: init } : init;
    super(type, fields);
    this.hub = fields.hub;
    this.reason = fields.reason ?? "";
    this.messages = fields.messages ?? [];
  }

  /** How many notes were released. */
  get notes(): number {
    return this.messages.filter((msg) => msg.type === "note_off").length;
  }
}
