// Copyright 2026 the midisock authors. MIT license.

import { asError } from "../util/error_text.ts";
import { type NatsConnection, type NatsMsg, NatsOutbox } from "./_transport.ts";
import { setImmediate } from "node:timers";
import { sleep } from "../util/abort.ts";
import type { Backoff } from "../client/backoff.ts";
import { encodeAll } from "../midi/encode_into.ts";
import { HubEvent, NatsDropEvent, type NatsDropReason } from "./events.ts";
import type { Message } from "../midi/message.ts";
import type { HubClient } from "../bus/hub.ts";
import { Drops, Inbound, Ledger, standIn, tap } from "./_hub_link.ts";
import type { PortServer } from "../bus/port_server.ts";
import { ReconnectEvent } from "../client/events.ts";
import type { SocketPort } from "../port/socket_port.ts";
import type { Transport } from "../transport/transport.ts";
import { TypedEventTarget } from "../util/typed_event_target.ts";
import {
  countMessages,
  Numbers,
  Origin,
  parser,
  readStamp,
  stampHeaders,
} from "./_wire.ts";

/**
 * The most bytes the bridge holds for its hub, from the other hubs, while
 * the hub takes them in slower than they come (its readers are behind).
 */
const INPUT_BYTES = 1024 * 1024;

/**
 * The most bytes the bridge holds for NATS, not yet written to its socket
 * (or one write of the hub's, if longer): a write of the hub's that would
 * go beyond waits until NATS has taken enough. Meanwhile the hub queues for
 * the bridge, and its slow-client rule applies, as to any client.
 */
export const NATS_QUEUED_BYTES = 1024 * 1024;

/** The most hubs gone (by timeout or a lost link) whose numbers are kept. */
const PAST_HUBS = 1024;

/**
 * Counters of a {@linkcode NatsBridge}, since it was made. Every count of
 * what the bus carries is in MIDI messages; a figure in bytes or in NATS
 * messages says so in its name.
 *
 * Each MIDI message that a client of this hub sends and that does not reach
 * another hub is counted once, by the one hub that can know it: here, in
 * `dropped` or `hubDropped` (it never went out), or there, in `lost` (it
 * went out and did not arrive) or `overflowed` (it arrived, and that hub
 * was 1 MiB behind). So what one hub's clients sent, less what another
 * hub's clients received, is the sum of those four counters of the two
 * bridges.
 */
export interface NatsBridgeStats {
  /** MIDI messages published: written to the socket to NATS. */
  published: number;
  /** Their bytes. */
  publishedBytes: number;
  /** The NATS messages that carried them (heartbeats not counted). */
  publishedBatches: number;
  /** MIDI messages received from other hubs. */
  received: number;
  /** Their bytes. */
  receivedBytes: number;
  /** The NATS messages that carried them. */
  receivedBatches: number;
  /**
   * MIDI messages of this hub's clients that the bridge took from its hub
   * and did not publish: the link to NATS was down, or was lost (or the
   * bridge closed) before they were written, or the hub cut the bridge off
   * while it held them. The other hubs release what they lose by it.
   */
  dropped: number;
  /** The bytes of `dropped`. */
  droppedBytes: number;
  /**
   * MIDI messages of this hub's clients that the hub queued for the bridge
   * and dropped when it cut it off as a slow client (NATS took them in too
   * slowly), or relayed while the bridge was out of it (a full hub held
   * it out). The hub counts the bytes of the first in its own
   * `stats.droppedBytes` too.
   */
  hubDropped: number;
  /** The bytes of `hubDropped`. */
  hubDroppedBytes: number;
  /**
   * MIDI bytes handed to NATS and not yet written to its socket (now): at
   * most 1 MiB (or one write of the hub's, if longer).
   */
  queuedBytes: number;
  /**
   * Times the bridge joined its hub again, after the hub cut it off as a
   * slow client (NATS took the bytes in slower than the hub's clients sent
   * them): what the hub dropped for it never reached the other hubs,
   * which release this hub's notes.
   */
  rejoins: number;
  /**
   * Times that messages of another hub were found lost on the way (or
   * dropped here), and its notes released.
   */
  gaps: number;
  /**
   * MIDI messages of other hubs that arrived and were dropped here, because
   * this hub took them in slower than they came and fell 1 MiB behind (or
   * the bridge was closing). Each drop releases that hub's notes, as a gap
   * does (`hubgap`).
   */
  overflowed: number;
  /**
   * MIDI messages of other hubs lost on the way, as the counts that their
   * NATS messages carry tell: across a hub's absence too (a timeout, a lost
   * link), unless it came back as a new run (it restarted).
   */
  lost: number;
  /**
   * NATS messages of other hubs lost on the way whose size is unknown: from
   * a hub of an older version, which sends sequence numbers and no count.
   */
  lostBatches: number;
  /** Notes of other hubs released here (hubs gone, gaps, link lost). */
  releasedNotes: number;
  /**
   * NATS messages on the bus's subjects that were not taken: without the
   * headers or a sequence number, with this hub's own id (two hubs with
   * one id), whose `Midisock-Hub` header is not their subject's last token
   * (a hub speaking for another), or late (older than one taken from the
   * same hub, and so already counted as lost).
   */
  ignored: number;
  /** Other hubs heard now. */
  hubs: number;
}

