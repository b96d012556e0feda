// Copyright 2026 the midisock authors. MIT license.

import type { BroadcastHubOptions } from "./hub.ts";
import type { Message } from "../midi/message.ts";
import type { SocketPort, SocketPortOptions } from "../port/socket_port.ts";

/**
 * Options for {@linkcode PortServer}: for the server, its hub, and its
 * clients' ports (their parsers, TCP_NODELAY and close timeout).
 */
export interface PortServerOptions
  extends Omit<SocketPortOptions, "name">, BroadcastHubOptions {
  /**
   * The server's name. Its clients are always named by their addresses.
   *
   * @default {"host:port"}
   */
  name?: string;
  /**
   * Make the server a bus: each client's messages go to every other client
   * (never back to the sender), encoded once, as well as to the server's
   * own readers. It works with no one reading the server: until the server
   * is read (receive, poll, iteration, readable or withPorts), and after an
   * iteration ends (break) or the readable is cancelled, it relays only,
   * and keeps nothing for its readers. While it is read, a reader that falls
   * behind holds the clients back, as without relay: nothing is lost.
   *
   * @default {false}
   */
  relay?: boolean;
  /**
   * The clients that may connect: addresses and CIDR blocks, IPv4 and IPv6
   * (`["127.0.0.1", "10.0.0.0/8", "fd00::/8"]`). An IPv4 client of a
   * dual-stack listener matches its IPv4 form. Any other client is closed,
   * nothing of it delivered (told why, if its hello line asks), counted in
   * `stats.rejected`, and reported with a `reject` event. By default anyone
   * may connect.
   */
  allow?: string[];
  /**
   * The most clients at once. One more is turned away (told why, if its
   * hello line asks), counted in `stats.rejected` and reported with a
   * `reject` event. Each client holds
   * a file descriptor, and Deno's accept() fails (or worse) once the
   * process runs out of them: keep this below the process's limit
   * (`ulimit -n`). The default is 1024, or the limit less an eighth of it
   * (at least 128) where that is lower and the process can read the limit
   * (Linux, where Deno asks for `--allow-all` to read `/proc/self/limits`).
   * Under a soft limit of 1024, the usual one on Linux, give a lower
   * `maxClients`, or raise the limit (`ulimit -n 4096`).
   *
   * @default {1024}
   */
  maxClients?: number;
  /**
   * Take sysex from clients. With `false`, a sysex from a client (which
   * could overwrite a synth's patches) is neither relayed nor read: it is
   * counted in `stats.filtered` and reported with a `filtered` event.
   *
   * @default {true}
   */
  acceptSysex?: boolean;
  /**
   * Decides, for each message from a client, whether it is delivered
   * (relayed and read). A message it refuses, or throws for, is counted in
   * `stats.filtered` and reported with a `filtered` event. To make a client
   * read-only, refuse everything from it.
   */
  filter?: (message: Message, from: SocketPort) => boolean;
  /**
   * Listen with TLS: a certificate chain and its private key, PEM text.
   * Clients then connect with `connect(host, port, { tls: ... })`. A client
   * whose TLS handshake fails (one that speaks plain TCP, or that does not
   * trust the certificate) is closed, counted in `stats.rejected` and
   * reported with a `reject` event; the others carry on.
   */
  tls?: { cert: string; key: string };
  /**
   * Take in only clients that open with a hello line carrying this token
   * (`connect(host, port, { hello: { token } })`), within `helloTimeout`.
   * Any other client (no hello line, no token, a wrong one, too late, a bad
   * or oversized line) is closed, counted in `stats.rejected` and reported
   * with a `reject` event, and nothing it sent reaches anyone. Tokens are
   * compared in constant time. A server without a token still takes a
   * client's name from its hello line.
   */
  token?: string;
  /**
   * The most bytes that all clients together may hold in messages that
   * have not finished arriving (sysex in progress). When a client's chunk
   * would pass it, the client holding the most discards its partial
   * message, counted (`stats.bufferDiscards`, and the client's
   * `discardedMessages`) and reported as a `drop` event. Each client alone
   * is bounded by `maxSysexBytes`.
   *
   * @default {67108864}
   */
  maxBufferedBytes?: number;
  /**
   * How long a client has to finish its TLS handshake, and to send its
   * hello line to a server with a token, in milliseconds.
   *
   * @default {2000}
   */
  helloTimeout?: number;
  /**
   * The most connections that wait for their TLS handshake or hello line
   * (or to be told why they are turned away), apart from `maxClients`.
   * Past it, the oldest that has waited a tenth of `helloTimeout` is
   * closed (`over maxPending (N)`), and until one has, the listener
   * accepts no more. See docs/security.md.
   *
   * @default {64}
   */
  maxPending?: number;
  /**
   * When a client leaves for any reason (it closed, failed, was reset, was
   * cut off as a slow client, left a message half sent, or went silent
   * under active sensing), emit the messages that release what it left
   * sounding, as if it had sent them: a note_off for each note it left on,
   * and control_change 64 value 0 for each channel where it left the
   * sustain pedal down (see {@linkcode NoteTracker}). They reach the
   * server's readers, tagged with that client in {@linkcode PortServer.withPorts},
   * and the relay, and a `release` event counts them. No CC 123 is sent,
   * which would silence the other players too. Nothing is released when
   * the server itself closes, and a client refused at its hello line never
   * had a message delivered, so it has nothing to release. It applies to
   * the clients that the server adopts, not to those that
   * {@linkcode PortServer.accept} hands out: their messages are yours.
   *
   * @default {true}
   */
  releaseNotes?: boolean;
  /**
   * Bring late joiners in sync: a client that joins the bus (or rejoins,
   * after a reconnect) first receives the controller state of each
   * channel that the server has broadcast or relayed so far (bank select,
   * program, controllers and pitchwheel, from {@linkcode NoteTracker.snapshot}),
   * but no notes. It applies to the clients that the server adopts, not to
   * those that {@linkcode PortServer.accept} hands out.
   *
   * @default {false}
   */
  snapshot?: boolean;
  /**
   * How long, in ms, a client may leave a message half sent before it is
   * cut off (see {@linkcode SocketPortOptions.partialTimeout}). 0 turns the
   * rule off.
   *
   * @default {10000}
   */
  partialTimeout?: number;
}
