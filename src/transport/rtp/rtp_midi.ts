// Copyright 2026 the midisock authors. MIT license.
// The RTP-MIDI payload (RFC 6295): the MIDI command section and the recovery
// journal, as pure code with no sockets. The AppleMIDI session sits on top.

import { errorText } from "../../util/error_text.ts";
import {
  checkMessage,
  CommandListWriter,
  readCommandList,
  SysexAssembler,
} from "./_command_section.ts";
import { JournalWriter, readJournal, recover, release } from "./_journal.ts";
import { MidiState } from "./_midi_state.ts";

/** The RTP payload type that AppleMIDI uses (97, a dynamic type). */
export const RTP_MIDI_PAYLOAD_TYPE = 0x61;

const RTP_HEADER = 12;
/** The longest command section that the 12-bit LEN field can code. */
const MAX_LIST = 4095;
/** The fewest data bytes a sysex segment is started with. */
const MIN_SEGMENT = 16;
/** The journal of a sender that sends none. */
const NO_JOURNAL = new Uint8Array(0);

/** Options for {@linkcode RtpMidiSender}. */
export interface RtpMidiSenderOptions {
  /** The sender's RTP SSRC, an integer in 0..0xffffffff. */
  ssrc: number;
  /**
   * Send a recovery journal in every packet (RFC 6295 §4).
   *
   * @default {true}
   */
  journal?: boolean;
  /**
   * The largest whole RTP packet, header included, in bytes (64..65507).
   * The journal takes at most half of what is left after the headers; a
   * longer one is cut short by moving its checkpoint forward (counted in
   * {@linkcode RtpMidiSenderStats.journalTrims}).
   *
   * @default {1400}
   */
  maxPacketBytes?: number;
  /**
   * The first packet's sequence number (0..65535); random when absent, as
   * RFC 3550 asks.
   */
  seq?: number;
}

/** What an {@linkcode RtpMidiSender} has sent. */
export interface RtpMidiSenderStats {
  /** Packets made. */
  packets: number;
  /** Bytes of those packets, headers included. */
  bytes: number;
  /** Bytes of their recovery journals. */
  journalBytes: number;
  /**
   * Times the journal was too long for a packet and its oldest part was
   * dropped (its checkpoint moved forward without an acknowledgment).
   */
  journalTrims: number;
}

/**
 * Checks an integer option (also the sessions' options, in rtp_session.ts,
 * rtp_listener.ts and connect_rtp.ts): not public.
 *
 * @throws {TypeError} For a value that is not an integer, naming `what`.
 * @throws {RangeError} For one outside `min..max`.
 */
export function checkInteger(
  what: string,
  value: unknown,
  min: number,
  max: number,
): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(
      `Invalid ${what}: expected an integer in ${min}..${max}, got ${
        typeof value === "number" ? value : typeof value
      }`,
    );
  }
  if (value < min || value > max) {
    throw new RangeError(
      `Invalid ${what}: expected an integer in ${min}..${max}, got ${value}`,
    );
  }
  return value;
}

/**
 * Makes the RTP packets of an RTP-MIDI stream (RFC 6295): the 12-byte RTP
 * header, the MIDI command section, and a recovery journal that codes what a
 * receiver needs to undo the loss of any packet since the last one it
 * acknowledged.
 *
 * The messages of one call go out together, with delta times of 0 and running
 * status between channel messages. A sysex too long for one packet goes out
 * in segments (F0 … F0, F7 … F0, F7 … F7), with no limit on its length.
 *
 * The journal codes each channel's program and bank (chapter P), controllers
 * (C, the sustain pedal among them), pitch wheel (W), notes (N: the notes on,
 * and the notes turned off, by note_off or by a channel mode message) and
 * channel pressure (T), and the count of system resets (system chapter D).
 *
 * @example Two notes in one packet, read back by a receiver
 * ```ts
 * import { RtpMidiReceiver, RtpMidiSender } from "@x/midisock/rtp";
 * import assert from "node:assert/strict";
 *
 * const sender = new RtpMidiSender({ ssrc: 0x1234, seq: 1 });
 * const [packet] = sender.packets([
 *   new Uint8Array([0x90, 60, 100]),
 *   new Uint8Array([0x90, 64, 100]),
 * ], 0);
 * const received = new RtpMidiReceiver().receive(packet);
 * assert.deepEqual(received.messages, [
 *   new Uint8Array([0x90, 60, 100]),
 *   new Uint8Array([0x90, 64, 100]),
 * ]);
 * assert.equal(received.seq, 1);
 * ```
 */
