// Copyright 2026 the midisock authors. MIT license.
// Universal MIDI Packets (UMP) and MIDI 1.0 messages, both ways, with the
// default translation of the UMP and MIDI 2.0 Protocol specification
// (M2-104-UM v1.1): MIDI 1.0 in UMP (MT 0x1, 0x2) maps 1:1, SysEx7 (MT 0x3)
// is joined and split, and MIDI 2.0 channel voice (MT 0x4) is scaled down and
// up. It knows nothing of sockets.

import { scaleDown, scaleUp } from "./_ump_scale.ts";
import {
  decodeUmpStream,
  streamTextBytes,
  type UmpProtocol,
  type UmpStreamMessage,
} from "./ump_stream.ts";

/** The number of 32-bit words of each UMP message type (MT 0x0..0xF). */
const WORDS_OF_TYPE = [1, 1, 1, 2, 2, 4, 1, 1, 2, 2, 2, 3, 3, 4, 4, 4];

/**
 * How many 32-bit words a UMP message takes, read from its first word's
 * message type (the top four bits).
 *
 * @param word0 The first word of the message.
 * @returns 1, 2, 3 or 4.
 *
 * @example
 * ```ts
 * import { umpWordCount } from "./ump.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(umpWordCount(0x20903c64), 1); // MT 0x2, a note on
 * assert.equal(umpWordCount(0x40903c00), 2); // MT 0x4
 * assert.equal(umpWordCount(0xf0050200), 4); // MT 0xF
 * ```
 */
export function umpWordCount(word0: number): number {
  return WORDS_OF_TYPE[(word0 >>> 28) & 0xf];
}

/** The default bound of a joined sysex, in bytes (F0 and F7 included). */
export const DEFAULT_MAX_SYSEX = 1024 * 1024;

/** Options for {@linkcode UmpToMidi1}. */
export interface UmpToMidi1Options {
  /** The UMP group (0..15) whose messages map; others are counted. @default {0} */
  group?: number;
  /**
   * The longest sysex joined from SysEx7 packets, F0 and F7 included. A
   * longer one is dropped whole and reported. @default {1048576}
   */
  maxSysex?: number;
}

/** A UMP message that did not become MIDI 1.0, and why. */
export interface UmpDrop {
  /** Why, in a sentence that names the message. */
  reason: string;
  /** The words of the message (the first ones, for a sysex). */
  words: readonly number[];
}

/** What one {@linkcode UmpToMidi1.push} made of its words. */
export interface UmpToMidi1Result {
  /** Complete MIDI 1.0 messages, each its own bytes (a sysex with F0, F7). */
  messages: Uint8Array[];
  /** What had no MIDI 1.0 form or was malformed, each with a reason. */
  dropped: UmpDrop[];
  /** UMP Stream messages (MT 0xF), for the session, not the bus. */
  stream: UmpStreamMessage[];
}

/** The counts of a {@linkcode UmpToMidi1} since it was made. */
export interface UmpToMidi1Stats {
  /** MIDI 1.0 messages made. */
  messages: number;
  /** UMP messages dropped, each reported once in a result. */
  dropped: number;
  /** Messages of another group, not mapped. */
  otherGroup: number;
  /** Utility messages (MT 0x0: NOOP, JR clock and timestamps), ignored. */
  utility: number;
  /** UMP Stream messages (MT 0xF), returned in `stream`. */
  stream: number;
}

const SYSTEM_LENGTH: Record<number, number> = {
  0xf1: 2,
  0xf2: 3,
  0xf3: 2,
  0xf6: 1,
  0xf8: 1,
  0xfa: 1,
  0xfb: 1,
  0xfc: 1,
  0xfe: 1,
  0xff: 1,
};

/** A MIDI 1.0 message of one, two or three bytes, without an array between. */
function bytes(length: number, b0: number, b1 = 0, b2 = 0): Uint8Array {
  const out = new Uint8Array(length);
  out[0] = b0;
  if (length > 1) out[1] = b1;
  if (length > 2) out[2] = b2;
  return out;
}

const hex = (n: number) => "0x" + (n >>> 0).toString(16).padStart(8, "0");

