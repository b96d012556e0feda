// Copyright 2026 the midisock authors. MIT license.
// The events of a server and its hub, each built from an init object, as
// the DOM's `new Event(type, init)` is.

import type { Message } from "../midi/message.ts";
import type { SocketPort } from "../port/socket_port.ts";

/**
 * The fields of a {@linkcode PortEvent}: the client, and what it cost.
 *
 * @example A disconnect event made by hand
 * ```ts
 * import { connect, PortEvent, type PortEventInit, PortServer } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * await using server = new PortServer("127.0.0.1", 0);
 * await using port = await connect("127.0.0.1", server.port);
 * const init: PortEventInit = { port, messages: 2 };
 * const event = new PortEvent("disconnect", init);
 * assert.deepEqual([event.port, event.droppedBytes, event.messages], [port, 0, 2]);
 * ```
 */
export interface PortEventInit extends EventInit {
  /** The client. */
  port: SocketPort;
  /**
   * Bytes that were queued for the client and dropped.
   *
   * @default {0}
   */
  droppedBytes?: number;
  /**
   * For `disconnect`, how many messages of the client the server has taken.
   *
   * @default {0}
   */
  messages?: number;
  /**
   * For `disconnect`, how many messages the client sent that the server
   * read but never delivered (`lostMessages` in its port's `stats`).
   *
   * @default {0}
   */
  lostMessages?: number;
}

/**
 * An event about one client of a {@linkcode PortServer} or
 * {@linkcode BroadcastHub}: `connect`, `disconnect`, `slowclient` or
 * `hello`.
 *
 * @example Listening for clients
 * ```ts
 * import { connect, PortServer } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * await using server = new PortServer("127.0.0.1", 0);
 * const connected = new Promise<string>((resolve) =>
 *   server.addEventListener("connect", (event) => resolve(event.port.name), { once: true })
 * );
 * server.poll(); // use the server as a port: it adopts clients
 * await using client = await connect("127.0.0.1", server.port);
 * assert.equal(await connected, `127.0.0.1:${client.localAddr.port}`);
 * ```
 */
export class PortEvent extends Event {
  /** The client. */
  readonly port: SocketPort;
  /** Bytes that were queued for the client and dropped (for `slowclient`). */
  readonly droppedBytes: number;
  /**
   * For `disconnect`: how many messages of the client the server has taken,
   * all told: each message it received from the client (delivered to the
   * readers, or refused with a `filtered` event) and each that it released
   * for the client when it left. A reader of `withPorts()` from the start
   * that has seen this many of the client's messages and `filtered` events
   * has seen all of them: the CLI prints a client's `# disconnect` line
   * then. (Not so for a relay whose reader stopped: it relays the messages
   * it counts, and keeps none for readers; nor, once the server closes,
   * for the messages that come after its readers' end.) 0 for other
   * events.
   */
  readonly messages: number;
  /**
   * For `disconnect`: how many messages the client sent that the server
   * read but never delivered, because the client's port was closing (the
   * server closed, or a write to the client failed and the server's
   * readers did not take the rest in time). 0 for other events.
   */
  readonly lostMessages: number;

  /**
   * Makes the event.
   *
   * @param type `connect`, `disconnect`, `slowclient` or `hello`.
   * @param init The client, and the bytes and messages counted with it.
   *
   * @example A slow client's event
   * ```ts
   * import { connect, PortEvent, PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * await using port = await connect("127.0.0.1", server.port);
   * const event = new PortEvent("slowclient", { port, droppedBytes: 512 });
   * assert.equal(event.droppedBytes, 512);
   * ```
   */
  constructor(
    type: "connect" | "disconnect" | "slowclient" | "hello",
    init: PortEventInit,
  );
  /**
   * Makes the event the old way.
   *
   * @deprecated Use `new PortEvent(type, { port, droppedBytes, messages })`.
   * @param type `connect`, `disconnect`, `slowclient` or `hello`.
   * @param port The client.
   * @param droppedBytes Bytes dropped with it.
   * @param messages For `disconnect`, the client's messages taken.
   */
  constructor(
    type: string,
    port: SocketPort,
    droppedBytes?: number,
    messages?: number,
  );
  constructor(
    type: string,
    init: PortEventInit | SocketPort,
    droppedBytes?: number,
    messages?: number,
  ) {
    // An init has a port; a port (the old form) has none.
    const old = !("port" in init);
    const fields = old ? { port: init, droppedBytes, messages } : init;
    super(type, old ? undefined : fields);
    this.port = fields.port;
    this.droppedBytes = fields.droppedBytes ?? 0;
    this.messages = fields.messages ?? 0;
    this.lostMessages = (fields as PortEventInit).lostMessages ?? 0;
  }
}

