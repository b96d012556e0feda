// Copyright 2026 the midisock authors. MIT license.

import { formatAddress } from "../address.ts";
import { unbracket } from "../hosts.ts";
import { TypedEventTarget } from "../../util/typed_event_target.ts";
import {
  dataSsrc,
  type Exchange,
  exchange,
  isControl,
  parseControl,
  randomId,
} from "./_control.ts";
import { type Channel, UdpPair } from "./_udp.ts";
import { checkInteger } from "./rtp_midi.ts";
import { RtpPacketEvent, RtpSessionEvent } from "./events.ts";
import {
  openSession,
  type RtpSession,
  type RtpSessionOptions,
  type SessionInput,
  type SessionSettings,
  sessionSettings,
} from "./rtp_session.ts";

/** Options for {@linkcode RtpListener.listen}. */
export interface RtpListenerOptions extends RtpSessionOptions {
  /**
   * The address to listen on: an IPv4 or IPv6 address, `localhost`
   * (127.0.0.1), or `""` (every IPv4 interface, 0.0.0.0).
   *
   * @default {""}
   */
  hostname?: string;
  /**
   * The control port (the data port is the next one). 0 picks a free pair
   * with an even control port.
   *
   * @default {5004}
   */
  port?: number;
  /**
   * The most invitations waiting for their data port's IN at once: a newer
   * one takes the place of the oldest, which is counted as refused (with
   * 0, every invitation is answered NO).
   *
   * @default {64}
   */
  maxPending?: number;
  /**
   * Asked before an invitation is answered OK, with the inviting address:
   * the reason to answer NO (counted, and reported with a `refused`
   * event), or undefined to go on. A bus's `(from) =>
   * server.refusal(from.address)` refuses in RTP-MIDI's own terms whom
   * its allow-list or `maxClients` would turn away.
   */
  check?: (from: { address: string; port: number }) => string | undefined;
}

/** What an {@linkcode RtpListener} has counted, beside its sessions' own. */
export interface RtpListenerStats {
  /** Sessions that began. */
  sessions: number;
  /** Packets that were malformed or belonged to no session. */
  badPackets: number;
  /**
   * Invitations answered NO (an IN on the data port with none on the
   * control port, or maxPending 0) or given up for newer ones (maxPending),
   * and sessions that `onSession` threw on (they are told BY); each is a
   * `refused` event.
   */
  refused: number;
}

/** The events of an {@linkcode RtpListener}. */
export interface RtpListenerEventMap {
  /** A participant joined (its invitation on both ports was accepted). */
  session: RtpSessionEvent<RtpSession>;
  /** A packet that was malformed, or that belonged to no session. */
  badpacket: RtpPacketEvent<RtpSession>;
  /**
   * An invitation answered NO (an IN on the data port with none on the
   * control port first, or maxPending 0), one given up for a newer one
   * (maxPending), or a session that `onSession` threw on (told BY): the
   * address, and why (its name first, if it gave one).
   */
  refused: RtpPacketEvent<RtpSession>;
}

// An invitation on the control port, waiting for its IN on the data port.
interface Pending {
  token: number;
  ssrc: number;
  name: string;
  control: { address: string; port: number };
  at: number;
  /** This end's SSRC for the session. */
  ours: number;
}

// A session under way, and its peer's two ports: a packet with the peer's
// SSRC from any other port is not the peer's.
interface Joined {
  input: SessionInput;
  ports: readonly [number, number];
}

// How long an invitation waits for its IN on the data port.
const PENDING_MS = 10_000;

