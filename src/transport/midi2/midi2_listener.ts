// Copyright 2026 the midisock authors. MIT license.
// The host of Network MIDI 2.0: a UDP port that takes invitations (with a
// shared secret or users and passwords, if asked), and hands each session it
// establishes to its owner (a PortServer's admit()).

import { TypedEventTarget } from "../../util/typed_event_target.ts";
import { formatAddress } from "../address.ts";
import { hostsFor } from "../hosts.ts";
import {
  AuthState,
  ByeReason,
  Capability,
  CommandCode,
  decodeDatagram,
  encodeDatagram,
  hasCommand,
  MAX_NAME_BYTES,
  MAX_PRODUCT_INSTANCE_ID_BYTES,
  type Midi2Command,
  NakReason,
} from "./_packets.ts";
import {
  digestsEqual,
  randomNonce,
  secretDigest,
  userDigest,
} from "./_auth.ts";
import { bindUdp, type UdpSocket } from "./_socket.ts";
import { byeText } from "./_reasons.ts";
import { Midi2Session } from "./midi2_session.ts";
import {
  type Midi2SessionOptions,
  sessionOptions,
} from "./midi2_session_options.ts";
import { Midi2Event, type Midi2EventMap } from "./events.ts";

/** The options of a {@linkcode Midi2Listener}. */
export interface Midi2ListenerOptions extends Midi2SessionOptions {
  /**
   * The address to listen on: an IP address, `localhost` (both loopbacks)
   * or `""` (every interface, IPv4 and IPv6). @default {""}
   */
  hostname?: string;
  /** The UDP port; 0 picks a free one. */
  port: number;
  /** This host's UMP endpoint name, never empty. @default {"midisock"} */
  name?: string;
  /**
   * This host's Product Instance Id, never empty (ASCII). By default a
   * random one for the process.
   */
  productInstanceId?: string;
  /**
   * A shared secret: a client must answer the challenge with
   * SHA-256(nonce ‖ secret) (Invitation with Authentication).
   */
  secret?: string;
  /**
   * Users and their passwords: a client must answer the challenge with
   * SHA-256(nonce ‖ user ‖ password) (Invitation with User Authentication).
   */
  users?: ReadonlyMap<string, string> | Record<string, string>;
}

/** The counters of a listener, beside its sessions'. */
export interface Midi2ListenerStats {
  /** Datagrams received, from anyone. */
  datagrams: number;
  /** Datagrams that were malformed (a bad signature, lengths that lie). */
  malformed: number;
  /** Sessions established. */
  sessions: number;
  /** Invitations refused (no matching method, a wrong digest). */
  refused: number;
  /** Commands from an address with no session, answered with a Bye. */
  noSession: number;
  /** NAKs sent for unknown or malformed commands outside a session. */
  naksSent: number;
}

// An invitation that waits for its digest.
interface Challenge {
  kind: "secret" | "user";
  nonce: Uint8Array;
  failures: number;
  peer: { name: string; productInstanceId: string };
  since: number;
}

const MAX_CHALLENGES = 256;
const CHALLENGE_TTL = 30_000;
const MAX_FAILURES = 3;