const MT4_NAMES: Record<number, string> = {
  0x0: "registered per-note controller",
  0x1: "assignable per-note controller",
  0x4: "relative registered controller",
  0x5: "relative assignable controller",
  0x6: "per-note pitch bend",
  0xf: "per-note management",
};

/**
 * Turns UMP words into MIDI 1.0 messages for one group: MIDI 1.0 channel
 * voice (MT 0x2) and system messages (MT 0x1) map 1:1, SysEx7 packets (MT
 * 0x3) are joined into one sysex, and MIDI 2.0 channel voice (MT 0x4) is
 * scaled down (16-bit velocity to 7 bits, 32-bit controllers to 7 bits,
 * pitch to 14 bits; a note on whose velocity scales to 0 gets 1; RPN and NRPN
 * become CC 101/100 or 99/98 then 6 and 38; a program change with a bank
 * becomes CC 0 and 32 first). What has no MIDI 1.0 form (per-note
 * controllers, per-note pitch bend and management, relative controllers,
 * SysEx8 and mixed data, flex data, reserved types) and what is malformed is
 * dropped and reported, never silently. UMP Stream messages come back typed
 * in `stream` (an endpoint name or product instance id of several packets
 * joined into one, `form` 0). Utility messages are ignored (and counted). It never throws
 * on any words.
 *
 * @example A MIDI 2.0 note on, scaled down
 * ```ts
 * import { UmpToMidi1 } from "./ump.ts";
 * import assert from "node:assert/strict";
 *
 * const toMidi1 = new UmpToMidi1();
 * const { messages } = toMidi1.push([0x40903c00, 0xffff0000]);
 * assert.deepEqual(messages, [new Uint8Array([0x90, 60, 127])]);
 * ```
 */
