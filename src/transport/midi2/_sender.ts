// Copyright 2026 the midisock authors. MIT license.
// Private: the sending side of a Network MIDI 2.0 session's UMP Data. Each
// UMP Data command has a 16-bit sequence number, from 0; each datagram
// carries one new command after the N commands before it (forward error
// correction), and a buffer of the recent commands answers Retransmit
// Requests. It knows nothing of sockets.

import { umpWordCount } from "../../midi/ump.ts";
import {
  MAX_DATAGRAM_BYTES,
  MAX_UMP_DATA_WORDS,
  type Midi2Command,
  RetransmitErrorReason,
  type UmpDataCommand,
} from "./_packets.ts";

/** The most FEC commands a datagram repeats. */
export const MAX_FEC = 10;

/** The most commands the retransmit buffer keeps. */
export const MAX_RETRANSMIT_BUFFER = 1000;

/** `a - b` for sequence numbers, as a signed 16-bit distance. */
export function seqDiff(a: number, b: number): number {
  return ((a - b + 0x8000) & 0xffff) - 0x8000;
}

/**
 * The most UMP words of a command such that a datagram of the signature,
 * `fec` repeated commands and one new one stays within the 1,400 bytes.
 */
export function maxCommandWords(fec: number): number {
  const perCommand = Math.floor((MAX_DATAGRAM_BYTES - 4) / (fec + 1));
  return Math.min(MAX_UMP_DATA_WORDS, Math.floor((perCommand - 4) / 4));
}

/** What a sender answers to a Retransmit Request. */
export interface RetransmitAnswer {
  /** Datagrams of the commands asked for that are still buffered. */
  datagrams: Midi2Command[][];
  /** A Retransmit Error for the first number that cannot be sent, if any. */
  error?: Midi2Command;
}

/** The UMP Data side of a session that sends. */
export class UmpSender {
  #fec: number;
  #capacity: number;
  #maxWords: number;
  #next = 0;
  #sent = 0; // commands sent since the last reset (for the first number)
  #history: UmpDataCommand[] = []; // the newest last
  #commands = 0;
  #retransmitted = 0;

  /**
   * @param fec The commands that each datagram repeats (0..10).
   * @param buffer The commands kept for retransmits (0..1000).
   */
  constructor(fec: number, buffer: number) {
    this.#fec = fec;
    this.#capacity = Math.max(fec, buffer);
    this.#maxWords = maxCommandWords(fec);
  }

  /** UMP Data commands sent (retransmits not counted). */
  get commands(): number {
    return this.#commands;
  }

  /** Commands sent again on request. */
  get retransmitted(): number {
    return this.#retransmitted;
  }

  /** The sequence number of the next command. */
  get next(): number {
    return this.#next;
  }

  /** Starts again from sequence number 0, with nothing buffered. */
  reset(): void {
    this.#next = 0;
    this.#sent = 0;
    this.#history = [];
  }

  /**
   * Makes the datagrams that carry `words` (whole UMP messages) now: each
   * with one new command, after the FEC commands before it.
   */
  send(words: readonly number[]): Midi2Command[][] {
    return this.split(words).map((piece) => this.push(piece));
  }

  /**
   * Splits whole UMP messages into the words of commands, each as many as
   * a datagram with its FEC can carry. No sequence number is taken yet.
   */
  split(words: readonly number[]): number[][] {
    const pieces: number[][] = [];
    let at = 0;
    while (at < words.length) {
      let end = at;
      while (end < words.length) {
        const size = umpWordCount(words[end]);
        if (end + size - at > this.#maxWords) break;
        end += size;
      }
      if (end === at) end = Math.min(words.length, at + this.#maxWords);
      pieces.push(words.slice(at, end));
      at = end;
    }
    return pieces;
  }

  /**
   * A datagram sent a little after the last one, so that it, too, can be
   * recovered: a UMP Data command with no UMP (which the specification
   * allows, as amidi2net sends it) after the FEC commands; undefined with
   * no FEC or nothing sent.
   */
  tail(): Midi2Command[] | undefined {
    if (this.#fec === 0 || this.#history.length === 0) return undefined;
    return this.push([]);
  }

  /**
   * The datagram of one new command of `words`, which takes the next
   * sequence number, after the FEC commands before it.
   */
  push(words: number[]): Midi2Command[] {
    const command: UmpDataCommand = {
      type: "ump_data",
      sequence: this.#next,
      words,
    };
    const datagram: Midi2Command[] = this.#fec > 0
      ? this.#history.slice(-this.#fec)
      : [];
    datagram.push(command);
    this.#history.push(command);
    if (this.#history.length > this.#capacity) this.#history.shift();
    this.#next = (this.#next + 1) & 0xffff;
    this.#sent++;
    this.#commands++;
    return datagram;
  }

  /**
   * Answers a Retransmit Request for `count` commands from `sequence` (0:
   * all from it): the ones still buffered, packed into datagrams, and a
   * Retransmit Error for a number that is no longer buffered or was never
   * sent.
   */
  retransmit(sequence: number, count: number): RetransmitAnswer {
    const history = this.#history;
    const error = (seq: number): Midi2Command => ({
      type: "retransmit_error",
      sequence: seq,
      reason: RetransmitErrorReason.DataNotAvailable,
    });
    const oldest = history[0]?.sequence;
    // How far `sequence` is behind the next number to send.
    const back = seqDiff(this.#next, sequence);
    if (oldest === undefined || back <= 0 || back > this.#sent) {
      return { datagrams: [], error: error(sequence) };
    }
    const from = history.length - back;
    if (from < 0) return { datagrams: [], error: error(sequence) };
    const wanted = count === 0 ? back : count;
    const commands = history.slice(from, from + wanted);
    const datagrams: Midi2Command[][] = [];
    let datagram: Midi2Command[] = [];
    let bytes = 4;
    for (const command of commands) {
      const size = 4 + command.words.length * 4;
      if (bytes + size > MAX_DATAGRAM_BYTES) {
        datagrams.push(datagram);
        datagram = [];
        bytes = 4;
      }
      datagram.push(command);
      bytes += size;
    }
    if (datagram.length > 0) datagrams.push(datagram);
    this.#retransmitted += commands.length;
    const beyond = wanted > commands.length
      ? error((sequence + commands.length) & 0xffff)
      : undefined;
    return { datagrams, error: beyond };
  }
}