/** The events of a {@linkcode NatsBridge}. */
export interface NatsBridgeEventMap {
  /** The link to NATS is lost. The hub goes on serving its own clients. */
  disconnect: ReconnectEvent;
  /** The bridge waits, then tries to reach NATS again. */
  reconnecting: ReconnectEvent;
  /** The link to NATS is back, and the bus with it. */
  reconnect: ReconnectEvent;
  /** Another hub was heard for the first time. */
  hubjoin: HubEvent;
  /** Another hub is gone, and its notes were released here. */
  hubleave: HubEvent;
  /** Messages of another hub were lost, and its notes released here. */
  hubgap: HubEvent;
  /** MIDI messages of this hub's clients never went out. */
  drop: NatsDropEvent;
  /** The bridge closed. */
  close: Event;
}

/**
 * The settings of a bridge: the options of {@linkcode joinNats} that it
 * keeps, checked, with their defaults.
 */
export interface BridgeSettings {
  /** The bus. */
  bus: string;
  /** This hub's id on the bus. */
  hub: string;
  /** How often this hub tells the others that it is alive, in ms. */
  heartbeat: number;
  /** How long another hub may stay silent before it is gone, in ms. */
  hubTimeout: number;
  /** The waits between attempts to reach NATS again. */
  backoff: Backoff;
  /** The most MIDI bytes in one NATS message. */
  maxPayload: number;
}

/**
 * Makes a bridge on a link that {@linkcode joinNats} dialed, joins it to
 * its hub, and subscribes (set by NatsBridge, whose constructor is private).
 */
export let openBridge: (
  server: PortServer,
  nc: NatsConnection,
  dial: () => Promise<NatsConnection>,
  options: BridgeSettings,
) => Promise<NatsBridge>;