export class UmpToMidi1 {
  #group: number;
  #maxSysex: number;
  #sysex: number[] | undefined;
  #sysexWords: number[] = [];
  #sysexError: string | undefined;
  #texts = new Map<string, number[]>();
  #stats: UmpToMidi1Stats = {
    messages: 0,
    dropped: 0,
    otherGroup: 0,
    utility: 0,
    stream: 0,
  };

  /**
   * Makes a translator for one group.
   *
   * @param options The group to map and the sysex bound.
   * @throws {RangeError} A group out of 0..15 or a bad sysex bound.
   */
  constructor(options: UmpToMidi1Options = {}) {
    const group = options.group ?? 0;
    if (!Number.isInteger(group) || group < 0 || group > 15) {
      throw new RangeError(
        `UMP group must be an integer in 0..15, got ${group}`,
      );
    }
    const maxSysex = options.maxSysex ?? DEFAULT_MAX_SYSEX;
    if (!Number.isInteger(maxSysex) || maxSysex < 2) {
      throw new RangeError(
        `maxSysex must be an integer of at least 2, got ${maxSysex}`,
      );
    }
    this.#group = group;
    this.#maxSysex = maxSysex;
  }

  /** The group that maps. */
  get group(): number {
    return this.#group;
  }

  /** The counts since this translator was made. */
  get stats(): Readonly<UmpToMidi1Stats> {
    return { ...this.#stats };
  }

  /**
   * Translates complete UMP messages. A sysex that spans several calls is
   * joined across them. Words that end inside a message are dropped and
   * reported (the UMP Data of Network MIDI 2.0 holds whole messages).
   *
   * @param words 32-bit words, as unsigned or signed numbers.
   * @returns The MIDI 1.0 messages, the drops and the stream messages.
   */
  push(words: ArrayLike<number>): UmpToMidi1Result {
    const result: UmpToMidi1Result = { messages: [], dropped: [], stream: [] };
    let at = 0;
    while (at < words.length) {
      const w0 = words[at] >>> 0;
      const count = umpWordCount(w0);
      if (at + count > words.length) {
        const rest = Array.from(
          { length: words.length - at },
          (_, i) => words[at + i] >>> 0,
        );
        this.#drop(
          result,
          `UMP message ${
            hex(w0)
          } is cut short: ${rest.length} of its ${count} words`,
          rest,
        );
        break;
      }
      const packet: number[] = new Array(count);
      for (let i = 0; i < count; i++) packet[i] = words[at + i] >>> 0;
      this.#one(packet, result);
      at += count;
    }
    this.#stats.messages += result.messages.length;
    return result;
  }

  /**
   * Forgets a sysex (and an endpoint name) in progress, on a session reset
   * or when packets were lost for good, so that what follows does not join
   * it.
   *
   * @returns The sysex dropped, if one was in progress.
   */
  reset(): UmpDrop[] {
    const result: UmpToMidi1Result = { messages: [], dropped: [], stream: [] };
    if (this.#sysex !== undefined || this.#sysexError !== undefined) {
      this.#drop(
        result,
        "SysEx7 in progress was reset before its end packet",
        this.#sysexWords,
      );
    }
    this.#endSysex();
    this.#texts.clear();
    return result.dropped;
  }

  #drop(result: UmpToMidi1Result, reason: string, words: readonly number[]) {
    result.dropped.push({ reason, words: [...words] });
    this.#stats.dropped++;
  }

  #one(packet: number[], result: UmpToMidi1Result): void {
    const w0 = packet[0];
    const mt = w0 >>> 28;
    if (mt === 0x0) {
      this.#stats.utility++;
      return;
    }
    if (mt === 0xf) {
      this.#stats.stream++;
      const message = decodeUmpStream(packet);
      if (
        (message.type === "endpoint_name" ||
          message.type === "product_instance_id") && message.form !== 0
      ) {
        return this.#joinText(message.type, message.form, packet, result);
      }
      result.stream.push(message);
      return;
    }
    const group = (w0 >>> 24) & 0xf;
    if (mt <= 0x5 || mt === 0xd) {
      if (group !== this.#group) {
        this.#stats.otherGroup++;
        return;
      }
    }
    switch (mt) {
      case 0x1:
        return this.#system(packet, result);
      case 0x2:
        return this.#midi1(packet, result);
      case 0x3:
        return this.#sysex7(packet, result);
      case 0x4:
        return this.#midi2(packet, result);
      case 0x5:
        return this.#drop(
          result,
          `UMP message ${
            hex(w0)
          } is SysEx8 or mixed data (MT 0x5), which has no MIDI 1.0 form`,
          packet,
        );
      case 0xd:
        return this.#drop(
          result,
          `UMP message ${
            hex(w0)
          } is flex data (MT 0xD), which has no MIDI 1.0 form`,
          packet,
        );
      default:
        return this.#drop(
          result,
          `UMP message ${hex(w0)} has reserved message type 0x${
            mt.toString(16)
          }`,
          packet,
        );
    }
  }

  /** Joins the packets of a name or product instance id into one. */
  #joinText(
    type: "endpoint_name" | "product_instance_id",
    form: number,
    packet: number[],
    result: UmpToMidi1Result,
  ): void {
    const bytes = streamTextBytes(packet);
    let text = this.#texts.get(type);
    if (form === 1) {
      text = [];
      this.#texts.set(type, text);
    } else if (text === undefined) {
      return this.#drop(
        result,
        `UMP Stream ${type} packet ${hex(packet[0])} came with no start`,
        packet,
      );
    }
    for (const byte of bytes) text.push(byte);
    if (text.length > 98) {
      this.#texts.delete(type);
      return this.#drop(
        result,
        `UMP Stream ${type} is longer than 98 bytes`,
        packet,
      );
    }
    if (form === 3) {
      this.#texts.delete(type);
      result.stream.push({
        type,
        form: 0,
        text: new TextDecoder().decode(new Uint8Array(text)),
      });
    }
  }

  #system(packet: number[], result: UmpToMidi1Result): void {
    const w0 = packet[0];
    const status = (w0 >>> 16) & 0xff;
    const length = SYSTEM_LENGTH[status];
    if (length === undefined) {
      return this.#drop(
        result,
        `UMP system message ${hex(w0)} has status 0x${
          status.toString(16)
        }, not a MIDI 1.0 system common or real-time one`,
        packet,
      );
    }
    const d1 = (w0 >>> 8) & 0xff, d2 = w0 & 0xff;
    if ((length > 1 && d1 > 0x7f) || (length > 2 && d2 > 0x7f)) {
      return this.#drop(
        result,
        `UMP system message ${hex(w0)} has a data byte over 127`,
        packet,
      );
    }
    result.messages.push(bytes(length, status, d1, d2));
  }

  #midi1(packet: number[], result: UmpToMidi1Result): void {
    const w0 = packet[0];
    const status = (w0 >>> 16) & 0xff;
    const d1 = (w0 >>> 8) & 0xff, d2 = w0 & 0xff;
    if (status < 0x80 || status >= 0xf0) {
      return this.#drop(
        result,
        `UMP MIDI 1.0 channel voice message ${hex(w0)} has status 0x${
          status.toString(16)
        }, not a channel voice one`,
        packet,
      );
    }
    const two = status >= 0xc0 && status < 0xe0;
    if (d1 > 0x7f || (!two && d2 > 0x7f)) {
      return this.#drop(
        result,
        `UMP MIDI 1.0 channel voice message ${
          hex(w0)
        } has a data byte over 127`,
        packet,
      );
    }
    result.messages.push(
      two ? bytes(2, status, d1) : bytes(3, status, d1, d2),
    );
  }

  #sysex7(packet: number[], result: UmpToMidi1Result): void {
    const [w0, w1] = packet;
    const form = (w0 >>> 20) & 0xf;
    const count = (w0 >>> 16) & 0xf;
    if (form > 3 || count > 6) {
      return this.#drop(
        result,
        `UMP SysEx7 packet ${hex(w0)} has ${
          form > 3 ? `status ${form}` : `${count} bytes`
        }, out of range`,
        packet,
      );
    }
    const bytes = [
      (w0 >>> 8) & 0xff,
      w0 & 0xff,
      w1 >>> 24,
      (w1 >>> 16) & 0xff,
      (w1 >>> 8) & 0xff,
      w1 & 0xff,
    ].slice(0, count);
    if (form === 0 || form === 1) {
      if (this.#sysex !== undefined || this.#sysexError !== undefined) {
        this.#drop(
          result,
          `SysEx7 that started in ${
            hex(this.#sysexWords[0])
          } was cut by a new start, ${hex(w0)}`,
          this.#sysexWords,
        );
      }
      this.#sysex = [0xf0];
      this.#sysexWords = [];
      this.#sysexError = undefined;
    } else if (this.#sysex === undefined && this.#sysexError === undefined) {
      return this.#drop(
        result,
        `SysEx7 ${form === 2 ? "continue" : "end"} packet ${
          hex(w0)
        } came with no start`,
        packet,
      );
    }
    if (this.#sysexWords.length < 8) this.#sysexWords.push(w0, w1);
    if (this.#sysex !== undefined) {
      if (bytes.some((b) => b > 0x7f)) {
        this.#sysexError = `SysEx7 packet ${hex(w0)} has a data byte over 127`;
        this.#sysex = undefined;
      } else if (this.#sysex.length + bytes.length + 1 > this.#maxSysex) {
        this.#sysexError =
          `SysEx7 is longer than the ${this.#maxSysex}-byte bound (maxSysex)`;
        this.#sysex = undefined;
      } else {
        for (const b of bytes) this.#sysex.push(b);
      }
    }
    if (form === 0 || form === 3) {
      if (this.#sysex !== undefined) {
        this.#sysex.push(0xf7);
        result.messages.push(new Uint8Array(this.#sysex));
      } else {
        this.#drop(result, this.#sysexError!, this.#sysexWords);
      }
      this.#endSysex();
    }
  }

  #endSysex(): void {
    this.#sysex = undefined;
    this.#sysexWords = [];
    this.#sysexError = undefined;
  }

  #midi2(packet: number[], result: UmpToMidi1Result): void {
    const [w0, w1] = packet;
    const opcode = (w0 >>> 20) & 0xf;
    const channel = (w0 >>> 16) & 0xf;
    const b2 = (w0 >>> 8) & 0xff, b3 = w0 & 0xff;
    const out = result.messages;
    const cc = (control: number, value: number) =>
      out.push(bytes(3, 0xb0 | channel, control, value));
    const dataOver = (what: string) =>
      this.#drop(
        result,
        `UMP MIDI 2.0 ${what} ${hex(w0)} has a ${
          what === "program change" ? "program" : "note or index"
        } over 127`,
        packet,
      );
    switch (opcode) {
      case 0x8:
      case 0x9: {
        if (b2 > 0x7f) return dataOver(opcode === 0x9 ? "note on" : "note off");
        let velocity = scaleDown(w1 >>> 16, 16, 7);
        if (opcode === 0x9 && velocity === 0) velocity = 1;
        out.push(bytes(3, (opcode << 4) | channel, b2, velocity));
        return;
      }
      case 0xa:
        if (b2 > 0x7f) return dataOver("poly pressure");
        out.push(bytes(3, 0xa0 | channel, b2, scaleDown(w1, 32, 7)));
        return;
      case 0xb:
        if (b2 > 0x7f) return dataOver("control change");
        cc(b2, scaleDown(w1, 32, 7));
        return;
      case 0xc: {
        const program = w1 >>> 24;
        if (program > 0x7f) return dataOver("program change");
        if (b3 & 1) {
          cc(0, (w1 >>> 8) & 0x7f);
          cc(32, w1 & 0x7f);
        }
        out.push(bytes(2, 0xc0 | channel, program));
        return;
      }
      case 0xd:
        out.push(bytes(2, 0xd0 | channel, scaleDown(w1, 32, 7)));
        return;
      case 0xe: {
        const value = scaleDown(w1, 32, 14);
        out.push(bytes(3, 0xe0 | channel, value & 0x7f, value >> 7));
        return;
      }
      case 0x2:
      case 0x3: {
        if (b2 > 0x7f || b3 > 0x7f) {
          return dataOver(opcode === 0x2 ? "RPN" : "NRPN");
        }
        const value = scaleDown(w1, 32, 14);
        cc(opcode === 0x2 ? 101 : 99, b2);
        cc(opcode === 0x2 ? 100 : 98, b3);
        cc(6, value >> 7);
        cc(38, value & 0x7f);
        return;
      }
      default:
        return this.#drop(
          result,
          `UMP MIDI 2.0 ${
            MT4_NAMES[opcode] ?? `opcode 0x${opcode.toString(16)}`
          } ${hex(w0)} has no MIDI 1.0 form`,
          packet,
        );
    }
  }
}