/**
 * The responder of the AppleMIDI session protocol: it listens on a control
 * port and the data port after it, accepts each participant's invitation
 * (IN on both ports, answered OK), and hands each participant's
 * {@linkcode RtpSession} (a `Transport`) to `onSession`. `midisock serve
 * --rtp` hands them to its bus with `PortServer.admit()`, so that each is
 * one client, under the bus's allow-list and `maxClients`.
 *
 * Any datagram is safe: a malformed one, or one that belongs to no session,
 * is counted (`stats.badPackets`) and reported (a `badpacket` event), and
 * the sessions go on.
 *
 * @example Every participant joins a bus
 * ```ts
 * import { message, PortServer, SocketPort } from "@x/midisock";
 * import { connectRtp, RtpListener } from "@x/midisock/rtp";
 * import assert from "node:assert/strict";
 *
 * await using bus = new PortServer("127.0.0.1", 0, { relay: true });
 * await using listener = await RtpListener.listen(
 *   { hostname: "127.0.0.1", port: 0, name: "studio" },
 *   (session) => bus.admit(session, { name: session.name }),
 * );
 * await using a = new SocketPort(await connectRtp("127.0.0.1", listener.port, { name: "a" }));
 * await using b = new SocketPort(await connectRtp("127.0.0.1", listener.port, { name: "b" }));
 * while (bus.ports.length < 2) await new Promise((r) => setTimeout(r, 5));
 * await a.send(message("control_change", { control: 64, value: 127 }));
 * assert.deepEqual(await b.receive(), message("control_change", { control: 64, value: 127 }));
 * ```
 */
export class RtpListener extends TypedEventTarget<RtpListenerEventMap> {
  /** What the listener has counted. */
  readonly stats: RtpListenerStats = { sessions: 0, badPackets: 0, refused: 0 };
  #pair!: UdpPair;
  #settings: SessionSettings;
  #onSession: (session: RtpSession) => void;
  #maxPending: number;
  #check: RtpListenerOptions["check"];
  #pending = new Map<string, Pending>();
  #sessions = new Map<string, Joined>();
  #closed = false;
  #done = Promise.resolve();

  private constructor(
    settings: SessionSettings,
    maxPending: number,
    onSession: (session: RtpSession) => void,
  ) {
    super();
    this.#settings = settings;
    this.#maxPending = maxPending;
    this.#onSession = onSession;
  }

