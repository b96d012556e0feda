// Copyright 2026 the midisock authors. MIT license.
// The client of Network MIDI 2.0: a UDP socket, an Invitation (sent again
// until the host answers), the answer to its challenge, and the session.

import { formatAddress } from "../address.ts";
import { hostsFor, isLoopback } from "../hosts.ts";
import {
  AuthState,
  ByeReason,
  Capability,
  decodeDatagram,
  type DecodedCommand,
  encodeDatagram,
  type Midi2Command,
} from "./_packets.ts";
import { secretDigest, userDigest } from "./_auth.ts";
import { bindUdp, isIpv6, type UdpSocket } from "./_socket.ts";
import { byeText } from "./_reasons.ts";
import { Midi2RefusedError } from "./midi2_refused_error.ts";
import { checkIdentity, PROCESS_INSTANCE_ID } from "./midi2_listener.ts";
import { Midi2Session } from "./midi2_session.ts";
import {
  type Midi2SessionOptions,
  sessionOptions,
} from "./midi2_session_options.ts";

/** The options of {@linkcode dialMidi2}. */
export interface DialMidi2Options extends Midi2SessionOptions {
  /** This client's UMP endpoint name, never empty. @default {"midisock"} */
  name?: string;
  /** This client's Product Instance Id. By default one for the process. */
  productInstanceId?: string;
  /** The shared secret, for a host that asks for one. */
  secret?: string;
  /** The user, for a host that asks for a user and password. */
  user?: string;
  /** The password of `user`. */
  password?: string;
  /** Milliseconds between Invitations while the host is silent. @default {1000} */
  inviteInterval?: number;
  /**
   * Gives up (the promise rejects with its reason) when it aborts. Without
   * it, dialMidi2 gives up after `timeout` ms (10 s by default).
   */
  signal?: AbortSignal;
}

/**
 * Opens a Network MIDI 2.0 session with the host at `hostname:port`, as a
 * client: an Invitation that always carries a non-empty endpoint name and
 * Product Instance Id, sent again every second until the host answers;
 * with `secret`, or `user` and `password`, the answer to the host's
 * challenge (SHA-256 of its nonce and the credentials). The session it
 * returns is a {@linkcode Midi2Session}: a Transport of MIDI 1.0 bytes, with
 * {@linkcode Midi2Session.ping}.
 *
 * @param hostname The host: an IP address or a name (`localhost` is
 * 127.0.0.1).
 * @param port Its UDP port (the specification has no default port: a host
 * says its own, as Windows MIDI Services' does in its settings, or through
 * mDNS).
 * @param options The client's identity, its credentials, and the session's
 * options.
 * @returns The session, established.
 * @throws {Midi2RefusedError} If the host refuses: a Bye (its reason), a
 * wrong secret or password, or a method the client has no credentials for.
 * @throws {Error} If the host does not answer within the timeout.
 *
 * @example A host that wants a user and password
 * ```ts
 * import { dialMidi2, listenMidi2, Midi2RefusedError } from "@x/midisock/midi2";
 * import assert from "node:assert/strict";
 *
 * await using listener = await listenMidi2(
 *   { hostname: "127.0.0.1", port: 0, users: { ada: "lovelace" } },
 *   () => {},
 * );
 * await assert.rejects(
 *   dialMidi2("127.0.0.1", listener.port, { user: "ada", password: "babbage" }),
 *   (error: Midi2RefusedError) => error.authState === 1,
 * );
 * await using session = await dialMidi2("127.0.0.1", listener.port, {
 *   user: "ada",
 *   password: "lovelace",
 * });
 * assert.equal(session.peerName, "midisock");
 * ```
 */