/** Options for {@linkcode Midi1ToUmp}. */
export interface Midi1ToUmpOptions {
  /** The UMP group (0..15) of the messages made. @default {0} */
  group?: number;
  /**
   * 1: channel voice goes out as MIDI 1.0 in UMP (MT 0x2); 2: as MIDI 2.0
   * channel voice (MT 0x4), scaled up. @default {1}
   */
  protocol?: UmpProtocol;
}

interface ChannelState {
  /** Bank select MSB and LSB, -1 when unset. */
  bankMsb: number;
  bankLsb: number;
  /** The parameter number selected: RPN or NRPN, MSB and LSB, -1 unset. */
  rpn: boolean;
  pnMsb: number;
  pnLsb: number;
  /** The Data Entry MSB seen for it, -1 when none. */
  valueMsb: number;
}

/**
 * Turns MIDI 1.0 messages into UMP words. System messages go out as MT 0x1
 * and a sysex as SysEx7 packets (MT 0x3, six bytes each). Channel voice goes
 * out as MT 0x2 under the MIDI 1.0 protocol, or under the MIDI 2.0 protocol
 * as MT 0x4 with the specification's min-center-max upscaling: a note on of
 * velocity 0 becomes a note off of velocity 0x8000 (MIDI 1.0's 64), bank
 * select (CC 0, 32) rides on the next program change, and RPN and NRPN (CC 101/100, 99/98 with Data Entry 6 and
 * 38) become MIDI 2.0 RPN and NRPN messages, one on each Data Entry byte (so
 * a sender of the MSB alone is heard); Data Entry with no parameter selected,
 * and every other controller, goes out as a MIDI 2.0 control change.
 *
 * @example A note on, both protocols
 * ```ts
 * import { Midi1ToUmp } from "./ump.ts";
 * import assert from "node:assert/strict";
 *
 * const noteOn = new Uint8Array([0x90, 60, 127]);
 * assert.deepEqual(new Midi1ToUmp().push(noteOn), [0x20903c7f]);
 * assert.deepEqual(new Midi1ToUmp({ protocol: 2 }).push(noteOn), [0x40903c00, 0xffff0000]);
 * ```
 */