/**
 * A bridge from a {@linkcode PortServer} (a hub) to a bus on NATS, which
 * {@linkcode joinNats} makes. Every hub bridged to the same bus behaves as
 * one relay: what a client of any hub sends reaches every client of every
 * hub, once, in the order it was sent, and never goes back to its sender.
 *
 * The bridge is one more client of its hub (joined through
 * {@linkcode PortServer.join}), so the hub's relay, queues, limits, filter
 * and counters apply to it as to any client. What the hub relays to it, it
 * publishes; what other hubs publish, it sends into its hub, which relays
 * it to its clients (and never back to the bridge, so nothing loops).
 *
 * It keeps what each other hub has left sounding (a {@linkcode NoteTracker}
 * per hub), and releases it into its own hub when that hub closes, goes
 * silent for `hubTimeout` ms, or loses messages on the way, and releases
 * every other hub's notes when its own link to NATS is lost. Meanwhile the
 * hub goes on serving its own clients, and the bridge dials again with
 * backoff (`disconnect`, `reconnecting` and `reconnect` events).
 *
 * It holds at most 1 MiB that NATS has not taken yet: beyond that it takes
 * nothing more from its hub, which queues for it, and cuts it off as a slow
 * client if NATS stays behind. The bridge then joins its hub again at once
 * (`stats.rejoins`), and the other hubs release this hub's notes.
 *
 * No MIDI message is lost without a count: what never went out is counted
 * here (`stats.dropped`, `stats.hubDropped`, and a `drop` event), and what
 * went out and did not arrive is counted by the hubs that missed it
 * (`stats.lost`, `stats.overflowed`, and a `hubgap` event), from the count
 * of MIDI messages published that each NATS message carries.
 *
 * @example Two hubs, one bus, on a throwaway nats-server
 * ```ts ignore
 * import { connect, message, PortServer } from "@x/midisock";
 * import { joinNats } from "@x/midisock/nats";
 * import assert from "node:assert/strict";
 *
 * const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 }); // a free port
 * const port = probe.addr.port;
 * probe.close();
 * const nats = new Deno.Command("nats-server", {
 *   args: ["-a", "127.0.0.1", "-p", `${port}`],
 *   stderr: "null",
 * }).spawn();
 * for (let i = 0; i < 100; i++) {
 *   try {
 *     (await Deno.connect({ hostname: "127.0.0.1", port })).close();
 *     break;
 *   } catch {
 *     await new Promise((r) => setTimeout(r, 50)); // not listening yet
 *   }
 * }
 * try {
 *   const servers = `nats://127.0.0.1:${port}`;
 *   await using a = new PortServer("127.0.0.1", 0, { relay: true });
 *   await using b = new PortServer("127.0.0.1", 0, { relay: true });
 *   await using _bridgeA = await joinNats(a, { servers, bus: "jam" });
 *   await using _bridgeB = await joinNats(b, { servers, bus: "jam" });
 *   await using keys = await connect("127.0.0.1", a.port);
 *   await using synth = await connect("127.0.0.1", b.port);
 *   while (a.ports.length < 2) await new Promise((r) => setTimeout(r, 1));
 *   await keys.send(message("note_on", { note: 60 }));
 *   // From a client of one hub to a client of the other.
 *   assert.deepEqual(await synth.receive(), message("note_on", { note: 60 }));
 * } finally {
 *   nats.kill();
 *   await nats.status;
 * }
 * ```
 */
