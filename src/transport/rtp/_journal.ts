// Copyright 2026 the midisock authors. MIT license.
// Private: the recovery journal (RFC 6295 §4-5, Appendix A and B): writing it
// from the sender's MidiState, reading it from a packet whatever its bytes,
// and the messages that bring a receiver's state back to the sender's.
//
// What is coded: the system chapter D's reset count; and for each channel,
// chapter P (program, with the bank select in force), C (controllers 0..119,
// with the value tool), W (pitch wheel), N (note logs and off bits) and T
// (channel pressure). Channel mode messages (CC 120..127) are not coded in
// chapter C: the notes that they end are coded as off bits in chapter N, and
// the controllers that CC 121 resets as their new values in chapter C.

import {
  type ChannelState,
  endsNotes,
  type MidiState,
  UNKNOWN,
} from "./_midi_state.ts";

/**
 * A note_on is marked "play it" (the Y bit) when it is younger than this, in
 * RTP timestamp ticks: 100 ms at AppleMIDI's 10 kHz clock. An older one is
 * coded but a receiver should not sound it late.
 */
const RECENT_TICKS = 1000;

/** The largest channel journal: header, P, C, W, N and T all full. */
const MAX_CHANNEL_JOURNAL = 3 + 3 + 1 + 2 * 120 + 2 + 2 + 2 * 128 + 16 + 1;

/** Writes recovery journals, reusing one scratch buffer. */
export class JournalWriter {
  #buf = new Uint8Array(3 + 4 + 16 * MAX_CHANNEL_JOURNAL);
  #logs: number[] = [];
  #bits = new Uint8Array(16);

  /**
   * The journal of packet `current` (an extended sequence number), coding
   * every change of `state` made by packets `checkpoint` .. `current - 1`.
   * `time` is packet `current`'s RTP timestamp. The bytes are a view of the
   * writer's buffer, good until its next write: no copy for each packet.
   */
  write(
    state: MidiState,
    checkpoint: number,
    current: number,
    time: number,
  ): Uint8Array {
    const buf = this.#buf;
    const prev = current - 1;
    let at = 3;
    let recent = false;
    let y = 0;
    if (state.resetSeq >= checkpoint) {
      const s = state.resetSeq === prev ? 0 : 0x80;
      if (s === 0) recent = true;
      // System journal header |S|D|V|Q|F|X|LENGTH|, chapter D |S|B|G|H|J|K|Y|Z|
      // and its reset field |S|COUNT|.
      buf[at++] = s | 0x40;
      buf[at++] = 4;
      buf[at++] = s | 0x40;
      buf[at++] = s | state.resetCount;
      y = 0x40;
    }
    let channels = 0;
    for (let chan = 0; chan < 16; chan++) {
      const ch = state.channels[chan];
      if (ch.lastSeq < checkpoint) continue;
      const length = this.#channel(ch, chan, buf, at, checkpoint, prev, time);
      if (length === 0) continue;
      if ((buf[at] & 0x80) === 0) recent = true;
      at += length;
      channels++;
    }
    const a = channels > 0 ? 0x20 : 0;
    buf[0] = (recent ? 0 : 0x80) | y | a | (channels > 0 ? channels - 1 : 0);
    buf[1] = (checkpoint >> 8) & 0xff;
    buf[2] = checkpoint & 0xff;
    return buf.subarray(0, at);
  }