export class Midi1ToUmp {
  #group: number;
  #protocol: UmpProtocol = 1;
  #channels: ChannelState[] = [];

  /**
   * Makes a translator for one group and protocol.
   *
   * @param options The group and the protocol.
   * @throws {RangeError} A group out of 0..15 or a protocol not 1 or 2.
   */
  constructor(options: Midi1ToUmpOptions = {}) {
    const group = options.group ?? 0;
    if (!Number.isInteger(group) || group < 0 || group > 15) {
      throw new RangeError(
        `UMP group must be an integer in 0..15, got ${group}`,
      );
    }
    this.#group = group;
    this.protocol = options.protocol ?? 1;
  }

  /** The protocol of channel voice messages; an endpoint may change it. */
  get protocol(): UmpProtocol {
    return this.#protocol;
  }

  set protocol(protocol: UmpProtocol) {
    if (protocol !== 1 && protocol !== 2) {
      throw new RangeError(`UMP protocol must be 1 or 2, got ${protocol}`);
    }
    this.#protocol = protocol;
  }

  /** The group of the messages made. */
  get group(): number {
    return this.#group;
  }

  /**
   * Translates one complete MIDI 1.0 message.
   *
   * @param message The message's bytes: a status byte and its data bytes, or
   * a whole sysex from F0 to F7.
   * @returns The UMP words (none for a bank select or parameter number, under
   * the MIDI 2.0 protocol, which wait for what they select).
   * @throws {RangeError} Bytes that are not one complete MIDI 1.0 message.
   */
  push(message: Uint8Array): number[] {
    const status = message[0];
    const g = this.#group << 24;
    const fail = (why: string): never => {
      throw new RangeError(
        `Cannot translate MIDI bytes [${
          Array.from(message.subarray(0, 8), (b) =>
            b.toString(16).padStart(2, "0"))
            .join(" ")
        }${message.length > 8 ? " …" : ""}] to UMP: ${why}`,
      );
    };
    if (status === undefined || status < 0x80) {
      return fail("no status byte first");
    }
    if (status === 0xf0) return this.#sysex(message, fail);
    const length = status >= 0xf0
      ? SYSTEM_LENGTH[status]
      : (status & 0xf0) === 0xc0 || (status & 0xf0) === 0xd0
      ? 2
      : 3;
    if (length === undefined) {
      return fail(`status 0x${status.toString(16)} is no message`);
    }
    if (message.length !== length) {
      return fail(`a ${length}-byte message has ${message.length} bytes`);
    }
    for (let i = 1; i < length; i++) {
      if (message[i] > 0x7f) return fail(`data byte ${i} is over 127`);
    }
    const d1 = message[1] ?? 0, d2 = message[2] ?? 0;
    if (status >= 0xf0) {
      return [((0x1 << 28) | g | (status << 16) | (d1 << 8) | d2) >>> 0];
    }
    if (this.#protocol === 1) {
      return [((0x2 << 28) | g | (status << 16) | (d1 << 8) | d2) >>> 0];
    }
    return this.#midi2(status >> 4, status & 0xf, d1, d2);
  }