/** A Product Instance Id for this process: `midisock-` and 8 hex digits. */
export const PROCESS_INSTANCE_ID = "midisock-" +
  Array.from(
    crypto.getRandomValues(new Uint8Array(4)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");

/** Checks an endpoint name or Product Instance Id. */
export function checkIdentity(
  name: string,
  productInstanceId: string,
): void {
  const bytes = new TextEncoder().encode(name).length;
  if (bytes === 0 || bytes > MAX_NAME_BYTES) {
    throw new RangeError(
      `Invalid Network MIDI 2.0 endpoint name ${
        JSON.stringify(name)
      }: expected 1..${MAX_NAME_BYTES} bytes of UTF-8`,
    );
  }
  if (
    !/^[\x20-\x7e]+$/.test(productInstanceId) ||
    productInstanceId.length > MAX_PRODUCT_INSTANCE_ID_BYTES
  ) {
    throw new RangeError(
      `Invalid Network MIDI 2.0 Product Instance Id ${
        JSON.stringify(productInstanceId)
      }: expected 1..${MAX_PRODUCT_INSTANCE_ID_BYTES} printable ASCII characters`,
    );
  }
}

/**
 * Listens for Network MIDI 2.0 clients on a UDP port, and hands each
 * session it establishes to `onSession`. It answers an Invitation with
 * Accepted, or, with a `secret` or `users`, with Authentication Required or
 * User Authentication Required and a fresh 16-byte nonce; a wrong digest
 * gets the challenge again with the state Incorrect Digest (the same for an
 * unknown user, so that user names cannot be guessed), and the third a Bye
 * (Authentication Failed). A client that can do neither method gets a Bye
 * (No Matching Authentication Method). Nothing from a client that has no
 * session reaches `onSession`: its UMP Data gets a Bye (Session Not
 * Established), an unknown command a NAK that echoes its header, and the
 * rest of each datagram is still read.
 *
 * Use {@linkcode listenMidi2} to make one. `onSession` may close the
 * session at once (a bus that turns it away): the client then gets a Bye
 * with the reason, instead of Accepted.
 *
 * @example A bus that Network MIDI 2.0 clients join
 * ```ts
 * import { PortServer } from "@x/midisock";
 * import { dialMidi2, listenMidi2 } from "@x/midisock/midi2";
 * import assert from "node:assert/strict";
 *
 * await using bus = new PortServer("127.0.0.1", 0);
 * await using listener = await listenMidi2(
 *   { hostname: "127.0.0.1", port: 0, secret: "s3cret" },
 *   (session) => bus.admit(session, { name: session.name }),
 * );
 * await using client = await dialMidi2("127.0.0.1", listener.port, {
 *   name: "keys",
 *   secret: "s3cret",
 * });
 * const writer = client.writable.getWriter();
 * await writer.write(new Uint8Array([0xb0, 7, 100]));
 * writer.releaseLock();
 * const { port, message } = await bus.receiveWithPort();
 * assert.equal(port.name, `keys@127.0.0.1:${client.localAddr.port}`);
 * assert.deepEqual(message, { type: "control_change", channel: 0, control: 7, value: 100 });
 * ```
 */
export class Midi2Listener extends TypedEventTarget<Midi2EventMap> {
  #sockets: UdpSocket[] = [];
  #onSession: (session: Midi2Session) => void;
  #options: Midi2ListenerOptions;
  #self: { name: string; productInstanceId: string };
  #users: ReadonlyMap<string, string> | undefined;
  #sessions = new Map<string, Midi2Session>();
  #challenges = new Map<string, Challenge>();
  #closed = false;
  #stats: Midi2ListenerStats = {
    datagrams: 0,
    malformed: 0,
    sessions: 0,
    refused: 0,
    noSession: 0,
    naksSent: 0,
  };

  /**
   * Use {@linkcode listenMidi2}, which binds the sockets first.
   *
   * @param options The options.
   * @param onSession Takes each session established.
   * @throws {RangeError} An option out of range, named.
   */
  constructor(
    options: Midi2ListenerOptions,
    onSession: (session: Midi2Session) => void,
  ) {
    super();
    sessionOptions(options); // checks them now
    const name = options.name ?? "midisock";
    const productInstanceId = options.productInstanceId ?? PROCESS_INSTANCE_ID;
    checkIdentity(name, productInstanceId);
    if (options.secret !== undefined && options.secret === "") {
      throw new RangeError("Invalid Network MIDI 2.0 secret: it is empty");
    }
    const users = options.users instanceof Map
      ? options.users
      : options.users
      ? new Map(Object.entries(options.users))
      : undefined;
    if (users && users.size === 0) {
      throw new RangeError("Invalid Network MIDI 2.0 users: there are none");
    }
    this.#options = options;
    this.#self = { name, productInstanceId };
    this.#users = users;
    this.#onSession = onSession;
  }

  /** Binds the sockets. @internal */
  async _bind(): Promise<void> {
    const hostname = this.#options.hostname ?? "";
    const hosts = hostname === "" ? ["0.0.0.0", "::"] : hostsFor(hostname);
    let port = this.#options.port;
    try {
      for (const host of hosts) {
        let socket: UdpSocket;
        try {
          socket = await bindUdp(
            host,
            port,
            (bytes, from) => this.#onDatagram(socket, bytes, from),
          );
        } catch (error) {
          // A machine with no IPv6 still listens on IPv4, for "" and
          // localhost.
          if (this.#sockets.length > 0 && host.includes(":")) continue;
          throw error;
        }
        this.#sockets.push(socket);
        port = socket.addr.port; // the other family on the same port
      }
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  /** The UDP port. */
  get port(): number {
    return this.#sockets[0]?.addr.port ?? 0;
  }

  /** The addresses it is bound to. */
  get addrs(): Deno.NetAddr[] {
    return this.#sockets.map((s) => s.addr);
  }

  /** The sessions established and not yet ended. */
  get sessions(): Midi2Session[] {
    return [...this.#sessions.values()];
  }

  /** The counters of the listener. */
  get stats(): Readonly<Midi2ListenerStats> {
    return { ...this.#stats };
  }

  /** This host's UMP endpoint name. */
  get name(): string {
    return this.#self.name;
  }

  /** This host's Product Instance Id. */
  get productInstanceId(): string {
    return this.#self.productInstanceId;
  }

  /**
   * Ends every session (a Bye, reason Power Down) and closes the sockets;
   * resolves once they are closed.
   */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      for (const session of [...this.#sessions.values()]) {
        session.end(ByeReason.PowerDown, "the host is closing");
      }
      this.#challenges.clear();
    }
    await Promise.all(this.#sockets.map((socket) => socket.close()));
  }

  /** Closes, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #reply(
    socket: UdpSocket,
    to: Deno.NetAddr,
    commands: Midi2Command[],
  ): void {
    try {
      socket.send(encodeDatagram(commands), to.hostname, to.port);
    } catch {
      // over the limit: nothing of ours is
    }
  }

  #onDatagram(socket: UdpSocket, bytes: Uint8Array, from: Deno.NetAddr) {
    if (this.#closed) return;
    this.#stats.datagrams++;
    const key = formatAddress(from.hostname, from.port);
    let session = this.#sessions.get(key);
    // A session's datagram is decoded once, by the session, unless it may
    // hold an Invitation (the same client again), which is looked at here.
    if (session && !hasCommand(bytes, CommandCode.Invitation)) {
      return session.receive(bytes);
    }
    const { commands, errors } = decodeDatagram(bytes);
    const invitation = commands.find((c) => c.type === "invitation");
    if (session && invitation?.type === "invitation") {
      // The same client again: its reply was lost (answer again), or it
      // started over (a new session; the old one ends).
      if (this.#sameClient(session, invitation)) {
        this.#reply(socket, from, [{
          type: "invitation_accepted",
          ...this.#self,
        }]);
        return;
      }
      session.end(undefined, "the client invited again");
      session = undefined;
    }
    if (session) return session.receive(bytes);
    if (errors.length > 0) {
      this.#stats.malformed++;
      this.dispatchEvent(
        new Midi2Event("drop", {
          name: key,
          reason: `malformed datagram: ${errors.join("; ")}`,
        }),
      );
    }
    let noSessionBye = false;
    for (const command of commands) {
      switch (command.type) {
        case "invitation":
          this.#invitation(socket, from, key, command);
          break;
        case "invitation_with_auth":
        case "invitation_with_user_auth":
          void this.#answer(socket, from, key, command);
          break;
        case "ping":
          this.#reply(socket, from, [{ type: "ping_reply", id: command.id }]);
          break;
        case "bye":
          this.#challenges.delete(key);
          this.#reply(socket, from, [{ type: "bye_reply" }]);
          break;
        case "ump_data":
        case "retransmit_request":
        case "retransmit_error":
        case "session_reset":
        case "session_reset_reply":
          if (!noSessionBye) {
            noSessionBye = true;
            this.#stats.noSession++;
            this.#reply(socket, from, [{
              type: "bye",
              reason: ByeReason.SessionNotEstablished,
              text: "",
            }]);
          }
          break;
        case "unknown":
        case "malformed":
          this.#stats.naksSent++;
          this.#reply(socket, from, [{
            type: "nak",
            reason: command.type === "unknown"
              ? NakReason.CommandNotSupported
              : NakReason.CommandMalformed,
            refusedHeader: command.header,
            text: "",
          }]);
          break;
        default:
          // Replies, NAKs and Bye Replies with no session: nothing to say.
          break;
      }
      if (this.#sessions.has(key)) break; // the rest is the session's
    }
  }

  #sameClient(
    session: Midi2Session,
    command: { name: string; productInstanceId: string },
  ): boolean {
    return session.peerName === command.name &&
      session.peerProductInstanceId === command.productInstanceId &&
      session.stats.datagramsIn === 0;
  }

  #invitation(
    socket: UdpSocket,
    from: Deno.NetAddr,
    key: string,
    command: { name: string; productInstanceId: string; capabilities: number },
  ): void {
    const peer = {
      name: command.name,
      productInstanceId: command.productInstanceId,
    };
    const secret = this.#options.secret !== undefined;
    const users = this.#users !== undefined;
    if (!secret && !users) return this.#establish(socket, from, key, peer);
    const canUser = users &&
      (command.capabilities & Capability.InvitationWithUserAuthentication) !==
        0;
    const canSecret = secret &&
      (command.capabilities & Capability.InvitationWithAuthentication) !== 0;
    if (!canUser && !canSecret) {
      return this.#refuse(
        socket,
        from,
        key,
        ByeReason.NoMatchingAuthenticationMethod,
        `the host requires ${
          secret && users
            ? "a shared secret or a user and password"
            : secret
            ? "a shared secret"
            : "a user and password"
        }, and the client offers neither`,
      );
    }
    const challenge: Challenge = {
      kind: canUser ? "user" : "secret",
      nonce: randomNonce(),
      failures: 0,
      peer,
      since: performance.now(),
    };
    this.#keepChallenge(key, challenge);
    this.#challenge(
      socket,
      from,
      challenge,
      AuthState.FirstAuthenticationRequest,
    );
  }

  #keepChallenge(key: string, challenge: Challenge): void {
    const now = performance.now();
    for (const [k, c] of this.#challenges) {
      if (now - c.since > CHALLENGE_TTL) this.#challenges.delete(k);
    }
    this.#challenges.delete(key);
    if (this.#challenges.size >= MAX_CHALLENGES) {
      this.#challenges.delete(this.#challenges.keys().next().value!);
    }
    this.#challenges.set(key, challenge);
  }

  #challenge(
    socket: UdpSocket,
    from: Deno.NetAddr,
    challenge: Challenge,
    state: number,
  ): void {
    this.#reply(socket, from, [{
      type: challenge.kind === "user"
        ? "user_authentication_required"
        : "authentication_required",
      nonce: challenge.nonce,
      state,
      ...this.#self,
    }]);
  }

  async #answer(
    socket: UdpSocket,
    from: Deno.NetAddr,
    key: string,
    command:
      | { type: "invitation_with_auth"; digest: Uint8Array }
      | { type: "invitation_with_user_auth"; digest: Uint8Array; user: string },
  ): Promise<void> {
    const challenge = this.#challenges.get(key);
    const kind = command.type === "invitation_with_auth" ? "secret" : "user";
    if (challenge === undefined || challenge.kind !== kind) {
      return this.#refuse(
        socket,
        from,
        key,
        ByeReason.InvitationWithAuthenticationRejectedMissingPriorAttempt,
        "an answer to no challenge",
      );
    }
    let expected: Uint8Array;
    let who = "";
    if (command.type === "invitation_with_auth") {
      expected = await secretDigest(challenge.nonce, this.#options.secret!);
    } else {
      const password = this.#users!.get(command.user);
      who = ` of user ${JSON.stringify(command.user)}`;
      // An unknown user is checked against nothing, in the same time.
      expected = await userDigest(
        challenge.nonce,
        command.user,
        password ?? crypto.randomUUID(),
      );
    }
    if (this.#closed || this.#challenges.get(key) !== challenge) return;
    if (digestsEqual(expected, command.digest)) {
      this.#challenges.delete(key);
      return this.#establish(socket, from, key, challenge.peer);
    }
    challenge.failures++;
    const what = kind === "secret"
      ? "wrong shared secret"
      : `wrong user or password${who}`;
    if (challenge.failures >= MAX_FAILURES) {
      this.#challenges.delete(key);
      return this.#refuse(
        socket,
        from,
        key,
        ByeReason.InvitationRejectedAuthenticationFailed,
        `${what}, ${challenge.failures} times`,
      );
    }
    this.#stats.refused++;
    this.dispatchEvent(
      new Midi2Event("refused", {
        name: key,
        reason:
          `${what} (Authentication Required sent again, state Incorrect Digest)`,
      }),
    );
    challenge.nonce = randomNonce();
    challenge.since = performance.now();
    this.#challenge(socket, from, challenge, AuthState.IncorrectDigest);
  }

  #refuse(
    socket: UdpSocket,
    from: Deno.NetAddr,
    key: string,
    code: number,
    why: string,
  ): void {
    this.#stats.refused++;
    this.#reply(socket, from, [{ type: "bye", reason: code, text: why }]);
    this.dispatchEvent(
      new Midi2Event("refused", {
        name: key,
        reason: byeText(code, why),
        code,
      }),
    );
  }

  #establish(
    socket: UdpSocket,
    from: Deno.NetAddr,
    key: string,
    peer: { name: string; productInstanceId: string },
  ): void {
    const session = new Midi2Session({
      ...this.#options,
      role: "host",
      send: (bytes) => socket.send(bytes, from.hostname, from.port),
      remoteAddr: from,
      localAddr: socket.addr,
      peer,
      self: this.#self,
      onEnd: () => {
        if (this.#sessions.get(key) === session) this.#sessions.delete(key);
      },
    });
    session.addEventListener("drop", (event) => {
      this.dispatchEvent(new Midi2Event("drop", event));
    });
    session.addEventListener("end", (event) => {
      this.dispatchEvent(new Midi2Event("end", event));
    });
    this.#sessions.set(key, session);
    this.#stats.sessions++;
    try {
      this.#onSession(session);
    } catch (error) {
      session.end(
        ByeReason.InvitationRejectedUserDidNotAccept,
        error instanceof Error ? error.message : String(error),
      );
    }
    if (session.closed) return; // turned away: the Bye says why
    this.#reply(socket, from, [{ type: "invitation_accepted", ...this.#self }]);
    this.dispatchEvent(new Midi2Event("session", { name: session.name }));
  }
}

/**
 * Binds a {@linkcode Midi2Listener} and returns it.
 *
 * @param options Where to listen, this host's identity, the authentication
 * and the sessions' options.
 * @param onSession Takes each session established (a PortServer's
 * `admit(session, { name: session.name })`).
 * @returns The listener, bound.
 * @throws {RangeError} An option out of range, named.
 * @throws {Error} If it cannot bind, naming the address.
 *
 * @example
 * ```ts
 * import { listenMidi2 } from "@x/midisock/midi2";
 * import assert from "node:assert/strict";
 *
 * await using listener = await listenMidi2(
 *   { hostname: "127.0.0.1", port: 0, name: "studio" },
 *   (session) => session.close(),
 * );
 * assert.ok(listener.port > 0);
 * assert.equal(listener.name, "studio");
 * ```
 */
export async function listenMidi2(
  options: Midi2ListenerOptions,
  onSession: (session: Midi2Session) => void,
): Promise<Midi2Listener> {
  const listener = new Midi2Listener(options, onSession);
  await listener._bind();
  return listener;
}
