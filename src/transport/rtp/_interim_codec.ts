// Copyright 2026 the midisock authors. MIT license.
// INTERIM, to be deleted when rtp_midi.ts has its bodies: a journal-less
// RTP-MIDI codec with rtp_midi.ts's interface, so that the session can be
// built and tested meanwhile.

import type {
  RtpMidiReceived,
  RtpMidiReceiverOptions,
  RtpMidiSenderOptions,
  RtpMidiSenderStats,
} from "./rtp_midi.ts";

/** Builds RTP-MIDI packets (no journal). */
export class RtpMidiSender {
  readonly stats: RtpMidiSenderStats = {
    packets: 0,
    bytes: 0,
    journalBytes: 0,
  };
  #ssrc: number;
  #seq: number;

  constructor(options: RtpMidiSenderOptions) {
    this.#ssrc = options.ssrc >>> 0;
    this.#seq = options.seq ?? Math.floor(Math.random() * 0x10000);
  }

  packets(messages: readonly Uint8Array[], timestamp: number): Uint8Array[] {
    if (messages.length === 0) return [];
    let length = 0;
    for (const m of messages) length += m.length;
    length += messages.length - 1; // a zero delta before each but the first
    const big = length > 15;
    const head = 12 + (big ? 2 : 1);
    const packet = new Uint8Array(head + length);
    const view = new DataView(packet.buffer);
    packet[0] = 0x80;
    packet[1] = 0x61;
    view.setUint16(2, this.#seq);
    this.#seq = (this.#seq + 1) & 0xffff;
    view.setUint32(4, timestamp >>> 0);
    view.setUint32(8, this.#ssrc);
    if (big) {
      packet[12] = 0x80 | (length >> 8);
      packet[13] = length & 0xff;
    } else packet[12] = length;
    let at = head;
    messages.forEach((m, i) => {
      if (i > 0) packet[at++] = 0;
      packet.set(m, at);
      at += m.length;
    });
    this.stats.packets++;
    this.stats.bytes += packet.length;
    return [packet];
  }

  acknowledge(_seq: number): void {}

  guard(_timestamp: number): Uint8Array | undefined {
    return undefined;
  }
}

const LENGTHS: Record<number, number> = {
  0x80: 2,
  0x90: 2,
  0xa0: 2,
  0xb0: 2,
  0xc0: 1,
  0xd0: 1,
  0xe0: 2,
};

/** Reads RTP-MIDI packets (the command section; the journal is skipped). */
export class RtpMidiReceiver {
  #last: number | undefined;

  constructor(_options: RtpMidiReceiverOptions = {}) {}

  get lastSeq(): number | undefined {
    return this.#last;
  }

  receive(packet: Uint8Array): RtpMidiReceived {
    const out: RtpMidiReceived = { messages: [], recovered: 0, lost: 0 };
    if (packet.length < 13 || (packet[0] & 0xc0) !== 0x80) {
      out.malformed = "not an RTP packet";
      return out;
    }
    const view = new DataView(packet.buffer, packet.byteOffset, packet.length);
    out.seq = view.getUint16(2);
    out.ssrc = view.getUint32(8);
    if (this.#last !== undefined) {
      out.lost = Math.max(0, ((out.seq - this.#last) & 0xffff) - 1);
    }
    this.#last = out.seq;
    let at = 12 + (packet[0] & 0x0f) * 4;
    const b = packet[at] & 0x80;
    let length = packet[at] & 0x0f;
    const z = packet[at] & 0x20;
    if (b) length = (length << 8) | (packet[at + 1] ?? 0);
    at += b ? 2 : 1;
    const end = at + length;
    if (end > packet.length) {
      out.malformed = "command section longer than the packet";
      return out;
    }
    let running = 0;
    let first = true;
    while (at < end) {
      if (!first || z) {
        let n = 0;
        while (at < end && (packet[at] & 0x80) && n < 3) at++, n++;
        at++;
      }
      first = false;
      if (at >= end) break;
      let status = packet[at];
      if (status & 0x80) at++;
      else if (running) status = running;
      else {
        out.malformed = "data bytes with no status";
        return out;
      }
      if (status === 0xf0) {
        let stop = at;
        while (stop < end && !(packet[stop] & 0x80)) stop++;
        if (packet[stop] !== 0xf7) {
          out.malformed = "unsupported sysex segment";
          return out;
        }
        const m = new Uint8Array(stop - at + 2);
        m[0] = 0xf0;
        m.set(packet.subarray(at, stop + 1), 1);
        out.messages.push(m);
        at = stop + 1;
        running = 0;
        continue;
      }
      const n = status < 0xf0
        ? LENGTHS[status & 0xf0]
        : status === 0xf2
        ? 2
        : status === 0xf1 || status === 0xf3
        ? 1
        : 0;
      if (at + n > end) {
        out.malformed = "a command cut short";
        return out;
      }
      const m = new Uint8Array(n + 1);
      m[0] = status;
      m.set(packet.subarray(at, at + n), 1);
      out.messages.push(m);
      at += n;
      if (status < 0xf0) running = status;
      else if (status < 0xf8) running = 0;
    }
    return out;
  }
}