/**
 * The fields of a {@linkcode RejectEvent}: who was turned away, and why.
 *
 * @example A reject event made by hand
 * ```ts
 * import { RejectEvent, type RejectEventInit } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * const init: RejectEventInit = { address: "10.0.0.9:5000", reason: "not on the allow-list" };
 * const event = new RejectEvent("reject", init);
 * assert.equal(`${event.address}: ${event.reason}`, "10.0.0.9:5000: not on the allow-list");
 * ```
 */
export interface RejectEventInit extends EventInit {
  /** The client's address, `host:port`. */
  address: string;
  /** Why it was turned away, such as `not on the allow-list`. */
  reason: string;
}

/**
 * A client that a {@linkcode PortServer} turned away: the `reject` event.
 * It was closed before a byte of it was read (not on the allow-list, over
 * `maxClients`), or before anything it sent was delivered.
 *
 * @example Seeing a client turned away
 * ```ts
 * import { connect, PortServer, type RejectEvent } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * await using server = new PortServer("127.0.0.1", 0, { maxClients: 0 });
 * const rejected = Promise.withResolvers<RejectEvent>();
 * server.addEventListener("reject", (event) => rejected.resolve(event));
 * await using client = await connect("127.0.0.1", server.port);
 * const event = await rejected.promise;
 * assert.equal(event.address, `127.0.0.1:${client.localAddr.port}`);
 * assert.equal(event.reason, "over maxClients (0)");
 * ```
 */
export class RejectEvent extends Event {
  /** The client's address, `host:port`. */
  readonly address: string;
  /** Why it was turned away, such as `not on the allow-list`. */
  readonly reason: string;

  /**
   * Makes the event.
   *
   * @param type `reject`.
   * @param init The client's address, and why.
   *
   * @example A client over the limit
   * ```ts
   * import { RejectEvent } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * const event = new RejectEvent("reject", {
   *   address: "127.0.0.1:5000",
   *   reason: "over maxClients (0)",
   * });
   * assert.equal(event.type, "reject");
   * ```
   */
  constructor(type: "reject", init: RejectEventInit);
  /**
   * Makes the event, named `reject`, the old way.
   *
   * @deprecated Use `new RejectEvent("reject", { address, reason })`.
   * @param address The client's address.
   * @param reason Why.
   */
  constructor(address: string, reason: string);
  constructor(type: string, init: RejectEventInit | string) {
    // The old form's second argument is the reason, a string.
    const old = typeof init === "string";
    super(old ? "reject" : type, old ? undefined : init);
    this.address = old ? type : init.address;
    this.reason = old ? init : init.reason;
  }
}

/**
 * The fields of a {@linkcode ReleaseEvent}: the client that left, and the
 * messages emitted for it.
 *
 * @example A release event made by hand
 * ```ts
 * import { connect, message, PortServer, ReleaseEvent, type ReleaseEventInit } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * await using server = new PortServer("127.0.0.1", 0);
 * await using port = await connect("127.0.0.1", server.port);
 * const init: ReleaseEventInit = {
 *   port,
 *   messages: [message("note_off", { note: 60 }), message("control_change", { control: 64 })],
 * };
 * const event = new ReleaseEvent("release", init);
 * assert.deepEqual([event.notes, event.pedals], [1, 1]);
 * ```
 */
export interface ReleaseEventInit extends EventInit {
  /** The client that left. */
  port: SocketPort;
  /** The messages emitted for it: note_offs, then control_change 64 = 0. */
  messages: readonly Message[];
}

/**
 * A client left with notes on or a sustain pedal down, and the server
 * released them for it, as if the client had sent the messages: the
 * `release` event of a {@linkcode PortServer} (option `releaseNotes`).
 *
 * @example Counting what the server releases
 * ```ts
 * import { connect, message, PortServer } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * await using server = new PortServer("127.0.0.1", 0, { relay: true });
 * const released = new Promise<number>((resolve) =>
 *   server.addEventListener("release", (event) => resolve(event.notes))
 * );
 * const player = await connect("127.0.0.1", server.port);
 * await player.send(message("note_on", { note: 60, velocity: 100 }));
 * await player.send(message("note_on", { note: 64, velocity: 100 }));
 * await player.close(); // without its note_offs
 * assert.equal(await released, 2);
 * ```
 */
export class ReleaseEvent extends Event {
  /** The client that left. */
  readonly port: SocketPort;
  /** The messages emitted for it: note_offs, then control_change 64 = 0. */
  readonly messages: readonly Message[];