export class RtpMidiSender {
  #ssrc: number;
  #journal: boolean;
  #max: number;
  /** The extended sequence number of the next packet. */
  #seq: number;
  #first: number;
  /** The first packet that the journal codes. */
  #checkpoint: number;
  #state = new MidiState();
  #writer = new JournalWriter();
  #listBuffer = new Uint8Array(MAX_LIST);
  #stats: RtpMidiSenderStats = {
    packets: 0,
    bytes: 0,
    journalBytes: 0,
    journalTrims: 0,
  };

  /**
   * Makes a sender.
   *
   * @param options The SSRC, and the journal and size options.
   * @throws {TypeError} For an option of the wrong type.
   * @throws {RangeError} For an option out of its range.
   */
  constructor(options: RtpMidiSenderOptions) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError("Invalid options: expected an object with an ssrc");
    }
    this.#ssrc = checkInteger("ssrc", options.ssrc, 0, 0xffffffff);
    const journal = options.journal ?? true;
    if (typeof journal !== "boolean") {
      throw new TypeError(
        `Invalid journal option: expected a boolean, got ${typeof journal}`,
      );
    }
    this.#journal = journal;
    this.#max = checkInteger(
      "maxPacketBytes",
      options.maxPacketBytes ?? 1400,
      64,
      65507,
    );
    this.#seq = options.seq === undefined
      ? Math.floor(Math.random() * 0x10000)
      : checkInteger("seq", options.seq, 0, 0xffff);
    this.#first = this.#checkpoint = this.#seq;
  }

  /** Packets made, their bytes, and their journals' bytes (a snapshot). */
  get stats(): RtpMidiSenderStats {
    return { ...this.#stats };
  }

  /** The sequence number (0..65535) that the next packet will have. */
  get seq(): number {
    return this.#seq & 0xffff;
  }

  /**
   * The RTP packets that carry the messages of one turn, to send now.
   *
   * @param messages Each the bytes of one complete MIDI message, status
   * first: a sysex whole, from F0 to F7, of any length; system real-time
   * messages as their one byte. Running status is not taken.
   * @param timestamp The RTP timestamp of the packets (the session's clock,
   * 10 kHz for AppleMIDI); taken modulo 2^32.
   * @returns The packets, each a whole RTP packet; none for no messages.
   * @throws {TypeError} For a message that is not one complete MIDI message
   * (naming its index and byte), or a timestamp that is not an integer; then
   * nothing is sent.
   *
   * @example A long sysex goes out in segments
   * ```ts
   * import { RtpMidiReceiver, RtpMidiSender } from "@x/midisock/rtp";
   * import assert from "node:assert/strict";
   *
   * const sysex = new Uint8Array(5000).fill(0x11);
   * sysex[0] = 0xf0;
   * sysex[4999] = 0xf7;
   * const packets = new RtpMidiSender({ ssrc: 1 }).packets([sysex], 0);
   * assert.equal(packets.length, 4);
   * const receiver = new RtpMidiReceiver();
   * const out = packets.flatMap((p) => receiver.receive(p).messages);
   * assert.deepEqual(out, [sysex]);
   * ```
   */
  packets(messages: readonly Uint8Array[], timestamp: number): Uint8Array[] {
    if (!Array.isArray(messages)) {
      throw new TypeError(
        `Invalid messages: expected an array of Uint8Array, got ${typeof messages}`,
      );
    }
    if (typeof timestamp !== "number" || !Number.isInteger(timestamp)) {
      throw new TypeError(
        `Invalid timestamp: expected an integer, got ${timestamp}`,
      );
    }
    const ts = timestamp >>> 0;
    messages.forEach(checkMessage);
    const out: Uint8Array[] = [];
    let journal = this.#journalBytes(ts);
    let list = this.#list(journal);
    const flush = () => {
      out.push(this.#finish(list, journal, ts));
      journal = this.#journalBytes(ts);
      list = this.#list(journal);
    };
    for (const msg of messages) {
      if (msg[0] !== 0xf0) {
        if (list.cost(msg) > list.room) flush();
        list.add(msg);
        continue;
      }
      const end = msg.length - 1;
      let pos = 1;
      let first = true;
      for (;;) {
        const rest = end - pos;
        const free = list.room - list.segmentOverhead;
        if (rest <= free) {
          list.addSegment(first ? 0xf0 : 0xf7, msg.subarray(pos, end), 0xf7);
          break;
        }
        // It does not fit: start it in a packet of its own if it would fit
        // there whole, or if little room is left here.
        if (
          list.count > 0 &&
          (free < MIN_SEGMENT || (first && rest + 2 <= list.bytes.length))
        ) {
          flush();
          continue;
        }
        list.addSegment(
          first ? 0xf0 : 0xf7,
          msg.subarray(pos, pos + free),
          0xf0,
        );
        pos += free;
        first = false;
        flush();
      }
    }
    if (list.count > 0) out.push(this.#finish(list, journal, ts));
    return out;
  }

  /**
   * Takes the receiver's feedback (AppleMIDI's RS): the peer has every packet
   * up to `seq`, so the journal no longer codes them. A `seq` that is older
   * than an earlier one, or that this sender never sent, changes nothing.
   *
   * The RS packet's sequence field is 32 bits, and peers fill it two ways:
   * the 16-bit number in its first two bytes and zeros after (as Wireshark's
   * AppleMIDI dissector reads it and Arduino AppleMIDI writes it), or an
   * extended number with the 16-bit one in its last two bytes. Pass the field whole: of its two halves, the one that names a
   * packet sent since the last acknowledgment is taken.
   *
   * @param seq The sequence number from the feedback: 16 bits, or the RS
   * packet's whole 32-bit field.
   * @throws {TypeError} For a seq that is not an integer.
   * @throws {RangeError} For a seq outside 0..0xffffffff.
   *
   * @example The journal shrinks once the peer has the packets
   * ```ts
   * import { RtpMidiSender } from "@x/midisock/rtp";
   * import assert from "node:assert/strict";
   *
   * const sender = new RtpMidiSender({ ssrc: 1, seq: 10 });
   * sender.packets([new Uint8Array([0x90, 60, 100])], 0);
   * const before = sender.packets([new Uint8Array([0xf8])], 1)[0].length;
   * sender.acknowledge(11);
   * const after = sender.packets([new Uint8Array([0xf8])], 2)[0].length;
   * assert.ok(after < before);
   * ```
   */
  acknowledge(seq: number): void {
    checkInteger("seq", seq, 0, 0xffffffff);
    const last = this.#seq - 1;
    if (last < this.#first) return;
    const low = seq & 0xffff, high = seq >>> 16;
    const halves = seq <= 0xffff
      ? [low]
      : low === 0
      ? [high, low]
      : [low, high];
    for (const half of halves) {
      const acked = last - ((last - half) & 0xffff);
      if (acked >= this.#checkpoint - 1 && acked >= this.#first) {
        this.#checkpoint = acked + 1;
        return;
      }
    }
  }

  /**
   * A packet with no MIDI commands and the current journal, or undefined when
   * the journal codes nothing that the peer has not acknowledged. Send one
   * some time after the last packet (RFC 4696's guard packets), so that the
   * loss of a last packet, with its note_off, is recovered too.
   *
   * @param timestamp The RTP timestamp, as for {@linkcode packets}.
   * @returns The packet, or undefined.
   *
   * @example A guard packet after a note_off
   * ```ts
   * import { RtpMidiSender } from "@x/midisock/rtp";
   * import assert from "node:assert/strict";
   *
   * const sender = new RtpMidiSender({ ssrc: 1, seq: 0 });
   * assert.equal(sender.guard(0), undefined);
   * sender.packets([new Uint8Array([0x80, 60, 0])], 0);
   * assert.ok(sender.guard(100) instanceof Uint8Array);
   * sender.acknowledge(1);
   * assert.equal(sender.guard(200), undefined);
   * ```
   */
  guard(timestamp: number): Uint8Array | undefined {
    if (typeof timestamp !== "number" || !Number.isInteger(timestamp)) {
      throw new TypeError(
        `Invalid timestamp: expected an integer, got ${timestamp}`,
      );
    }
    if (!this.#journal) return undefined;
    const ts = timestamp >>> 0;
    const journal = this.#journalBytes(ts);
    if ((journal[0] & 0x60) === 0) return undefined; // neither Y nor A
    return this.#finish(this.#list(journal), journal, ts);
  }

  #list(journal: Uint8Array): CommandListWriter {
    return new CommandListWriter(
      this.#listBuffer,
      Math.min(MAX_LIST, this.#max - RTP_HEADER - 2 - journal.length),
    );
  }

  // The journal of the next packet: a view of the writer's buffer, good
  // until the next call (each packet is made before the next journal).
  #journalBytes(ts: number): Uint8Array {
    if (!this.#journal) return NO_JOURNAL;
    const state = this.#state, seq = this.#seq;
    let journal = this.#writer.write(state, this.#checkpoint, seq, ts);
    const budget = Math.floor((this.#max - RTP_HEADER - 2) / 2);
    if (journal.length <= budget) return journal;
    // Too long: move the checkpoint forward, to the earliest packet that
    // leaves a journal that fits.
    const seqs = state.seqsSince(this.#checkpoint);
    let lo = 0, hi = seqs.length; // seqs[hi] (or seq itself) fits
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const length = this.#writer.write(state, seqs[mid], seq, ts).length;
      if (length <= budget) hi = mid;
      else lo = mid + 1;
    }
    this.#checkpoint = lo < seqs.length ? seqs[lo] : seq;
    this.#stats.journalTrims++;
    journal = this.#writer.write(state, this.#checkpoint, seq, ts);
    return journal;
  }

  #finish(
    list: CommandListWriter,
    journal: Uint8Array,
    ts: number,
  ): Uint8Array {
    const seq = this.#seq++;
    const length = list.length;
    const long = length > 15;
    const header = long ? 2 : 1;
    const packet = new Uint8Array(
      RTP_HEADER + header + length + journal.length,
    );
    packet[0] = 0x80; // V = 2
    packet[1] = RTP_MIDI_PAYLOAD_TYPE;
    packet[2] = (seq >> 8) & 0xff;
    packet[3] = seq & 0xff;
    const view = new DataView(packet.buffer);
    view.setUint32(4, ts);
    view.setUint32(8, this.#ssrc);
    const j = this.#journal ? 0x40 : 0;
    if (long) {
      packet[12] = 0x80 | j | (length >> 8);
      packet[13] = length & 0xff;
    } else {
      packet[12] = j | length;
    }
    packet.set(list.bytes.subarray(0, length), RTP_HEADER + header);
    packet.set(journal, RTP_HEADER + header + length);
    if (this.#journal) {
      for (const msg of list.messages) this.#state.apply(msg, seq, ts);
    }
    this.#stats.packets++;
    this.#stats.bytes += packet.length;
    this.#stats.journalBytes += journal.length;
    return packet;
  }
}

/** What {@linkcode RtpMidiReceiver.receive} made of one packet. */
export interface RtpMidiReceived {
  /**
   * Complete MIDI messages to deliver, each the bytes of one message: the
   * ones that the journal recovered first, then the packet's own.
   */
  messages: Uint8Array[];
  /** How many of `messages` the journal gave back. */
  recovered: number;
  /** Packets missing by sequence number before this one. */
  lost: number;
  /**
   * Why the packet, or a part of it, was bad (a short text naming the field
   * and the offset); the caller counts it. What was good in it is delivered.
   */
  malformed?: string;
  /**
   * What was given up that was not the packet's fault: a sysex over
   * `maxSysex`, one cut by lost packets, or lost packets that no journal
   * covers (none came, or its checkpoint is after them). The caller counts
   * it.
   */
  dropped?: string;
  /**
   * The packet was a duplicate or came after a later one, and its messages
   * were not delivered (the journal of a later packet stood in for them).
   */
  late?: boolean;
  /** The packet's SSRC, when its header could be read. */
  ssrc?: number;
  /** The packet's sequence number, when its header could be read. */
  seq?: number;
}

/** Options for {@linkcode RtpMidiReceiver}. */
export interface RtpMidiReceiverOptions {
  /**
   * The longest sysex kept, in data bytes between F0 and F7 (as
   * `MidiParser`'s `maxSysexBytes`); a longer one is dropped and reported in
   * {@linkcode RtpMidiReceived.dropped}. This bounds the receiver's memory.
   *
   * @default {1048576}
   */
  maxSysex?: number;
}

/** Packets in a row that come "late" before the receiver starts over. */
const RESYNC_AFTER = 16;

/**
 * Reads the packets of an RTP-MIDI stream (RFC 6295) from one peer: the
 * MIDI commands, sysex put back together across packets, and, after a gap in
 * the sequence numbers, the recovery journal. Compared with what this
 * receiver has played, the journal gives back the note_offs, controllers
 * (the sustain pedal among them), program changes, pitch wheel and channel
 * pressure that the lost packets carried, before the packet's own messages,
 * so that no note is left stuck. Without a gap the journal is not read. The
 * first packet of a stream ends a gap when its journal's checkpoint is an
 * earlier packet: what the sender played before it is given back too. A
 * packet with a new SSRC starts a new stream: the notes and pedals that the
 * old one left on are released first (counted in `recovered`).
 *
 * No input makes it throw, and its memory is bounded by `maxSysex`.
 *
 * @example A lost note_off comes back from the next packet's journal
 * ```ts
 * import { RtpMidiReceiver, RtpMidiSender } from "@x/midisock/rtp";
 * import assert from "node:assert/strict";
 *
 * const sender = new RtpMidiSender({ ssrc: 7, seq: 65535 });
 * const receiver = new RtpMidiReceiver();
 * const [on] = sender.packets([new Uint8Array([0x90, 60, 100])], 0);
 * sender.packets([new Uint8Array([0x80, 60, 0])], 10); // lost
 * const [clock] = sender.packets([new Uint8Array([0xf8])], 20);
 * receiver.receive(on);
 * const got = receiver.receive(clock);
 * assert.deepEqual(got.messages, [
 *   new Uint8Array([0x80, 60, 64]),
 *   new Uint8Array([0xf8]),
 * ]);
 * assert.equal(got.recovered, 1);
 * assert.equal(got.lost, 1);
 * assert.equal(receiver.lastSeq, 65536 + 1);
 * ```
 *
 * @example Bad bytes are reported, never thrown
 * ```ts
 * import { RtpMidiReceiver } from "@x/midisock/rtp";
 * import assert from "node:assert/strict";
 *
 * const receiver = new RtpMidiReceiver();
 * const header = [0x80, 0x61, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1];
 * const got = receiver.receive(new Uint8Array([...header, 0x02, 0x40, 0x40]));
 * assert.deepEqual(got.messages, []);
 * assert.equal(got.malformed, "data byte 0x40 with no status at offset 13");
 * ```
 */
export class RtpMidiReceiver {
  #sysex: SysexAssembler;
  #state = new MidiState();
  #ext: number | undefined;
  #ssrc: number | undefined;
  #late = 0;

  /**
   * Makes a receiver.
   *
   * @param options The sysex bound.
   * @throws {TypeError} For a maxSysex that is not an integer.
   * @throws {RangeError} For a maxSysex below 0.
   */
  constructor(options: RtpMidiReceiverOptions = {}) {
    const max = checkInteger(
      "maxSysex",
      options.maxSysex ?? 1048576,
      0,
      Number.MAX_SAFE_INTEGER,
    );
    this.#sysex = new SysexAssembler(max);
  }

  /**
   * The highest extended sequence number received (the 16-bit number plus
   * 65536 for each wrap), for RS feedback; undefined before the first packet.
   * An RS packet carries `lastSeq & 0xffff` in the first two bytes of its
   * 4-byte sequence field, then two zero bytes (as Wireshark's AppleMIDI
   * dissector reads it and Arduino AppleMIDI writes it).
   */
  get lastSeq(): number | undefined {
    return this.#ext;
  }

  /**
   * Reads one RTP packet from the peer, header included. It never throws.
   *
   * @param packet The datagram.
   * @returns The messages to deliver, and what was lost, recovered or wrong.
   */
  receive(packet: Uint8Array): RtpMidiReceived {
    try {
      return this.#receive(packet);
    } catch (error) {
      // Not reached by any input the tests know; kept so that a bug here
      // costs one packet, never the session.
      return {
        messages: [],
        recovered: 0,
        lost: 0,
        malformed: `packet not read: ${errorText(error)}`,
      };
    }
  }

  #receive(packet: Uint8Array): RtpMidiReceived {
    const result: RtpMidiReceived = { messages: [], recovered: 0, lost: 0 };
    if (!(packet instanceof Uint8Array)) {
      result.malformed = "packet is not a Uint8Array";
      return result;
    }
    const n = packet.length;
    if (n < RTP_HEADER) {
      result.malformed = `RTP header cut: ${n} of 12 bytes`;
      return result;
    }
    const version = packet[0] >> 6;
    if (version !== 2) {
      result.malformed = `RTP version ${version} at offset 0, expected 2`;
      return result;
    }
    const view = new DataView(packet.buffer, packet.byteOffset, n);
    const seq = view.getUint16(2);
    const time = view.getUint32(4);
    const ssrc = view.getUint32(8);
    result.seq = seq;
    result.ssrc = ssrc;
    let end = n;
    if (packet[0] & 0x20) { // padding
      const pad = packet[n - 1];
      if (pad === 0 || pad > n - RTP_HEADER) {
        result.malformed = `RTP padding of ${pad} bytes at offset ${n - 1}`;
        return result;
      }
      end -= pad;
    }
    let at = RTP_HEADER + 4 * (packet[0] & 0x0f); // CSRCs
    if (packet[0] & 0x10) { // header extension
      if (at + 4 > end) {
        result.malformed = `RTP header extension cut at offset ${at}`;
        return result;
      }
      at += 4 + 4 * view.getUint16(at + 2);
    }
    if (at > end) {
      result.malformed =
        `RTP header runs past the packet's end (${at} > ${end})`;
      return result;
    }

    let gap = 0;
    let first = false;
    if (this.#ext === undefined || ssrc !== this.#ssrc) {
      if (this.#ext !== undefined) {
        // A new stream from the peer (it started over): what the old one
        // left sounding is released, for the new one's journal cannot.
        result.recovered = release(this.#state, result.messages);
        this.#state = new MidiState();
      }
      this.#ext = seq;
      this.#ssrc = ssrc;
      first = true;
    } else {
      const diff = (seq - this.#ext) & 0xffff;
      if (diff === 0 || diff >= 0x8000) {
        if (++this.#late < RESYNC_AFTER) {
          result.late = true;
          return result;
        }
        this.#ext = seq; // the peer started over: follow it
      } else {
        gap = diff - 1;
        this.#ext += diff;
      }
    }
    this.#late = 0;

    if (at >= end) {
      result.malformed = `no MIDI command section at offset ${at}`;
      return result;
    }
    const flags = packet[at];
    let length = flags & 0x0f;
    if (flags & 0x80) {
      if (at + 1 >= end) {
        result.malformed = `command section header cut at offset ${at}`;
        return result;
      }
      length = (length << 8) | packet[at + 1];
      at += 2;
    } else {
      at += 1;
    }
    let listEnd = at + length;
    let journalAt = (flags & 0x40) ? listEnd : -1;
    if (listEnd > end) {
      result.malformed =
        `command section LEN ${length} runs past the packet's end (${
          end - at
        } bytes left at offset ${at})`;
      listEnd = end;
      journalAt = -1;
    }

    if (first && journalAt >= 0 && journalAt + 3 <= end) {
      // The first packet ends a loss event (RFC 6295 §4): the packets from
      // the journal's checkpoint to this one were never seen.
      const checkpoint = (packet[journalAt + 1] << 8) | packet[journalAt + 2];
      const missed = (seq - checkpoint) & 0xffff;
      if (missed < 0x8000) gap = missed;
    }
    const sysex = this.#sysex;
    if (gap > 0) {
      result.lost = gap;
      sysex.lost(gap);
      if (journalAt >= 0) {
        const journal = readJournal(packet, journalAt, end);
        if (journal.problem) result.malformed ??= journal.problem;
        result.recovered += recover(journal, this.#state, result.messages);
        // The journal codes the packets from its checkpoint on: the lost
        // ones before it (if the sender cut its journal short) are gone.
        const uncovered = (journal.checkpoint - seq + gap) & 0xffff;
        if (!journal.problem && uncovered > 0 && uncovered <= gap) {
          result.dropped =
            `${uncovered} of ${gap} lost packets before the journal's checkpoint ${journal.checkpoint}`;
        }
      } else {
        result.dropped = `${gap} lost packet${
          gap === 1 ? "" : "s"
        }, and no journal`;
      }
    }
    // The packet's own messages go after the recovered ones.
    const messages = result.messages;
    const own = messages.length;
    const problem = readCommandList(
      packet,
      at,
      listEnd,
      (flags & 0x20) !== 0,
      messages,
      sysex,
    );
    if (problem) {
      result.malformed ??= problem;
      sysex.drop();
    }
    for (let i = own; i < messages.length; i++) {
      this.#state.apply(messages[i], 0, time);
    }
    if (sysex.problem) result.malformed ??= sysex.problem;
    if (sysex.dropped) result.dropped ??= sysex.dropped;
    sysex.problem = sysex.dropped = undefined;
    return result;
  }
}