  /**
   * Listens on a control port and the next port, and accepts invitations.
   *
   * @param options Where to listen, and the options of every session.
   * @param onSession Called with each participant's session.
   * @returns The listener, listening.
   * @throws {Deno.errors.AddrInUse} If a port is taken.
   * @throws {RangeError} If an option is out of range.
   * @throws {TypeError} If an integer option is not an integer.
   *
   * @example A listener on a free pair of ports, counting its sessions
   * ```ts
   * import { connectRtp, RtpListener } from "@x/midisock/rtp";
   * import assert from "node:assert/strict";
   *
   * await using listener = await RtpListener.listen(
   *   { hostname: "127.0.0.1", port: 0, name: "studio" },
   *   (session) => console.log(`${session.name} joined`),
   * );
   * assert.equal(listener.port % 2, 0); // the control port; data is the next
   * await using session = await connectRtp("127.0.0.1", listener.port, { name: "keys" });
   * assert.equal(listener.stats.sessions, 1);
   * assert.deepEqual(listener.sessions.map((s) => s.name), ["rtp:keys"]);
   * ```
   */
  static async listen(
    options: RtpListenerOptions,
    onSession: (session: RtpSession) => void,
  ): Promise<RtpListener> {
    const port = options.port ?? 5004;
    if (!Number.isInteger(port) || port < 0 || port > 65534) {
      throw new RangeError(
        `Invalid port option: expected an integer in 0..65534 (the data port is the next), got ${port}`,
      );
    }
    const maxPending = checkInteger(
      "maxPending option",
      options.maxPending ?? 64,
      0,
      65536,
    );
    if (options.check !== undefined && typeof options.check !== "function") {
      throw new TypeError(
        `Invalid check option: expected a function, got ${typeof options
          .check}`,
      );
    }
    const listener = new RtpListener(
      sessionSettings(options),
      maxPending,
      onSession,
    );
    listener.#check = options.check;
    const host = options.hostname ?? "";
    const hostname = host === ""
      ? "0.0.0.0"
      : host === "localhost"
      ? "127.0.0.1"
      : unbracket(host);
    listener.#pair = await UdpPair.bind(
      hostname,
      port,
      (channel, bytes, from) => listener.#datagram(channel, bytes, from),
      // A failed send: UDP makes no promise. A datagram that could not be
      // handled: counted, as a bad one.
      (error, from) => {
        if (from) listener.#bad(`could not be handled: ${error.message}`, from);
      },
    );
    return listener;
  }

  /** The control port (the data port is the next). */
  get port(): number {
    return this.#pair.port;
  }

  /** The address it listens on. */
  get hostname(): string {
    return this.#pair.hostname;
  }

  /** The sessions under way. */
  get sessions(): RtpSession[] {
    return [...this.#sessions.values()].map((s) => s.input.session);
  }

  /**
   * Ends every session (BY) and closes the ports.
   *
   * @returns When the ports are closed, after the BYs have left.
   */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      const ending = [...this.#sessions.values()].map(({ input }) => {
        input.session.close();
        return input.session[Symbol.asyncDispose]();
      });
      // The BYs go out first.
      this.#done = Promise.all(ending).then(() => this.#pair.close());
    }
    return this.#done;
  }

  /** Closes, as close() does, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #datagram(
    channel: Channel,
    bytes: Uint8Array,
    from: { address: string; port: number },
  ): void {
    if (this.#closed) return;
    if (!isControl(bytes)) {
      const ssrc = dataSsrc(bytes);
      if (typeof ssrc === "string") return this.#bad(ssrc, from);
      const input = this.#peer(ssrc, from, "RTP packet");
      if (input) input.data(bytes, from);
      return;
    }
    const packet = parseControl(bytes);
    if (typeof packet === "string") return this.#bad(packet, from);
    const id = key(from.address, packet.ssrc);
    if (!this.#sessions.has(id)) {
      if (packet.command === "IN") {
        return this.#invitation(channel, packet, from, undefined);
      }
      if (packet.command === "BY") {
        // An invitation given up (a late BY of an ended session: nothing).
        if (this.#pending.get(id)?.control.port === from.port) {
          this.#pending.delete(id);
        }
        return;
      }
    }
    const input = this.#peer(packet.ssrc, from, `${packet.command} packet`);
    if (packet.command === "IN") {
      if (input) this.#invitation(channel, packet, from, input);
    } else input?.control(packet, channel, from);
  }

  // The session of the peer whose SSRC a packet bears, if it came from one
  // of that peer's ports; else the packet is counted as bad.
  #peer(
    ssrc: number,
    from: { address: string; port: number },
    what: string,
  ): SessionInput | undefined {
    const joined = this.#sessions.get(key(from.address, ssrc));
    if (joined?.ports.includes(from.port)) return joined.input;
    this.#bad(
      joined
        ? `${what} with the SSRC of ${joined.input.session.name} (${ssrc}) from a port that is not its peer's`
        : `${what} from no session (SSRC ${ssrc})`,
      from,
    );
  }

  #invitation(
    channel: Channel,
    packet: Exchange,
    from: { address: string; port: number },
    input: SessionInput | undefined,
  ): void {
    const id = key(from.address, packet.ssrc);
    const ok = exchange("OK", packet.token, 0, this.#settings.name);
    if (input) {
      // A retry of an invitation already accepted.
      const okAgain = exchange(
        "OK",
        packet.token,
        input.session.ssrc,
        this.#settings.name,
      );
      this.#pair.send(channel, okAgain, from.port, from.address);
      return;
    }
    const now = performance.now();
    for (const [k, p] of this.#pending) {
      if (now - p.at > PENDING_MS) this.#pending.delete(k);
    }
    const pending = this.#pending.get(id);
    if (channel === "control" && !pending) {
      let reason: string | undefined;
      try {
        reason = this.#check?.(from);
      } catch (error) {
        reason = `not checked: ${
          error instanceof Error ? error.message : error
        }`;
      }
      if (reason !== undefined) {
        return this.#refuse(channel, packet, from, reason);
      }
    }
    if (channel === "control") {
      if (!pending && this.#maxPending === 0) {
        return this.#refuse(
          channel,
          packet,
          from,
          "no invitation may wait (maxPending 0)",
        );
      }
      if (!pending && this.#pending.size >= this.#maxPending) {
        // The oldest gives way (a real participant's IN on the data port
        // follows its OK within a round trip), so that invitations left
        // half-open cannot lock everyone out.
        const [oldest, given] = this.#pending.entries().next().value!;
        this.#pending.delete(oldest);
        this.#refused(
          given.control,
          given.name,
          `given up for a newer invitation (maxPending ${this.#maxPending})`,
        );
      }
      const p: Pending = pending ?? {
        token: packet.token,
        ssrc: packet.ssrc,
        name: packet.name,
        control: { address: from.address, port: from.port },
        at: now,
        ours: randomId(),
      };
      this.#pending.set(id, p);
      new DataView(ok.buffer).setUint32(12, p.ours);
      this.#pair.send("control", ok, from.port, from.address);
      return;
    }
    // The data port's IN: the session begins.
    if (!pending || pending.token !== packet.token) {
      return this.#refuse(
        channel,
        packet,
        from,
        "an IN on the data port with no invitation on the control port",
      );
    }
    this.#pending.delete(id);
    const ours = pending.ours;
    new DataView(ok.buffer).setUint32(12, ours);
    this.#pair.send("data", ok, from.port, from.address);
    const control = pending.control;
    const data = { address: from.address, port: from.port };
    const opened: SessionInput = openSession(
      this.#pair.link(control, data, {
        forget: () => {
          if (this.#sessions.get(id)?.input === opened) {
            this.#sessions.delete(id);
          }
        },
      }),
      {
        role: "responder",
        token: pending.token,
        ssrc: ours,
        peerSsrc: pending.ssrc,
        peerName: pending.name,
        settings: this.#settings,
      },
    );
    this.#sessions.set(id, { input: opened, ports: [control.port, data.port] });
    this.stats.sessions++;
    this.dispatchEvent(
      new RtpSessionEvent("session", { session: opened.session }),
    );
    try {
      this.#onSession(opened.session);
    } catch (error) {
      // The callback could not take it (a closed server): the peer is told
      // BY, and it is counted. Nothing is thrown into the socket's handler.
      this.#refused(
        from,
        packet.name,
        `not taken: ${error instanceof Error ? error.message : error}`,
      );
      opened.session.close();
    }
  }

  // Answers an invitation NO, and counts and reports it.
  #refuse(
    channel: Channel,
    packet: Exchange,
    from: { address: string; port: number },
    reason: string,
  ): void {
    this.#pair.send(
      channel,
      exchange("NO", packet.token, 0, this.#settings.name),
      from.port,
      from.address,
    );
    this.#refused(from, packet.name, reason);
  }

  #refused(
    from: { address: string; port: number },
    name: string,
    reason: string,
  ): void {
    this.stats.refused++;
    this.dispatchEvent(
      new RtpPacketEvent("refused", {
        address: formatAddress(from.address, from.port),
        reason: name ? `${name}: ${reason}` : reason,
      }),
    );
  }

  #bad(reason: string, from: { address: string; port: number }): void {
    this.stats.badPackets++;
    this.dispatchEvent(
      new RtpPacketEvent("badpacket", {
        address: formatAddress(from.address, from.port),
        reason,
      }),
    );
  }
}

function key(address: string, ssrc: number): string {
  return `${address}/${ssrc}`;
}