  /**
   * Makes the event.
   *
   * @param type `release`.
   * @param init The client that left, and the messages emitted for it.
   *
   * @example Two notes released
   * ```ts
   * import { connect, message, PortServer, ReleaseEvent } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * await using port = await connect("127.0.0.1", server.port);
   * const messages = [60, 64].map((note) => message("note_off", { note }));
   * const event = new ReleaseEvent("release", { port, messages });
   * assert.equal(event.notes, 2);
   * ```
   */
  constructor(type: "release", init: ReleaseEventInit);
  /**
   * Makes the event, named `release`, the old way.
   *
   * @deprecated Use `new ReleaseEvent("release", { port, messages })`.
   * @param port The client that left.
   * @param messages The messages emitted for it.
   */
  constructor(port: SocketPort, messages: readonly Message[]);
  constructor(
    type: "release" | SocketPort,
    init: ReleaseEventInit | readonly Message[],
  ) {
    // The old form starts with the port, the new one with the type.
    const old = typeof type !== "string";
    const fields = old
      ? { port: type, messages: init as readonly Message[] }
      : init as ReleaseEventInit;
    super(old ? "release" : type, old ? undefined : fields);
    this.port = fields.port;
    this.messages = fields.messages;
  }

  /** How many notes were released. */
  get notes(): number {
    return this.messages.filter((msg) => msg.type === "note_off").length;
  }

  /** On how many channels the sustain pedal was let up. */
  get pedals(): number {
    return this.messages.length - this.notes;
  }
}

/**
 * The fields of a {@linkcode FilterEvent}: the client, its message, and
 * why it was not delivered.
 *
 * @example A filter event made by hand
 * ```ts
 * import { connect, FilterEvent, type FilterEventInit, message, PortServer } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * await using server = new PortServer("127.0.0.1", 0);
 * await using port = await connect("127.0.0.1", server.port);
 * const init: FilterEventInit = { port, message: message("start"), reason: "filter" };
 * const event = new FilterEvent("filtered", init);
 * assert.equal(`${event.message.type} ${event.reason}`, "start filter");
 * ```
 */
export interface FilterEventInit extends EventInit {
  /** The client that sent it. */
  port: SocketPort;
  /** The message. */
  message: Message;
  /** `"sysex"` (acceptSysex is false), `"filter"`, or the filter's error. */
  reason: string;
}

/**
 * A message from a client that a {@linkcode PortServer} did not deliver:
 * the `filtered` event. Either the server takes no sysex (`acceptSysex:
 * false`), or its `filter` said no (or threw).
 *
 * @example Seeing a sysex held back
 * ```ts
 * import { connect, type FilterEvent, message, PortServer } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * await using server = new PortServer("127.0.0.1", 0, { acceptSysex: false });
 * const filtered = Promise.withResolvers<FilterEvent>();
 * server.addEventListener("filtered", (event) => filtered.resolve(event));
 * await using client = await connect("127.0.0.1", server.port);
 * await client.send(message("sysex", { data: [0x7e, 0x7f] }));
 * await client.send(message("start"));
 * assert.deepEqual(await server.receive(), message("start"));
 * assert.equal((await filtered.promise).reason, "sysex");
 * assert.equal(server.stats.filtered, 1);
 * ```
 */
export class FilterEvent extends Event {
  /** The client that sent it. */
  readonly port: SocketPort;
  /** The message. */
  readonly message: Message;
  /** `"sysex"` (acceptSysex is false), `"filter"`, or the filter's error. */
  readonly reason: string;

  /**
   * Makes the event.
   *
   * @param type `filtered`.
   * @param init The client, its message, and why it was not delivered.
   *
   * @example A sysex held back
   * ```ts
   * import { connect, FilterEvent, message, PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * await using port = await connect("127.0.0.1", server.port);
   * const event = new FilterEvent("filtered", {
   *   port,
   *   message: message("sysex", { data: [0x7e] }),
   *   reason: "sysex",
   * });
   * assert.equal(event.reason, "sysex");
   * ```
   */
  constructor(type: "filtered", init: FilterEventInit);
  /**
   * Makes the event, named `filtered`, the old way.
   *
   * @deprecated Use `new FilterEvent("filtered", { port, message, reason })`.
   * @param port The client.
   * @param message The message.
   * @param reason Why it was not delivered.
   */
  constructor(port: SocketPort, message: Message, reason: string);
  constructor(
    type: "filtered" | SocketPort,
    init: FilterEventInit | Message,
    reason?: string,
  ) {
    // The old form starts with the port, the new one with the type.
    const old = typeof type !== "string";
    const fields = old
      ? { port: type, message: init as Message, reason: reason! }
      : init as FilterEventInit;
    super(old ? "filtered" : type, old ? undefined : fields);
    this.port = fields.port;
    this.message = fields.message;
    this.reason = fields.reason;
  }
}
