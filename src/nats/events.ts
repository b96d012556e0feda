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
  /**
   * For `hubgap`: MIDI messages of that hub lost on the way, as the counts
   * that its NATS messages carry tell.
   *
   * @default {0}
   */
  lost?: number;
  /**
   * For `hubgap`: NATS messages of that hub lost on the way whose size is
   * unknown (a hub of an older version carries no count).
   *
   * @default {0}
   */
  lostBatches?: number;
  /**
   * For `hubgap`: MIDI messages of that hub that arrived, and were dropped
   * here because this hub fell 1 MiB behind taking the bus in.
   *
   * @default {0}
   */
  overflowed?: number;
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
 *   jumped, or its count of MIDI messages did: `lost`, or `lostBatches`
 *   for a hub that sends no count), or dropped here (`overflowed`), so the
 *   bridge released what that hub had left on, as far as it knew, rather
 *   than leave a note stuck whose note_off was lost.
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
  /** For `hubgap`: MIDI messages of that hub lost on the way. */
  readonly lost: number;
  /** For `hubgap`: NATS messages of that hub lost, of unknown size. */
  readonly lostBatches: number;
  /** For `hubgap`: MIDI messages of that hub dropped here, 1 MiB behind. */
  readonly overflowed: number;

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
    this.lost = fields.lost ?? 0;
    this.lostBatches = fields.lostBatches ?? 0;
    this.overflowed = fields.overflowed ?? 0;
  }

  /** How many notes were released. */
  get notes(): number {
    return this.messages.filter((msg) => msg.type === "note_off").length;
  }
}

/** Why a bridge dropped MIDI messages of its own hub's clients. */
export type NatsDropReason = "down" | "unwritten" | "slow" | "closed";

/** The fields of a {@linkcode NatsDropEvent}. */
export interface NatsDropEventInit extends EventInit {
  /** This hub's id on the bus. */
  hub: string;
  /** Why they were dropped. */
  reason: NatsDropReason;
  /** MIDI messages dropped. */
  dropped: number;
  /** Their bytes. */
  droppedBytes: number;
}

/**
 * A `drop` event of a {@linkcode NatsBridge}: MIDI messages of this hub's
 * clients that never went out to the other hubs, and why:
 * - `down`: the link to NATS was down (one event an outage, when the link
 *   is back or the bridge closes);
 * - `unwritten`: the link was lost before they were written to it;
 * - `slow`: NATS took them in too slowly, and the hub cut the bridge off as
 *   a slow client, dropping what it had queued for it (or relayed while the
 *   bridge was out of it, on a full hub);
 * - `closed`: the bridge closed first.
 *
 * Each is counted once, in the bridge's `stats.dropped` (what the bridge
 * took from its hub) or `stats.hubDropped` (what the hub dropped for it).
 * What is lost after it was written to NATS, the other hubs count.
 *
 * @example A drop, as the CLI prints it
 * ```ts
 * import { NatsDropEvent } from "@x/midisock/nats";
 * import assert from "node:assert/strict";
 *
 * const e = new NatsDropEvent("drop", {
 *   hub: "tokyo",
 *   reason: "down",
 *   dropped: 2,
 *   droppedBytes: 6,
 * });
 * assert.equal(
 *   `# nats dropped hub=${e.hub} messages=${e.dropped} droppedBytes=${e.droppedBytes} reason=${e.reason}`,
 *   "# nats dropped hub=tokyo messages=2 droppedBytes=6 reason=down",
 * );
 * ```
 */
export class NatsDropEvent extends Event {
  /** This hub's id on the bus. */
  readonly hub: string;
  /** Why they were dropped. */
  readonly reason: NatsDropReason;
  /** MIDI messages dropped. */
  readonly dropped: number;
  /** Their bytes. */
  readonly droppedBytes: number;

  /**
   * Makes the event.
   *
   * @param type `drop`.
   * @param init The hub, why, and how many messages and bytes.
   */
  constructor(type: "drop", init: NatsDropEventInit) {
    super(type, init);
    this.hub = init.hub;
    this.reason = init.reason;
    this.dropped = init.dropped;
    this.droppedBytes = init.droppedBytes;
  }
}