  /** Writes one channel journal at `start`; returns its length (0: none). */
  #channel(
    ch: ChannelState,
    chan: number,
    buf: Uint8Array,
    start: number,
    checkpoint: number,
    prev: number,
    time: number,
  ): number {
    let at = start + 3;
    let toc = 0;
    let recent = false;
    const sBit = (seq: number): number => {
      if (seq === prev) {
        recent = true;
        return 0;
      }
      return 0x80;
    };
    if (ch.programSeq >= checkpoint) { // chapter P
      toc |= 0x80;
      const bank = ch.programBankMsb !== UNKNOWN ||
        ch.programBankLsb !== UNKNOWN;
      buf[at++] = sBit(ch.programSeq) | ch.program;
      buf[at++] = (bank ? 0x80 : 0) | Math.max(ch.programBankMsb, 0);
      buf[at++] = Math.max(ch.programBankLsb, 0); // X = 0
    }
    const cStart = at; // chapter C
    let controls = 0;
    let cRecent = false;
    for (let control = 0; control < 120; control++) {
      const seq = ch.controlSeq[control];
      if (seq < checkpoint) continue;
      if (controls === 0) at++;
      const s = sBit(seq);
      if (s === 0) cRecent = true;
      buf[at++] = s | control;
      buf[at++] = ch.control[control]; // A = 0: the value tool
      controls++;
    }
    if (controls > 0) {
      toc |= 0x40;
      buf[cStart] = (cRecent ? 0 : 0x80) | (controls - 1);
    }
    if (ch.pitchSeq >= checkpoint) { // chapter W
      toc |= 0x10;
      buf[at++] = sBit(ch.pitchSeq) | (ch.pitch & 0x7f);
      buf[at++] = ch.pitch >> 7;
    }
    at = this.#chapterN(ch, buf, at, checkpoint, prev, time, () => {
      toc |= 0x08;
    }, () => {
      recent = true;
    });
    if (ch.pressureSeq >= checkpoint) { // chapter T
      toc |= 0x02;
      buf[at++] = sBit(ch.pressureSeq) | ch.pressure;
    }
    if (toc === 0) return 0;
    const length = at - start;
    buf[start] = (recent ? 0 : 0x80) | (chan << 3) | (length >> 8);
    buf[start + 1] = length & 0xff;
    buf[start + 2] = toc;
    return length;
  }

  #chapterN(
    ch: ChannelState,
    buf: Uint8Array,
    start: number,
    checkpoint: number,
    prev: number,
    time: number,
    present: () => void,
    isRecent: () => void,
  ): number {
    const logs = this.#logs;
    logs.length = 0;
    const bits = this.#bits.fill(0);
    let low = 16, high = -1;
    let offRecent = false;
    // Oldest first, so the notes before the checkpoint come first.
    for (const note of ch.noteOrder) {
      const seq = ch.noteSeq[note];
      if (seq < checkpoint) continue;
      if (ch.velocity[note] !== 0) logs.push(note);
      else {
        const octet = note >> 3;
        bits[octet] |= 0x80 >> (note & 7);
        if (octet < low) low = octet;
        if (octet > high) high = octet;
        if (seq === prev) offRecent = true;
      }
    }
    if (logs.length === 0 && high < 0) return start;
    present();
    let at = start;
    let len = logs.length, lowHigh: number;
    if (high >= 0) lowHigh = (low << 4) | high;
    else if (len === 127) lowHigh = 0xf1; // 127 logs, no off bits
    else lowHigh = 0xf0; // no off bits (or, with LEN 127, 128 logs)
    if (len === 128) len = 127;
    if (offRecent) isRecent();
    buf[at++] = (offRecent ? 0 : 0x80) | len; // B is the off bits' S bit
    buf[at++] = lowHigh;
    for (const note of logs) {
      const seq = ch.noteSeq[note];
      let s = 0x80;
      if (seq === prev) {
        s = 0;
        isRecent();
      }
      const young = ((time - ch.noteTime[note]) >>> 0) < RECENT_TICKS;
      buf[at++] = s | note;
      buf[at++] = (young ? 0x80 : 0) | ch.velocity[note];
    }
    if (high >= 0) {
      buf.set(bits.subarray(low, high + 1), at);
      at += high - low + 1;
    }
    return at;
  }
}

/** One channel journal, as read from a packet. */
export interface ReadChannel {
  channel: number;
  program?: number;
  /** Bank select MSB and LSB of chapter P, when its B bit is 1. */
  bank?: [number, number];
  /** Controller number and value (value-tool entries only). */
  controls: [number, number][];
  pitch?: number;
  pressure?: number;
  /** Note, velocity and the Y ("play it") bit of each note log. */
  logs: [number, number, boolean][];
  /** Notes whose off bit is set. */
  offs: number[];
}

/** A recovery journal, as read from a packet. */
export interface ReadJournal {
  checkpoint: number;
  /** Chapter D's reset count, when the journal has one. */
  resets?: number;
  channels: ReadChannel[];
  /** What was wrong with it: the parts that were wrong are left out. */
  problem?: string;
}