export class NatsBridge extends TypedEventTarget<NatsBridgeEventMap> {
  /** This hub's id on the bus. */
  readonly hub: string;
  /** The bus. */
  readonly bus: string;
  // This run of the hub: the others tell a restart from a return by it.
  #instance = crypto.randomUUID().replaceAll("-", "").slice(0, 12);
  #subject: string;
  #busPrefix: string; // `midisock.<bus>.`
  #dial: () => Promise<NatsConnection>;
  #nc: NatsConnection;
  #connected = true;
  #downSince = 0;
  #backoff: Backoff;
  #hubTimeout: number;
  #maxPayload: number;
  #server: PortServer;
  #port!: SocketPort;
  #rejoining = false;
  #gone = new WeakSet<SocketPort>(); // ports whose close event has fired
  // What the bridge holds for its hub, from the other hubs, until the
  // hub's port reads it: it outlives a port (a rejoin takes it over).
  #inbound = new Inbound();
  #outbox: NatsOutbox;
  // Published and not yet written: where each batch ends in the outbox.
  #unsettled: { end: number; messages: number; bytes: number }[] = [];
  #origins = new Map<string, Origin>();
  // The numbers of hubs gone by a timeout or a lost link, for their return.
  #past = new Map<string, Numbers>();
  #seq = 0;
  // MIDI messages published (or being), less those dropped since: the
  // count that each NATS message carries.
  #count = 0;
  #drops = new Drops(); // not reported yet
  // A stand-in client of the hub while the bridge is out of it.
  #absent: { client: HubClient; ledger: Ledger } | undefined;
  #timer: ReturnType<typeof setInterval>;
  #stop = new AbortController();
  #reconnecting: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #stats = {
    published: 0,
    publishedBytes: 0,
    publishedBatches: 0,
    received: 0,
    receivedBytes: 0,
    receivedBatches: 0,
    dropped: 0,
    droppedBytes: 0,
    hubDropped: 0,
    hubDroppedBytes: 0,
    rejoins: 0,
    gaps: 0,
    overflowed: 0,
    lost: 0,
    lostBatches: 0,
    releasedNotes: 0,
    ignored: 0,
  };

  /** Use {@linkcode joinNats}, which dials NATS first. */
  private constructor(
    server: PortServer,
    nc: NatsConnection,
    dial: () => Promise<NatsConnection>,
    options: BridgeSettings,
  ) {
    super();
    this.#server = server;
    this.#outbox = new NatsOutbox(nc);
    this.bus = options.bus;
    this.hub = options.hub;
    this.#busPrefix = `midisock.${this.bus}.`;
    this.#subject = this.#busPrefix + this.hub;
    this.#nc = nc;
    this.#dial = dial;
    this.#backoff = options.backoff;
    this.#hubTimeout = options.hubTimeout;
    this.#maxPayload = options.maxPayload;
    this.#timer = setInterval(() => this.#tick(), options.heartbeat);
  }

  static {
    openBridge = async (server, nc, dial, options) => {
      const bridge = new NatsBridge(server, nc, dial, options);
      try {
        bridge.#join();
        await bridge.#listen(nc);
      } catch (error) {
        await bridge.close();
        throw error;
      }
      return bridge;
    };
  }

  // Joins the hub as one more client (again, after the hub cut it off).
  #join(): void {
    // Set once join() returns: the transport's callbacks may run before
    // (for a client turned away at once).
    const joined: { port?: SocketPort } = {};
    const ledger = new Ledger();
    let wrote = false; // the hub took it in (a port turned away never writes)
    const { readable, stop } = this.#inbound.readable();
    const write = async (bytes: Uint8Array) => {
      wrote = true;
      const messages = ledger.take(bytes);
      // Once NATS has room for them: until then the hub queues for the
      // bridge, and cuts it off if it stays behind (slowClientTimeout).
      const limit = Math.max(0, NATS_QUEUED_BYTES - bytes.length);
      // (A link lost meanwhile takes nothing more; a new one is checked.)
      for (let outbox; (outbox = this.#outbox).pending > limit;) {
        if (outbox.closed) break;
        // A cut wakes waitForRoom(0) (the port takes no more).
        const done = new AbortController();
        try {
          await Promise.race([
            outbox.below(limit, done.signal),
            joined.port?.waitForRoom(0, done.signal).catch(() => {}),
          ]);
        } finally {
          done.abort();
        }
        if (joined.port?.closed && !this.#closing) {
          // The hub cut the bridge off (and it joined again), or let it
          // go: these are dropped, since what the hub relays from now on
          // goes out through the next port, and must not be overtaken.
          this.#drop(messages, bytes.length, "slow");
          this.#report("slow");
          if (this.#port === joined.port) this.#rejoin(joined.port);
          return;
        }
      }
      this.#publish(bytes, messages);
      // The write ends a macrotask later (not a timer: setTimeout(0) waits
      // a millisecond or more): what the hub relays meanwhile (the rest of
      // a client's read, other clients) is queued, and goes out as the
      // next batch, one NATS message.
      await new Promise((resolve) => setImmediate(resolve));
      this.#settle();
    };
    const transport: Transport = {
      readable,
      writable: new WritableStream({ write }),
      write,
      closeWrite: () => Promise.resolve(),
      close: () => {
        stop();
        if (this.#closing || (joined.port && this.#port !== joined.port)) {
          return;
        }
        // The hub let this client go while the bridge is open: it cut it
        // off as slow (then join again), or the hub is closing. (If it
        // never took it in, join() threw, and its caller knows.)
        if (joined.port === undefined) return;
        if (wrote) this.#rejoin(joined.port);
        else this.close().catch(() => {});
      },
    };
    const port = this.#server.join(transport, {
      name: `nats:${this.bus}`,
      snapshot: false, // the bus's state is not this hub's to publish
    });
    // Each message that the hub relays toward the bridge is taken by it,
    // or counted as dropped by the hub; a cut is a rejoin at once, before
    // the hub relays its next message.
    tap(port, ledger, () => {
      if (this.#port === port && !this.#server.closed) this.#rejoin(port);
    });
    port.addEventListener("close", () => {
      this.#gone.add(port);
      // What the hub queued for this port and never wrote to it.
      const slow = ledger.cut && !this.#closing && !this.#server.closed;
      this.#settleLedger(ledger, slow ? "slow" : "closed");
    }, { once: true });
    joined.port = this.#port = port;
  }

  // Counts what the hub handed a port (or the stand-in) and the bridge
  // never took, as the hub's drop.
  #settleLedger(ledger: Ledger, reason: NatsDropReason): void {
    const counts = ledger.settle();
    if (counts.droppedBytes === 0) return;
    this.#stats.hubDropped += counts.dropped;
    this.#stats.hubDroppedBytes += counts.droppedBytes;
    this.#dropEvent(reason, counts);
  }

  // After the hub cut the bridge off: what it dropped for the bridge never
  // reached the other hubs, so a number is skipped (they see a gap, and
  // release this hub's notes); the hub released here what the other hubs
  // had on through the old port, so the bridge forgets it, but for what it
  // still holds for the hub, which goes through the next port.
  //
  // It joins again at once, so that nothing the hub relays falls between
  // the two ports. On a hub at maxClients the old port still counts until
  // it has closed: then the bridge joins once it has, and if other clients
  // took the slot, tries again with its backoff until it gets in or the hub
  // closes. What the hub relays while the bridge is out reaches no other
  // hub: a stand-in client counts it, and the other hubs see the skipped
  // number, and release this hub's notes.
  #rejoin(old: SocketPort | undefined): void {
    if (this.#closing || this.#rejoining) return;
    if (this.#server.closed) {
      this.close().catch(() => {}); // the hub is closing: so is the bridge
      return;
    }
    this.#seq++;
    for (const origin of this.#origins.values()) origin.tracker.release();
    for (const { bytes, hub } of this.#inbound.held()) {
      const tracker = this.#origins.get(hub)?.tracker;
      if (tracker) { for (const m of parser().feed(bytes)) tracker.track(m); }
    }
    if (this.#tryJoin()) return;
    this.#rejoining = true;
    this.#goAbsent();
    const gone = old && !this.#gone.has(old)
      ? new Promise<void>((resolve) =>
        old.addEventListener("close", () => resolve(), { once: true })
      )
      : Promise.resolve();
    (async () => {
      await gone;
      for (let attempt = 1; !this.#stop.signal.aborted; attempt++) {
        if (this.#server.closed) break;
        if (this.#tryJoin()) return;
        await sleep(Math.max(0, this.#backoff(attempt)), this.#stop.signal);
      }
      this.close().catch(() => {}); // the hub is closing
    })().finally(() => this.#rejoining = false);
  }

  // Joins the hub again: false if it has no room (or is closing).
  #tryJoin(): boolean {
    if (this.#server.closed) return false;
    try {
      this.#join();
    } catch {
      return false;
    }
    this.#stats.rejoins++;
    this.#endAbsent();
    return true;
  }

  // While the bridge is out of its hub (a full hub), what the hub relays
  // would reach no other hub: a stand-in client of the hub counts it.
  #goAbsent(): void {
    if (this.#absent || this.#server.closed) return;
    const ledger = new Ledger();
    const client = standIn(`nats:${this.bus}`, ledger);
    this.#server.hub.add(client);
    this.#absent = { client, ledger };
  }

  #endAbsent(): void {
    const absent = this.#absent;
    if (!absent) return;
    this.#absent = undefined;
    this.#server.hub.delete(absent.client);
    this.#settleLedger(absent.ledger, "slow");
  }

  // Counts the batches now written to the socket as published; at the end
  // of a link, the others as dropped (for `end`).
  #settle(end?: "unwritten" | "closed"): void {
    const written = this.#outbox.writtenTotal;
    let i = 0;
    for (; i < this.#unsettled.length; i++) {
      const batch = this.#unsettled[i];
      if (batch.end <= written) {
        this.#stats.published += batch.messages;
        this.#stats.publishedBytes += batch.bytes;
        this.#stats.publishedBatches++;
      } else if (end) {
        this.#count -= batch.messages; // the next count says so
        this.#drop(batch.messages, batch.bytes, end);
      } else {
        break;
      }
    }
    this.#unsettled.splice(0, i);
    if (end) this.#report(end);
  }

  // Counts MIDI messages of this hub's that the bridge took and will not
  // publish; #report() fires the event, one for each outage or loss.
  #drop(dropped: number, droppedBytes: number, reason: NatsDropReason): void {
    if (droppedBytes === 0) return;
    this.#stats.dropped += dropped;
    this.#stats.droppedBytes += droppedBytes;
    this.#drops.add(reason, dropped, droppedBytes);
  }

  #report(reason: NatsDropReason): void {
    const counts = this.#drops.take(reason);
    if (counts) this.#dropEvent(reason, counts);
  }

  #dropEvent(
    reason: NatsDropReason,
    counts: { dropped: number; droppedBytes: number },
  ): void {
    this.dispatchEvent(
      new NatsDropEvent("drop", { hub: this.hub, reason, ...counts }),
    );
  }

  /** The bridge's client port on its hub. */
  get port(): SocketPort {
    return this.#port;
  }

  /** Whether the link to NATS is up now. */
  get connected(): boolean {
    return this.#connected;
  }

  /** The other hubs heard now, by id. */
  get hubs(): string[] {
    return [...this.#origins.keys()];
  }

  /** Whether the bridge is closed (or closing). */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** Counters of messages, bytes, losses and releases. */
  get stats(): NatsBridgeStats {
    this.#settle();
    // A message's payload ends its frame: what is left of a frame that is
    // being written is its payload's tail.
    const written = this.#outbox.writtenTotal;
    let queuedBytes = 0;
    for (const batch of this.#unsettled) {
      queuedBytes += Math.min(batch.bytes, batch.end - written);
    }
    return { ...this.#stats, queuedBytes, hubs: this.#origins.size };
  }

  /**
   * Leaves the bus: says goodbye to the other hubs (which release this
   * hub's notes at once), closes the link to NATS, and leaves the hub,
   * which releases for its clients what the other hubs had left on.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /** Closes the bridge, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #close(): Promise<void> {
    clearInterval(this.#timer);
    this.#stop.abort();
    await this.#reconnecting;
    if (this.#connected) {
      this.#connected = false;
      try {
        this.#nc.publish(this.#subject, undefined, {
          headers: this.#headers(this.#seq, true),
        });
        await this.#nc.drain();
      } catch {
        // The link went down just now.
      }
    }
    await this.#nc.close().catch(() => {});
    this.#settle("closed"); // what the link did not write is dropped
    this.#report("down"); // what the clients sent while it was down
    // End of stream: the hub lets its client go. What other hubs sent that
    // the port has not read yet is dropped here, and counted.
    for (const { bytes, hub } of this.#inbound.end()) {
      const overflowed = countMessages(bytes);
      this.#stats.overflowed += overflowed;
      this.#stats.gaps++;
      this.dispatchEvent(
        new HubEvent("hubgap", { hub, reason: "gap", overflowed }),
      );
    }
    await this.#port?.close();
    this.#endAbsent();
    this.#report("closed"); // what the port still wrote as it closed
    this.dispatchEvent(new Event("close"));
  }

  // Subscribes to the bus on a new link, and watches it.
  async #listen(nc: NatsConnection): Promise<void> {
    nc.subscribe(`midisock.${this.bus}.*`, {
      callback: (error, msg) => {
        if (!error) this.#receive(msg);
      },
    });
    await nc.flush(); // subscribed at the server, before anyone is told
    nc.closed().then((error) => {
      if (this.#nc === nc && !this.#closing) this.#lost(error ?? undefined);
    });
  }

  #headers(seq: number, bye = false) {
    return stampHeaders(this.hub, this.#instance, seq, this.#count, bye);
  }

  // What the hub relays to the bridge: this hub's clients' messages, whole.
  #publish(bytes: Uint8Array, messages: number): void {
    if (!this.#connected) {
      // Counted, and numbered, so that the other hubs see the gap.
      this.#drop(messages, bytes.length, this.#closing ? "closed" : "down");
      this.#seq++;
      return;
    }
    for (let i = 0; i < bytes.length; i += this.#maxPayload) {
      const end = Math.min(bytes.length, i + this.#maxPayload);
      // A copy: the client holds the payload until it is flushed, and the
      // hub may use its buffer again once this returns.
      const payload = bytes.slice(i, end);
      // The messages that end in it (a message cut in two counts once,
      // with its end).
      const n = end - i === bytes.length
        ? messages
        : countMessages(bytes, i, end);
      const seq = ++this.#seq;
      this.#count += n;
      try {
        this.#nc.publish(this.#subject, payload, {
          headers: this.#headers(seq),
        });
      } catch {
        this.#count -= n;
        this.#drop(n, payload.length, "unwritten");
        continue;
      }
      // Published once the socket has taken it (see #settle).
      this.#unsettled.push({
        end: this.#outbox.queuedTotal,
        messages: n,
        bytes: payload.length,
      });
    }
    this.#report("unwritten");
  }

  // What another hub published.
  #receive(msg: NatsMsg): void {
    // A hub speaks for itself only: its id is its subject's last token (so
    // NATS permissions on subjects decide who may be which hub). This hub's
    // own id is another's mistake (noEcho keeps its own messages away).
    const stamp = readStamp(msg, this.#busPrefix);
    if (!stamp || stamp.hub === this.hub) {
      this.#stats.ignored++;
      return;
    }
    const { hub } = stamp;
    const data = msg.data;
    const heartbeat = data.length === 0; // with the hub's last number
    let origin = this.#origins.get(hub);
    if (origin?.numbers.restartedBy(stamp, heartbeat)) {
      // A new run of that hub, while the old one seemed alive: what that
      // one had on is released, and the new one is counted from here.
      this.#gap(hub, origin, {});
      origin.parser = parser();
      origin.numbers = new Numbers();
    }
    if (!origin) {
      origin = new Origin();
      // The same run of a hub, back after a timeout or a lost link: a gap
      // across its absence is counted too.
      const past = this.#past.get(hub);
      this.#past.delete(hub);
      if (past && !past.restartedBy(stamp, heartbeat)) origin.numbers = past;
      this.#origins.set(hub, origin);
      this.dispatchEvent(new HubEvent("hubjoin", { hub }));
    }
    origin.seen = performance.now();
    const numbers = origin.numbers;
    if (numbers.isLate(stamp, heartbeat)) {
      this.#stats.ignored++; // its loss was counted when the gap was seen
      return;
    }
    const skipped = numbers.skipped(stamp, heartbeat);
    // A hub's bytes are one stream, but not across a gap.
    if (skipped > 0) origin.parser = parser();
    const messages = heartbeat ? [] : origin.parser.feed(data);
    const lost = numbers.lost(stamp, messages.length);
    numbers.take(stamp);
    if (skipped > 0 || lost) {
      // Of a hub that sends no count, the NATS messages: of unknown size.
      const lostBatches = lost === undefined ? skipped : 0;
      this.#stats.lost += lost ?? 0;
      this.#stats.lostBatches += lostBatches;
      this.#gap(hub, origin, { lost: lost ?? 0, lostBatches });
    }
    if (!heartbeat) {
      this.#stats.received += messages.length;
      this.#stats.receivedBytes += data.length;
      this.#stats.receivedBatches++;
      for (const m of messages) origin.tracker.track(m);
      if (!this.#inject(messages, hub)) {
        // The hub is behind by INPUT_BYTES (or the bridge closes): these
        // are dropped, counted, and what their hub had on is released, as
        // for a gap.
        this.#stats.overflowed += messages.length;
        this.#gap(hub, origin, { overflowed: messages.length });
      }
    }
    if (stamp.bye) this.#leave(hub, origin, "bye");
  }

  // Sends messages into the hub, as the bridge's client: unless the hub is
  // INPUT_BYTES behind (then false), or `always` (releases), or the bridge
  // has ended its input (false).
  #inject(messages: readonly Message[], hub: string, always = false): boolean {
    if (messages.length === 0) return true;
    const inbound = this.#inbound;
    if (inbound.ended || (!always && inbound.bytes >= INPUT_BYTES)) {
      return false;
    }
    inbound.push(encodeAll(messages), hub);
    return true;
  }

  #release(hub: string, origin: Origin): Message[] {
    const messages = origin.tracker.release();
    this.#inject(messages, hub, true);
    for (const m of messages) {
      if (m.type === "note_off") this.#stats.releasedNotes++;
    }
    return messages;
  }

  #leave(
    hub: string,
    origin: Origin,
    reason: "bye" | "timeout" | "disconnect",
  ) {
    this.#origins.delete(hub);
    this.#past.delete(hub);
    // A hub that said goodbye comes back as a new run; one that went
    // silent or out of reach may come back as the same.
    if (reason !== "bye" && origin.numbers.seq !== undefined) {
      this.#past.set(hub, origin.numbers);
      if (this.#past.size > PAST_HUBS) {
        this.#past.delete(this.#past.keys().next().value!);
      }
    }
    const messages = this.#release(hub, origin);
    this.dispatchEvent(new HubEvent("hubleave", { hub, reason, messages }));
  }

  #gap(
    hub: string,
    origin: Origin,
    counts: { lost?: number; lostBatches?: number; overflowed?: number },
  ): void {
    this.#stats.gaps++;
    const messages = this.#release(hub, origin);
    this.dispatchEvent(
      new HubEvent("hubgap", { hub, reason: "gap", messages, ...counts }),
    );
  }

  // Each heartbeat: say this hub is alive, and give up on silent ones.
  #tick(): void {
    if (this.#connected) {
      try {
        this.#nc.publish(this.#subject, undefined, {
          headers: this.#headers(this.#seq),
        });
      } catch {
        // The link is going down: the closed() watch deals with it.
      }
    }
    const now = performance.now();
    for (const [hub, origin] of this.#origins) {
      if (now - origin.seen > this.#hubTimeout) {
        this.#leave(hub, origin, "timeout");
      }
    }
  }

  // The link to NATS is lost: the other hubs are out of reach.
  #lost(error: Error | undefined): void {
    this.#connected = false;
    this.#settle("unwritten"); // what the lost link did not write is dropped
    this.#downSince = performance.now();
    this.dispatchEvent(new ReconnectEvent("disconnect", { error }));
    for (const [hub, origin] of this.#origins) {
      this.#leave(hub, origin, "disconnect");
    }
    this.#reconnecting = this.#reconnect();
  }

  async #reconnect(): Promise<void> {
    let error: Error | undefined;
    for (let attempt = 1;; attempt++) {
      const delay = Math.max(0, this.#backoff(attempt));
      this.dispatchEvent(
        new ReconnectEvent("reconnecting", { attempt, delay, error }),
      );
      {
        await sleep(delay, this.#stop.signal);
      }
      if (this.#stop.signal.aborted) return;
      let nc: NatsConnection;
      try {
        nc = await this.#dial();
      } catch (e) {
        error = asError(e);
        continue;
      }
      if (this.#stop.signal.aborted) {
        await nc.close().catch(() => {});
        return;
      }
      this.#nc = nc;
      this.#outbox = new NatsOutbox(nc);
      try {
        await this.#listen(nc);
      } catch (e) {
        error = asError(e);
        await nc.close().catch(() => {});
        continue; // it went down again at once
      }
      this.#connected = true;
      this.#report("down"); // what the clients sent while it was down
      this.dispatchEvent(
        new ReconnectEvent("reconnect", {
          attempt,
          downtime: performance.now() - this.#downSince,
        }),
      );
      return;
    }
  }
}
