// Copyright 2026 the midisock authors. MIT license.

import { lookup } from "node:dns/promises";
import { formatAddress } from "../address.ts";
import { unbracket } from "../hosts.ts";
import {
  dataSsrc,
  exchange,
  isControl,
  parseControl,
  randomId,
} from "./_control.ts";
import { type Channel, UdpPair } from "./_udp.ts";
import { checkInteger } from "./rtp_midi.ts";
import {
  openSession,
  type RtpSession,
  type RtpSessionOptions,
  type SessionInput,
  sessionSettings,
} from "./rtp_session.ts";

/** Options for {@linkcode connectRtp}. */
export interface ConnectRtpOptions extends RtpSessionOptions {
  /**
   * How many times the invitation (IN) is sent on each port, one
   * `inviteInterval` apart, before giving up (Apple's driver: 12).
   *
   * @default {12}
   */
  invitations?: number;
  /**
   * Milliseconds between two invitations.
   *
   * @default {1000}
   */
  inviteInterval?: number;
  /**
   * This end's control port (the data port is the next). 0 picks a free
   * pair with an even control port, which node-rtpmidi needs.
   *
   * @default {0}
   */
  localPort?: number;
  /** Gives up inviting when it aborts. */
  signal?: AbortSignal;
}

/** The error of an invitation that the peer refused (NO). */
function refused(where: string, name: string): Error {
  return new Deno.errors.ConnectionRefused(
    `RTP-MIDI session at ${where} refused the invitation${
      name ? ` (${name})` : ""
    }`,
  );
}

/**
 * Invites an AppleMIDI participant (a Mac's network session, rtpMIDI on
 * Windows, rtpmidid, an AppleMIDI board, or an {@linkcode RtpListener})
 * to a session: IN on its control port, then on its data port, each sent
 * again every `inviteInterval` ms until it answers OK. This end is the
 * initiator: it starts the clock synchronization with a burst of CK
 * exchanges, and one every `syncInterval` ms after.
 *
 * @param hostname The peer's address or host name (`localhost` is
 * 127.0.0.1).
 * @param port The peer's control port.
 * @param options The session's options, and how to invite.
 * @returns The session, begun.
 * @throws {Deno.errors.ConnectionRefused} If the peer answers NO.
 * @throws {Deno.errors.TimedOut} If it does not answer.
 * @throws {RangeError} If the port or an option is out of range.
 * @throws {TypeError} If an integer option is not an integer.
 *
 * @example A session to a listener, as a port
 * ```ts
 * import { SocketPort } from "@x/midisock";
 * import { connectRtp, RtpListener } from "@x/midisock/rtp";
 * import assert from "node:assert/strict";
 *
 * await using listener = await RtpListener.listen({ hostname: "127.0.0.1", port: 0, name: "studio" }, () => {});
 * const session = await connectRtp("localhost", listener.port);
 * await using port = new SocketPort(session, { name: session.name });
 * assert.equal(port.name, "rtp:studio");
 * ```
 */