/**
 * Reads the recovery journal in `packet[start..end)`. No input makes it
 * throw or read outside those bounds; a part whose lengths lie is left out
 * and named in `problem`.
 */
export function readJournal(
  packet: Uint8Array,
  start: number,
  end: number,
): ReadJournal {
  if (end - start < 3) {
    return {
      checkpoint: 0,
      channels: [],
      problem: `journal header cut at offset ${start} (${
        end - start
      } of 3 bytes)`,
    };
  }
  const flags = packet[start];
  const journal: ReadJournal = {
    checkpoint: (packet[start + 1] << 8) | packet[start + 2],
    channels: [],
  };
  let at = start + 3;
  if (flags & 0x40) { // the system journal
    if (end - at < 2) {
      journal.problem = `system journal header cut at offset ${at}`;
      return journal;
    }
    const length = ((packet[at] & 0x03) << 8) | packet[at + 1];
    if (length < 2 || at + length > end) {
      journal.problem =
        `system journal at offset ${at} has LENGTH ${length}, past the packet's end`;
      return journal;
    }
    if (packet[at] & 0x40 && length >= 3) { // chapter D
      const d = packet[at + 2];
      if (d & 0x40) {
        if (length >= 4) journal.resets = packet[at + 3] & 0x7f;
        else journal.problem = `chapter D at offset ${at + 2} is cut`;
      }
    }
    at += length;
  }
  if (flags & 0x20) {
    const count = (flags & 0x0f) + 1;
    for (let i = 0; i < count; i++) {
      if (end - at < 3) {
        journal.problem ??= `channel journal ${i} at offset ${at} is cut`;
        break;
      }
      const length = ((packet[at] & 0x03) << 8) | packet[at + 1];
      if (length < 3 || at + length > end) {
        journal.problem ??=
          `channel journal ${i} at offset ${at} has LENGTH ${length}, ${
            length < 3 ? "below its header" : "past the packet's end"
          }`;
        break;
      }
      const read = readChannel(packet, at, at + length);
      if (typeof read === "string") journal.problem ??= read;
      else journal.channels.push(read);
      at += length;
    }
  }
  return journal;
}

function readChannel(
  packet: Uint8Array,
  start: number,
  end: number,
): ReadChannel | string {
  const channel = (packet[start] >> 3) & 0x0f;
  const toc = packet[start + 2];
  const read: ReadChannel = { channel, controls: [], logs: [], offs: [] };
  let at = start + 3;
  const cut = (chapter: string) =>
    `chapter ${chapter} of channel ${channel} at offset ${at} runs past its channel journal's LENGTH (${
      end - start
    })`;
  if (toc & 0x80) { // P
    if (end - at < 3) return cut("P");
    read.program = packet[at] & 0x7f;
    if (packet[at + 1] & 0x80) {
      read.bank = [packet[at + 1] & 0x7f, packet[at + 2] & 0x7f];
    }
    at += 3;
  }
  if (toc & 0x40) { // C
    if (end - at < 1) return cut("C");
    const n = (packet[at] & 0x7f) + 1;
    if (end - at < 1 + 2 * n) return cut("C");
    for (let k = 0; k < n; k++) {
      const number = packet[at + 1 + 2 * k] & 0x7f;
      const value = packet[at + 2 + 2 * k];
      if ((value & 0x80) === 0) read.controls.push([number, value]);
    }
    at += 1 + 2 * n;
  }
  if (toc & 0x20) { // M: skipped by its own LENGTH
    if (end - at < 2) return cut("M");
    const length = ((packet[at] & 0x03) << 8) | packet[at + 1];
    if (length < 2 || end - at < length) return cut("M");
    at += length;
  }
  if (toc & 0x10) { // W
    if (end - at < 2) return cut("W");
    read.pitch = (packet[at] & 0x7f) | ((packet[at + 1] & 0x7f) << 7);
    at += 2;
  }
  if (toc & 0x08) { // N
    if (end - at < 2) return cut("N");
    let logs = packet[at] & 0x7f;
    const low = packet[at + 1] >> 4, high = packet[at + 1] & 0x0f;
    if (logs === 127 && low === 15 && high === 0) logs = 128;
    const offBytes = low <= high ? high - low + 1 : 0;
    if (end - at < 2 + 2 * logs + offBytes) return cut("N");
    for (let k = 0; k < logs; k++) {
      const note = packet[at + 2 + 2 * k] & 0x7f;
      const v = packet[at + 3 + 2 * k];
      read.logs.push([note, v & 0x7f, (v & 0x80) !== 0]);
    }
    const bits = at + 2 + 2 * logs;
    for (let k = 0; k < offBytes; k++) {
      const byte = packet[bits + k];
      for (let bit = 0; bit < 8; bit++) {
        if (byte & (0x80 >> bit)) read.offs.push((low + k) * 8 + bit);
      }
    }
    at = bits + offBytes;
  }
  for (const [mask, name] of [[0x04, "E"], [0x02, "T"], [0x01, "A"]] as const) {
    if ((toc & mask) === 0) continue;
    if (end - at < 1) return cut(name);
    if (name === "T") {
      read.pressure = packet[at] & 0x7f;
      at += 1;
    } else {
      const length = 1 + 2 * ((packet[at] & 0x7f) + 1);
      if (end - at < length) return cut(name);
      at += length;
    }
  }
  return read;
}