export async function dialMidi2(
  hostname: string,
  port: number,
  options: DialMidi2Options = {},
): Promise<Midi2Session> {
  const o = sessionOptions(options);
  const name = options.name ?? "midisock";
  const productInstanceId = options.productInstanceId ?? PROCESS_INSTANCE_ID;
  checkIdentity(name, productInstanceId);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(
      `Invalid Network MIDI 2.0 port: expected 1..65535, got ${port}`,
    );
  }
  if ((options.user === undefined) !== (options.password === undefined)) {
    throw new TypeError(
      "Network MIDI 2.0 options user and password go together",
    );
  }
  const host = hostsFor(hostname)[0];
  const where = formatAddress(host, port);
  const peer = bareHost(host); // what each datagram's sender is matched to
  const self = { name, productInstanceId };
  const signal = options.signal ?? AbortSignal.timeout(o.timeout);
  const interval = options.inviteInterval ?? 1000;

  let session: Midi2Session | undefined;
  // Datagrams before the session exists go to the handshake.
  const pending: DecodedCommand[][] = [];
  const early: Uint8Array[] = [];
  let wake: (() => void) | undefined;
  const socket: UdpSocket = await bindUdp(
    isLoopback(host) ? host : isIpv6(host) ? "::" : "0.0.0.0",
    0,
    (bytes, from) => {
      if (
        from.port !== port ||
        (from.hostname !== host && bareHost(from.hostname) !== peer)
      ) return;
      if (session) return session.receive(bytes);
      pending.push(decodeDatagram(bytes).commands);
      early.push(bytes.slice());
      wake?.();
    },
  );
  const send = (commands: Midi2Command[]) =>
    socket.send(encodeDatagram(commands), host, port);
  const capabilities =
    (options.secret !== undefined
      ? Capability.InvitationWithAuthentication
      : 0) |
    (options.user !== undefined
      ? Capability.InvitationWithUserAuthentication
      : 0);
  const invite = () => send([{ type: "invitation", capabilities, ...self }]);

  const fail = (error: Error): never => {
    send([{
      type: "bye",
      reason: ByeReason.InvitationCanceled,
      text: error.message.slice(0, 200),
    }]);
    throw error;
  };
  const refused = (
    reason: string,
    details: { code?: number; authState?: number } = {},
  ) => new Midi2RefusedError(where, reason, details);

  try {
    invite();
    let next = performance.now() + interval;
    let answeredChallenge = false;
    for (;;) {
      signal.throwIfAborted();
      const commands = pending.shift();
      early.shift();
      if (commands === undefined) {
        const wait = Math.max(1, next - performance.now());
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, wait);
          const onAbort = () => done();
          signal.addEventListener("abort", onAbort, { once: true });
          function done() {
            clearTimeout(timer);
            signal.removeEventListener("abort", onAbort);
            wake = undefined;
            resolve();
          }
          wake = done;
        });
        if (performance.now() >= next && !answeredChallenge) {
          invite();
          next = performance.now() + interval;
        }
        continue;
      }
      for (const command of commands) {
        switch (command.type) {
          case "invitation_accepted":
            session = new Midi2Session({
              ...options,
              role: "client",
              send: (bytes) => socket.send(bytes, host, port),
              remoteAddr: { transport: "udp", hostname: host, port },
              localAddr: socket.addr,
              peer: {
                name: command.name,
                productInstanceId: command.productInstanceId,
              },
              self,
              onEnd: () => socket.close(),
            });
            // The datagrams after it are the session's.
            pending.splice(0);
            for (const later of early.splice(0)) session.receive(later);
            return session;
          case "invitation_pending":
            next = performance.now() + 5 * interval;
            break;
          case "authentication_required":
          case "user_authentication_required": {
            const user = command.type === "user_authentication_required";
            if (command.state !== AuthState.FirstAuthenticationRequest) {
              const what = user
                ? `wrong user or password (user ${
                  JSON.stringify(options.user)
                })`
                : "wrong shared secret";
              fail(
                refused(
                  `${what}: the host asks again (authentication state 0x0${command.state}, ${
                    command.state === AuthState.UserNotFound
                      ? "user not found"
                      : "incorrect digest"
                  })`,
                  { authState: command.state },
                ),
              );
            }
            if (user && options.user === undefined) {
              fail(refused("the host requires a user and password"));
            }
            if (!user && options.secret === undefined) {
              fail(refused("the host requires a shared secret"));
            }
            answeredChallenge = true;
            next = performance.now() + o.timeout;
            if (user) {
              send([{
                type: "invitation_with_user_auth",
                digest: await userDigest(
                  command.nonce,
                  options.user!,
                  options.password!,
                ),
                user: options.user!,
              }]);
            } else {
              send([{
                type: "invitation_with_auth",
                digest: await secretDigest(command.nonce, options.secret!),
              }]);
            }
            break;
          }
          case "bye":
            send([{ type: "bye_reply" }]);
            throw refused(byeText(command.reason, command.text), {
              code: command.reason,
            });
          case "nak":
            throw refused(
              `it answered with a NAK (reason 0x${
                command.reason.toString(16).padStart(2, "0")
              })${command.text ? `: ${command.text}` : ""}`,
            );
          default:
            break;
        }
      }
    }
  } catch (error) {
    await socket.close();
    if (signal.aborted && error === signal.reason) {
      throw new Error(
        `Network MIDI 2.0 host ${where} did not answer the invitation${
          options.signal ? "" : ` within ${o.timeout} ms`
        }`,
        { cause: error },
      );
    }
    throw error;
  }
}

// A host as a datagram's sender is compared: no IPv4-mapped prefix, in
// lower case.
function bareHost(host: string): string {
  return host.replace(/^::ffff:/, "").toLowerCase();
}