  #sysex(message: Uint8Array, fail: (why: string) => never): number[] {
    if (message.length < 2 || message[message.length - 1] !== 0xf7) {
      return fail("a sysex must end with F7");
    }
    const data = message.subarray(1, message.length - 1);
    for (let i = 0; i < data.length; i++) {
      if (data[i] > 0x7f) return fail(`sysex data byte ${i} is over 127`);
    }
    const out: number[] = [];
    const packets = Math.max(1, Math.ceil(data.length / 6));
    for (let p = 0; p < packets; p++) {
      const chunk = data.subarray(p * 6, p * 6 + 6);
      const form = packets === 1 ? 0 : p === 0 ? 1 : p === packets - 1 ? 3 : 2;
      const b = [0, 1, 2, 3, 4, 5].map((i) => chunk[i] ?? 0);
      out.push(
        ((0x3 << 28) | (this.#group << 24) | (form << 20) |
          (chunk.length << 16) | (b[0] << 8) | b[1]) >>> 0,
        ((b[2] << 24) | (b[3] << 16) | (b[4] << 8) | b[5]) >>> 0,
      );
    }
    return out;
  }

  #state(channel: number): ChannelState {
    return this.#channels[channel] ??= {
      bankMsb: -1,
      bankLsb: -1,
      rpn: true,
      pnMsb: -1,
      pnLsb: -1,
      valueMsb: -1,
    };
  }

  #midi2(kind: number, channel: number, d1: number, d2: number): number[] {
    const head = (opcode: number, b2: number, b3: number) =>
      ((0x4 << 28) | (this.#group << 24) | (opcode << 20) | (channel << 16) |
        (b2 << 8) | b3) >>> 0;
    switch (kind) {
      case 0x8:
        return [head(0x8, d1, 0), (scaleUp(d2, 7, 16) << 16) >>> 0];
      case 0x9:
        // Velocity 0 is a note off, of velocity 64, as MIDI 1.0 has it.
        if (d2 === 0) return [head(0x8, d1, 0), 0x80000000];
        return [head(0x9, d1, 0), (scaleUp(d2, 7, 16) << 16) >>> 0];
      case 0xa:
        return [head(0xa, d1, 0), scaleUp(d2, 7, 32)];
      case 0xb:
        return this.#control(channel, d1, d2, head);
      case 0xc: {
        const state = this.#state(channel);
        if (state.bankMsb < 0 && state.bankLsb < 0) {
          return [head(0xc, 0, 0), (d1 << 24) >>> 0];
        }
        const msb = Math.max(state.bankMsb, 0),
          lsb = Math.max(state.bankLsb, 0);
        return [head(0xc, 0, 1), ((d1 << 24) | (msb << 8) | lsb) >>> 0];
      }
      case 0xd:
        return [head(0xd, 0, 0), scaleUp(d1, 7, 32)];
      default: // 0xe, pitch bend
        return [head(0xe, 0, 0), scaleUp(d1 | (d2 << 7), 14, 32)];
    }
  }

  #control(
    channel: number,
    control: number,
    value: number,
    head: (opcode: number, b2: number, b3: number) => number,
  ): number[] {
    const state = this.#state(channel);
    const selected = state.pnMsb >= 0 && state.pnLsb >= 0;
    switch (control) {
      case 0:
        state.bankMsb = value;
        return [];
      case 32:
        state.bankLsb = value;
        return [];
      case 99:
      case 101:
        state.rpn = control === 101;
        state.pnMsb = value;
        state.valueMsb = -1;
        return [];
      case 98:
      case 100:
        state.rpn = control === 100;
        state.pnLsb = value;
        state.valueMsb = -1;
        if (state.rpn && state.pnMsb === 0x7f && value === 0x7f) {
          // RPN null: Data Entry selects nothing until the next number.
          state.pnMsb = state.pnLsb = -1;
        }
        return [];
      case 6:
      case 38: {
        if (!selected || (control === 38 && state.valueMsb < 0)) break;
        let lsb = 0;
        if (control === 6) state.valueMsb = value;
        else lsb = value;
        return [
          head(state.rpn ? 0x2 : 0x3, state.pnMsb, state.pnLsb),
          scaleUp((state.valueMsb << 7) | lsb, 14, 32),
        ];
      }
      case 121: // reset all controllers ends the parameter number too
        state.pnMsb = state.pnLsb = state.valueMsb = -1;
        break;
    }
    return [head(0xb, control, 0), scaleUp(value, 7, 32)];
  }
}