/**
 * Brings `state` (what the receiver has played) to what `journal` codes, and
 * pushes onto `out` the messages that do it: a missed system reset, then for
 * each channel the program (with its bank), the controllers, the pitch
 * wheel, the channel pressure, the note_offs of notes left on, and the
 * note_ons marked "play it". Returns how many messages it pushed.
 */
export function recover(
  journal: ReadJournal,
  state: MidiState,
  out: Uint8Array[],
): number {
  const before = out.length;
  const emit = (...bytes: number[]) => {
    const msg = new Uint8Array(bytes);
    state.apply(msg, 0, 0);
    out.push(msg);
  };
  if (journal.resets !== undefined && journal.resets !== state.resetCount) {
    const held: [number, number][] = [];
    state.channels.forEach((ch, chan) => {
      if (ch.held === 0) return;
      for (let note = 0; note < 128; note++) {
        if (ch.velocity[note] !== 0) held.push([chan, note]);
      }
    });
    emit(0xff);
    state.resetCount = journal.resets;
    for (const [chan, note] of held) emit(0x80 | chan, note, 64);
  }
  for (const read of journal.channels) {
    const chan = read.channel;
    const ch = state.channels[chan];
    if (read.program !== undefined && read.program !== ch.program) {
      if (read.bank) {
        emit(0xb0 | chan, 0, read.bank[0]);
        emit(0xb0 | chan, 32, read.bank[1]);
      }
      emit(0xc0 | chan, read.program);
    }
    for (const [control, value] of read.controls) {
      if (endsNotes(control) || control === 121 || control === 122) continue;
      if (control < 120 && ch.control[control] === value) continue;
      emit(0xb0 | chan, control, value);
    }
    if (read.pitch !== undefined && read.pitch !== ch.pitch) {
      emit(0xe0 | chan, read.pitch & 0x7f, read.pitch >> 7);
    }
    if (read.pressure !== undefined && read.pressure !== ch.pressure) {
      emit(0xd0 | chan, read.pressure);
    }
    for (const note of read.offs) {
      if (ch.velocity[note] !== 0) emit(0x80 | chan, note, 64);
    }
    for (const [note, velocity, play] of read.logs) {
      if (velocity === 0) {
        if (ch.velocity[note] !== 0) emit(0x80 | chan, note, 64);
      } else if (ch.velocity[note] === 0 && play) {
        emit(0x90 | chan, note, velocity);
      }
    }
  }
  return out.length - before;
}

/**
 * Releases what `state` holds: a note_off for each held note, then CC 64
 * value 0 on each channel whose sustain pedal is down. Returns how many
 * messages it pushed onto `out`.
 */
export function release(state: MidiState, out: Uint8Array[]): number {
  const before = out.length;
  state.channels.forEach((ch, chan) => {
    if (ch.held === 0) return;
    for (let note = 0; note < 128; note++) {
      if (ch.velocity[note] !== 0) {
        out.push(new Uint8Array([0x80 | chan, note, 64]));
      }
    }
  });
  state.channels.forEach((ch, chan) => {
    if (ch.control[64] >= 64) out.push(new Uint8Array([0xb0 | chan, 64, 0]));
  });
  return out.length - before;
}