export async function connectRtp(
  hostname: string,
  port = 5004,
  options: ConnectRtpOptions = {},
): Promise<RtpSession> {
  const settings = sessionSettings(options);
  if (!Number.isInteger(port) || port < 1 || port > 65534) {
    throw new RangeError(
      `Invalid port: expected an integer in 1..65534 (the data port is the next), got ${port}`,
    );
  }
  const invitations = checkInteger(
    "invitations option",
    options.invitations ?? 12,
    1,
    1000,
  );
  const interval = checkInteger(
    "inviteInterval option",
    options.inviteInterval ?? 1000,
    0,
    3_600_000,
  );
  const signal = options.signal;
  signal?.throwIfAborted();
  const address = await resolve(hostname);
  const where = formatAddress(address, port);
  const token = randomId();
  const ssrc = randomId();

  let step: "control" | "data" = "control";
  let peer: { ssrc: number; name: string } | undefined;
  let input: SessionInput | undefined;
  const done = Promise.withResolvers<RtpSession>();
  const early: [Channel, Uint8Array, { address: string; port: number }][] = [];
  let sent = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const pair = await UdpPair.bind(
    address.includes(":") ? "::" : "0.0.0.0",
    options.localPort ?? 0,
    (channel, bytes, from) => {
      if (input) return feed(input, channel, bytes, from);
      if (from.address !== address) return;
      if (!isControl(bytes)) {
        // MIDI may come before the data port's OK does.
        if (peer && early.length < 64) early.push([channel, bytes, from]);
        return;
      }
      const packet = parseControl(bytes);
      if (typeof packet === "string" || packet.command === "CK") {
        if (peer && early.length < 64) early.push([channel, bytes, from]);
        return;
      }
      if (packet.command === "NO" && packet.token === token) {
        done.reject(refused(where, packet.name));
      } else if (packet.command === "OK" && packet.token === token) {
        if (!peer) {
          peer = { ssrc: packet.ssrc, name: packet.name };
          step = "data";
          sent = 0;
          invite();
        } else if (channel === "data") {
          begin(); // (an OK again for the control port is no answer)
        }
      }
    },
    (error, from) => {
      // (A failed send: UDP makes no promise.)
      if (from && input) {
        input.bad(`could not be handled: ${error.message}`, from);
      }
    },
  );

  const feed = (
    to: SessionInput,
    channel: Channel,
    bytes: Uint8Array,
    from: { address: string; port: number },
  ) => {
    if (
      from.address !== address || (from.port !== port && from.port !== port + 1)
    ) {
      // Not from the peer's two ports, whatever SSRC it bears.
      return to.bad("packet from a port that is not the peer's", from);
    }
    if (!isControl(bytes)) {
      const source = dataSsrc(bytes);
      if (typeof source === "string") return to.bad(source, from);
      if (source !== peer!.ssrc) {
        return to.bad(`RTP packet of another SSRC (${source})`, from);
      }
      return to.data(bytes, from);
    }
    const packet = parseControl(bytes);
    if (typeof packet === "string") return to.bad(packet, from);
    if (packet.ssrc !== peer!.ssrc && packet.command !== "OK") {
      return to.bad(
        `${packet.command} packet of another SSRC (${packet.ssrc})`,
        from,
      );
    }
    to.control(packet, channel, from);
  };

  const invite = () => {
    clearTimeout(timer);
    if (sent >= invitations) {
      done.reject(
        new Deno.errors.TimedOut(
          `No answer from the RTP-MIDI session at ${where} (${step} port) after ${sent} invitation${
            sent === 1 ? "" : "s"
          }`,
        ),
      );
      return;
    }
    sent++;
    pair.send(
      step,
      exchange("IN", token, ssrc, settings.name),
      step === "control" ? port : port + 1,
      address,
    );
    timer = setTimeout(invite, interval);
  };

  const begin = () => {
    clearTimeout(timer);
    input = openSession(
      pair.link({ address, port }, { address, port: port + 1 }, { own: true }),
      {
        role: "initiator",
        token,
        ssrc,
        peerSsrc: peer!.ssrc,
        peerName: peer!.name,
        settings,
      },
    );
    for (const [channel, bytes, from] of early.splice(0)) {
      feed(input, channel, bytes, from);
    }
    done.resolve(input.session);
  };

  const abort = () => done.reject(signal!.reason);
  signal?.addEventListener("abort", abort, { once: true });
  invite();
  try {
    return await done.promise;
  } catch (error) {
    clearTimeout(timer);
    if (peer) pair.send("control", exchange("BY", token, ssrc), port, address);
    await pair.close();
    throw error;
  } finally {
    signal?.removeEventListener("abort", abort);
  }
}

/** A host's address: an IP address as it is, `localhost` as 127.0.0.1. */
async function resolve(hostname: string): Promise<string> {
  const host = unbracket(hostname);
  if (host === "localhost" || host === "") return "127.0.0.1";
  if (/^[\d.]+$/.test(host) || host.includes(":")) return host;
  try {
    return (await lookup(host)).address;
  } catch (error) {
    throw new Deno.errors.NotFound(
      `Cannot resolve the RTP-MIDI host ${JSON.stringify(hostname)}: ${
        (error as Error).message
      }`,
    );
  }
}
