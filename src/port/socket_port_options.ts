// Copyright 2026 the midisock authors. MIT license.
// The options and counters of a SocketPort (socket_port.ts), and the check of
// the options that connect() and PortServer make up front.

import { encodeHello } from "../transport/hello.ts";
import { checkPartial } from "./_partial.ts";
import { checkSensing } from "./_sensing.ts";
import type { BufferBudget } from "./buffer_budget.ts";
import {
  MidiParser,
  type MidiParserOptions,
  type MidiParserStats,
} from "../midi/parser.ts";

/** Options for {@linkcode SocketPort}. */
export interface SocketPortOptions extends MidiParserOptions {
  /**
   * Turn on TCP_NODELAY, so that each message goes out at once (for a
   * `Deno.Conn`; a {@linkcode Transport} is already made).
   *
   * @default {true}
   */
  noDelay?: boolean;
  /**
   * How long {@linkcode SocketPort.close} waits for queued messages to be
   * written, in milliseconds, before it drops them (and counts them in
   * `stats.droppedBytes`). Once they are written and the peer has seen the
   * end of the stream, close() reads what the peer still sends until the
   * peer ends too, within the same time, and drops it (counted in
   * `stats.lostMessages`): closing a socket with unread bytes would reset
   * the connection, and a reset can destroy what the peer has not read yet.
   *
   * When a write fails (the peer is gone: a broken pipe, a reset), the port
   * still reads what the peer had sent before it went, to its end, and
   * delivers it while its reader keeps up, for up to this long; then it
   * reads the rest for up to this long again, and counts its messages in
   * `stats.lostMessages`.
   *
   * @default {2000}
   */
  closeTimeout?: number;
  /**
   * The port's name. By default it is the peer's address, `host:port`.
   */
  name?: string;
  /**
   * Open the connection with a hello line, `MIDISOCK/1 name=... token=...`,
   * before any MIDI byte: a name for the server to call this client by,
   * and the token that a server with `token` asks for. It is 7-bit ASCII,
   * so a mido peer ignores it. Each value is percent-encoded; the line is
   * at most 512 bytes (a longer one is a RangeError).
   */
  hello?: { name?: string; token?: string };
  /**
   * Read a hello line if the peer's stream opens with one (a PortServer
   * does this for its clients): it names the port, and
   * {@linkcode SocketPort.hello} gives its fields. Without one, every byte
   * is MIDI.
   *
   * @default {false}
   */
  readHello?: boolean;
  /**
   * A memory budget shared with other ports: after each chunk it reads,
   * the port tells it how many bytes its parser holds for a message still
   * arriving, and discards that message when the budget asks. A PortServer
   * gives its clients one (`maxBufferedBytes`).
   */
  budget?: BufferBudget;
  /**
   * Active sensing, MIDI 1.0's check that a link is alive, made to work
   * over a network: the longest silence, in ms, after which the peer counts
   * as dead and the port closes with an error that says so. It finds a peer
   * that vanished without closing its connection (a pulled cable, a power
   * cut, a stalled proxy), which TCP alone would not notice for hours.
   *
   * The port asks for it in its hello line (`sensing=MS`). A midisock
   * server answers with active sensing (0xFE), and from then on each end
   * sends 0xFE whenever it has sent nothing for a quarter of the time, and
   * takes the 0xFE it receives as a sign of life, not as a message. A mido
   * peer never answers, so it never receives a 0xFE from this port either.
   *
   * MIDI 1.0 allows 300 ms of silence on a cable; a network needs more
   * slack. 0 (off), or between 100 and 3,600,000. {@linkcode connect} with
   * `reconnect` turns it on, at 1000 ms.
   *
   * @default {0}
   */
  activeSensing?: number;
  /**
   * With `activeSensing`: expect it from the start, rather than from the
   * peer's first 0xFE, so that a peer that never answers at all (a hung
   * server, a stalled link) is noticed too. A {@linkcode ReconnectingPort}
   * made by {@linkcode connect} sets it once a server has answered.
   *
   * @default {false}
   */
  expectSensing?: boolean;
  /**
   * How long, in ms, the peer may leave a message half sent before the
   * port gives up on it and closes (the slowloris pattern: a few bytes,
   * then nothing, to hold a connection and its buffer forever). 0 turns
   * the rule off.
   *
   * @default {10000}
   */
  partialTimeout?: number;
}

/** Counters of a {@linkcode SocketPort}. */
export interface SocketPortStats extends MidiParserStats {
  /** Messages given to send() or the writable. */
  sent: number;
  /**
   * Bytes written to the transport. For a peer that asked for the senders'
   * names, this and the other byte counts include the sender lines' bytes.
   */
  writtenBytes: number;
  /** Bytes waiting to be written. */
  queuedBytes: number;
  /** Bytes that were never written because the port closed first. */
  droppedBytes: number;
  /** Active sensing bytes (0xFE) taken as signs of life on this link. */
  activeSensing: number;
  /**
   * Messages that the peer sent and this port read but never delivered:
   * they came after close() had begun, or after a write had failed and the
   * port's reader did not take them within `closeTimeout` (see
   * {@linkcode SocketPortOptions.closeTimeout}). Also in `messages`.
   */
  lostMessages: number;
}

/**
 * Checks a port's options, and returns the close timeout. A bad option
 * throws before anything is opened: connect() and PortServer check their
 * clients' options this way up front.
 */
export function checkPortOptions(options: SocketPortOptions): number {
  new MidiParser(options); // checks runningStatus and maxSysexBytes
  if (options.hello) encodeHello(options.hello); // checks the hello line
  const closeTimeout = options.closeTimeout ?? 2000;
  if (typeof closeTimeout !== "number" || !(closeTimeout >= 0)) {
    throw new RangeError(
      `Invalid closeTimeout option: expected a number of milliseconds >= 0, got ${closeTimeout}`,
    );
  }
  checkSensing(options.activeSensing);
  checkPartial(options.partialTimeout);
  return closeTimeout;
}
