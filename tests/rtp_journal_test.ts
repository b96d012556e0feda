// Copyright 2026 the midisock authors. MIT license.
// The recovery journal (RFC 6295 §4-5, Appendix A and B): the bytes that the
// sender writes, read by a decoder written here from the RFC's figures (not
// from the encoder), and the recovery of lost packets by a receiver.

import assert from "node:assert/strict";
import {
  RtpMidiReceiver,
  RtpMidiSender,
} from "../src/transport/rtp/rtp_midi.ts";

// ---------------------------------------------------------------------------
// A decoder from the RFC's figures. Each figure is read field by field, in
// its bit order, with a bit reader: nothing here is shared with src/.

class Bits {
  #bytes: Uint8Array;
  #bit: number;
  constructor(bytes: Uint8Array, byteOffset = 0) {
    this.#bytes = bytes;
    this.#bit = byteOffset * 8;
  }
  get byte(): number {
    assert.equal(this.#bit % 8, 0, "reader is not on a byte boundary");
    return this.#bit / 8;
  }
  read(width: number): number {
    let value = 0;
    for (let i = 0; i < width; i++, this.#bit++) {
      const byte = this.#bytes[this.#bit >> 3];
      assert.ok(byte !== undefined, `read past the end at bit ${this.#bit}`);
      value = value * 2 + ((byte >> (7 - (this.#bit & 7))) & 1);
    }
    return value;
  }
}

interface Packet {
  v: number;
  pt: number;
  seq: number;
  timestamp: number;
  ssrc: number;
  b: number;
  j: number;
  z: number;
  p: number;
  list: Uint8Array;
  journal: Uint8Array;
}

/** RFC 3550 Figure 1 (the RTP header) and RFC 6295 Figure 2 (the header). */
function splitPacket(packet: Uint8Array): Packet {
  const r = new Bits(packet);
  const v = r.read(2), _padding = r.read(1), _x = r.read(1), cc = r.read(4);
  const _m = r.read(1), pt = r.read(7), seq = r.read(16);
  const timestamp = r.read(32), ssrc = r.read(32);
  assert.equal(cc, 0);
  const b = r.read(1), j = r.read(1), z = r.read(1), p = r.read(1);
  const len = b ? r.read(12) : r.read(4);
  const start = r.byte;
  return {
    v,
    pt,
    seq,
    timestamp,
    ssrc,
    b,
    j,
    z,
    p,
    list: packet.slice(start, start + len),
    journal: packet.slice(start + len),
  };
}

interface Journal {
  S: number;
  Y: number;
  A: number;
  H: number;
  TOTCHAN: number;
  checkpoint: number;
  system?: System;
  channels: Channel[];
}
interface System {
  S: number;
  D: number;
  V: number;
  Q: number;
  F: number;
  X: number;
  LENGTH: number;
  chapterD?: { S: number; B: number; reset?: { S: number; COUNT: number } };
}
interface Channel {
  S: number;
  CHAN: number;
  H: number;
  LENGTH: number;
  toc: string;
  P?: {
    S: number;
    PROGRAM: number;
    B: number;
    MSB: number;
    X: number;
    LSB: number;
  };
  C?: {
    S: number;
    LEN: number;
    log: { S: number; NUMBER: number; A: number; VALUE: number }[];
  };
  W?: { S: number; FIRST: number; R: number; SECOND: number };
  N?: {
    B: number;
    LEN: number;
    LOW: number;
    HIGH: number;
    logs: { S: number; NOTENUM: number; Y: number; VELOCITY: number }[];
    offNotes: number[];
  };
  T?: { S: number; PRESSURE: number };
}

/** RFC 6295 Figure 8 (the journal header), 9 (system) and 10 (channel). */
function decodeJournal(bytes: Uint8Array): Journal {
  const r = new Bits(bytes);
  const journal: Journal = {
    S: r.read(1),
    Y: r.read(1),
    A: r.read(1),
    H: r.read(1),
    TOTCHAN: r.read(4),
    checkpoint: r.read(16),
    channels: [],
  };
  if (journal.Y) {
    const start = r.byte;
    const system: System = {
      S: r.read(1),
      D: r.read(1),
      V: r.read(1),
      Q: r.read(1),
      F: r.read(1),
      X: r.read(1),
      LENGTH: r.read(10),
    };
    if (system.D) { // Appendix B.1, Figure B.1.1
      const S = r.read(1), B = r.read(1);
      r.read(6); // G H J K Y Z
      system.chapterD = { S, B };
      if (B) system.chapterD.reset = { S: r.read(1), COUNT: r.read(7) };
    }
    assert.equal(r.byte - start, system.LENGTH, "system journal LENGTH");
    journal.system = system;
  }
  if (journal.A) {
    for (let i = 0; i <= journal.TOTCHAN; i++) {
      const start = r.byte;
      const ch: Channel = {
        S: r.read(1),
        CHAN: r.read(4),
        H: r.read(1),
        LENGTH: r.read(10),
        toc: "",
      };
      const flags = "PCMWNETA".split("").filter(() => r.read(1) === 1);
      ch.toc = flags.join("");
      for (const chapter of flags) {
        if (chapter === "P") { // Figure A.2.1
          ch.P = {
            S: r.read(1),
            PROGRAM: r.read(7),
            B: r.read(1),
            MSB: r.read(7),
            X: r.read(1),
            LSB: r.read(7),
          };
        } else if (chapter === "C") { // Figure A.3.1
          const S = r.read(1), LEN = r.read(7);
          const log = [];
          for (let k = 0; k <= LEN; k++) {
            log.push({
              S: r.read(1),
              NUMBER: r.read(7),
              A: r.read(1),
              VALUE: r.read(7),
            });
          }
          ch.C = { S, LEN, log };
        } else if (chapter === "W") { // Figure A.5.1
          ch.W = {
            S: r.read(1),
            FIRST: r.read(7),
            R: r.read(1),
            SECOND: r.read(7),
          };
        } else if (chapter === "N") { // Figure A.6.1
          const B = r.read(1),
            LEN = r.read(7),
            LOW = r.read(4),
            HIGH = r.read(4);
          const count = LEN === 127 && LOW === 15 && HIGH === 0 ? 128 : LEN;
          const logs = [];
          for (let k = 0; k < count; k++) {
            logs.push({
              S: r.read(1),
              NOTENUM: r.read(7),
              Y: r.read(1),
              VELOCITY: r.read(7),
            });
          }
          const offNotes = [];
          for (let octet = LOW; octet <= HIGH; octet++) {
            for (let bit = 0; bit < 8; bit++) {
              if (r.read(1)) offNotes.push(octet * 8 + bit);
            }
          }
          ch.N = { B, LEN, LOW, HIGH, logs, offNotes };
        } else if (chapter === "T") { // Figure A.8.1
          ch.T = { S: r.read(1), PRESSURE: r.read(7) };
        } else {
          assert.fail(`chapter ${chapter} is not expected from this sender`);
        }
      }
      assert.equal(r.byte - start, ch.LENGTH, `channel ${ch.CHAN} LENGTH`);
      journal.channels.push(ch);
    }
  }
  assert.equal(r.byte, bytes.length, "bytes after the journal");
  return journal;
}

// ---------------------------------------------------------------------------

const m = (...bytes: number[]) => new Uint8Array(bytes);
const CLOCK = m(0xf8);

/** Sends each turn in a packet of its own, returns the packets. */
function sendTurns(
  sender: RtpMidiSender,
  turns: Uint8Array[][],
  start = 0,
  step = 10,
): Uint8Array[] {
  return turns.map((turn, i) => {
    const packets = sender.packets(turn, start + i * step);
    assert.equal(packets.length, 1);
    return packets[0];
  });
}

/** The journal that the next packet carries. */
function nextJournal(sender: RtpMidiSender, timestamp = 1000): Packet {
  return splitPacket(sender.packets([CLOCK], timestamp)[0]);
}

Deno.test("Every packet has an RTP header (V=2, PT 0x61) and a journal; the first has an empty one, S=1", () => {
  const sender = new RtpMidiSender({ ssrc: 0xdeadbeef, seq: 300 });
  const [packet] = sender.packets([m(0x90, 60, 100)], 0x01020304);
  const p = splitPacket(packet);
  assert.deepEqual(
    [p.v, p.pt, p.seq, p.timestamp, p.ssrc, p.b, p.j, p.z, p.p],
    [2, 0x61, 300, 0x01020304, 0xdeadbeef, 0, 1, 0, 0],
  );
  assert.deepEqual(p.list, m(0x90, 60, 100));
  assert.deepEqual(p.journal, m(0x80, 300 >> 8, 300 & 0xff));
  assert.deepEqual(decodeJournal(p.journal), {
    S: 1,
    Y: 0,
    A: 0,
    H: 0,
    TOTCHAN: 0,
    checkpoint: 300,
    channels: [],
  });
});

Deno.test("Chapter N: a held note is a note log, a released one an off bit, with the S, B and Y bits by packet", () => {
  const sender = new RtpMidiSender({ ssrc: 1, seq: 10 });
  sendTurns(sender, [
    [m(0x90, 60, 100)],
    [m(0x90, 62, 90)],
    [m(0x80, 60, 0)],
  ]);
  const p = nextJournal(sender, 30);
  // Header: S=0 (packet I-1 has a note_off), A=1, TOTCHAN=0, checkpoint 10.
  // Channel 0: S=0, LENGTH 8, TOC N. Chapter N: B=0, LEN=1, LOW=HIGH=7; the
  // log of note 62 (S=1: not from I-1; Y=1: 10 ticks old); off bits: 60 is
  // bit 4 of octet 7.
  assert.deepEqual(
    p.journal,
    m(0x20, 0, 10, 0x00, 0x08, 0x08, 0x01, 0x77, 0x80 | 62, 0x80 | 90, 0x08),
  );
  const journal = decodeJournal(p.journal);
  assert.deepEqual(journal.channels[0].N, {
    B: 0,
    LEN: 1,
    LOW: 7,
    HIGH: 7,
    logs: [{ S: 1, NOTENUM: 62, Y: 1, VELOCITY: 90 }],
    offNotes: [60],
  });
  // The next journal: nothing new in I-1, so every S bit and B are 1.
  const q = decodeJournal(nextJournal(sender, 40).journal);
  assert.equal(q.S, 1);
  assert.equal(q.channels[0].S, 1);
  assert.equal(q.channels[0].N!.B, 1);
  // A note_on is not marked "play it" (Y) once it is over 100 ms old.
  const late = decodeJournal(nextJournal(sender, 20 + 1000).journal);
  assert.deepEqual(late.channels[0].N!.logs, [
    { S: 1, NOTENUM: 62, Y: 0, VELOCITY: 90 },
  ]);
});

Deno.test("Chapter N: note logs oldest first, never beside the same note's off bit, 128 logs coded as LEN 127 with LOW 15 and HIGH 0", () => {
  const sender = new RtpMidiSender({ ssrc: 1, seq: 0, maxPacketBytes: 4000 });
  sendTurns(sender, [
    [m(0x91, 70, 1)],
    [m(0x91, 20, 2)],
    [m(0x81, 70, 0)],
    [m(0x91, 70, 3)], // on again: a log only
    [m(0x91, 0, 4), m(0x91, 127, 5)],
  ]);
  const n = decodeJournal(nextJournal(sender, 50).journal).channels[0].N!;
  assert.deepEqual(n.logs.map((l) => [l.NOTENUM, l.VELOCITY, l.S]), [
    [20, 2, 1],
    [70, 3, 1],
    [0, 4, 0],
    [127, 5, 0],
  ]);
  assert.deepEqual([n.LOW, n.HIGH, n.offNotes], [15, 0, []]);

  const all = new RtpMidiSender({ ssrc: 1, seq: 0, maxPacketBytes: 4000 });
  all.packets(Array.from({ length: 128 }, (_, k) => m(0x92, k, 64)), 0);
  const full = decodeJournal(nextJournal(all, 1).journal).channels[0].N!;
  assert.deepEqual([full.LEN, full.LOW, full.HIGH], [127, 15, 0]);
  assert.equal(full.logs.length, 128);

  const most = new RtpMidiSender({ ssrc: 1, seq: 0, maxPacketBytes: 4000 });
  most.packets(Array.from({ length: 127 }, (_, k) => m(0x92, k, 64)), 0);
  const n127 = decodeJournal(nextJournal(most, 1).journal).channels[0].N!;
  assert.deepEqual([n127.LEN, n127.LOW, n127.HIGH], [127, 15, 1]);
  assert.equal(n127.logs.length, 127);
});

Deno.test("Chapter C: each controller's last value with the value tool (the pedal too), in number order, S bits by packet", () => {
  const sender = new RtpMidiSender({ ssrc: 1, seq: 5 });
  sendTurns(sender, [
    [m(0xb3, 64, 127)],
    [m(0xb3, 7, 100), m(0xb3, 7, 90)],
  ]);
  const p = nextJournal(sender);
  // Channel 3: S=0 (CC7 is from I-1), LENGTH 3+5, TOC C; chapter C: S=0,
  // LEN=1 (two entries): 7 = 90 (S=0), 64 = 127 (S=1).
  assert.deepEqual(
    p.journal,
    m(0x20, 0, 5, 0x18, 0x08, 0x40, 0x01, 7, 90, 0x80 | 64, 127),
  );
  assert.deepEqual(decodeJournal(p.journal).channels[0].C, {
    S: 0,
    LEN: 1,
    log: [
      { S: 0, NUMBER: 7, A: 0, VALUE: 90 },
      { S: 1, NUMBER: 64, A: 0, VALUE: 127 },
    ],
  });
});

Deno.test("Chapter P: the program with the bank select in force (B=1), chapter C beside it", () => {
  const sender = new RtpMidiSender({ ssrc: 1, seq: 0 });
  sendTurns(sender, [[m(0xb9, 0, 1), m(0xb9, 32, 2), m(0xc9, 5)]]);
  const journal = decodeJournal(nextJournal(sender).journal);
  const ch = journal.channels[0];
  assert.deepEqual([ch.CHAN, ch.toc, ch.LENGTH], [9, "PC", 3 + 3 + 5]);
  assert.deepEqual(ch.P, { S: 0, PROGRAM: 5, B: 1, MSB: 1, X: 0, LSB: 2 });
  assert.deepEqual(ch.C!.log.map((e) => [e.NUMBER, e.VALUE]), [[0, 1], [
    32,
    2,
  ]]);
  // With no bank select, B=0 and the bank fields are 0.
  const plain = new RtpMidiSender({ ssrc: 1, seq: 0 });
  plain.packets([m(0xc0, 127)], 0);
  assert.deepEqual(decodeJournal(nextJournal(plain).journal).channels[0].P, {
    S: 0,
    PROGRAM: 127,
    B: 0,
    MSB: 0,
    X: 0,
    LSB: 0,
  });
});

Deno.test("Chapter W codes the pitch wheel's two data bytes, chapter T the channel pressure, in TOC order across channels", () => {
  const sender = new RtpMidiSender({ ssrc: 1, seq: 0 });
  sendTurns(sender, [[m(0xd2, 0x55)], [m(0xe1, 0x12, 0x34)]]);
  const p = nextJournal(sender);
  assert.deepEqual(
    p.journal,
    // TOTCHAN=1: channel 1 (W), then channel 2 (T, S=1: from packet 0).
    m(0x21, 0, 0, 0x08, 0x05, 0x10, 0x12, 0x34, 0x90, 0x04, 0x02, 0xd5),
  );
  const journal = decodeJournal(p.journal);
  assert.deepEqual(journal.channels[0].W, {
    S: 0,
    FIRST: 0x12,
    R: 0,
    SECOND: 0x34,
  });
  assert.deepEqual(journal.channels[1].T, { S: 1, PRESSURE: 0x55 });
});

Deno.test("System chapter D counts resets; a reset drops the state before it but the notes it ends are off bits; All Notes Off and Reset All Controllers are coded by their effects", () => {
  const sender = new RtpMidiSender({ ssrc: 1, seq: 0 });
  sendTurns(sender, [[m(0x90, 60, 100), m(0xb0, 64, 127)], [m(0xff)]]);
  const p = nextJournal(sender);
  const journal = decodeJournal(p.journal);
  assert.deepEqual([journal.S, journal.Y, journal.A], [0, 1, 1]);
  assert.deepEqual(journal.system, {
    S: 0,
    D: 1,
    V: 0,
    Q: 0,
    F: 0,
    X: 0,
    LENGTH: 4,
    chapterD: { S: 0, B: 1, reset: { S: 0, COUNT: 1 } },
  });
  // What came before the reset is dropped (the pedal too), but the notes it
  // ended are off bits.
  assert.equal(journal.channels[0].toc, "N");
  assert.deepEqual(journal.channels[0].N!.offNotes, [60]);
  assert.deepEqual(journal.channels[0].N!.logs, []);

  const modes = new RtpMidiSender({ ssrc: 1, seq: 0 });
  sendTurns(modes, [
    [m(0x94, 61, 100), m(0xb4, 64, 127), m(0xe4, 0, 0x50)],
    [m(0xb4, 123, 0), m(0xb4, 121, 0)],
  ]);
  const ch = decodeJournal(nextJournal(modes).journal).channels[0];
  assert.equal(ch.toc, "CWN");
  assert.deepEqual(ch.N!.offNotes, [61]);
  assert.deepEqual(ch.C!.log.map((e) => [e.NUMBER, e.VALUE, e.S]), [[
    64,
    0,
    0,
  ]]);
  assert.deepEqual(ch.W, { S: 0, FIRST: 0, R: 0, SECOND: 0x40 });
});

Deno.test("acknowledge() moves the checkpoint past what the peer has, and the journal shrinks to what it has not", () => {
  const sender = new RtpMidiSender({ ssrc: 1, seq: 65534 });
  sendTurns(sender, [[m(0x90, 60, 100)], [m(0xb0, 7, 1)], [m(0x80, 60, 0)]]);
  // Packets 65534, 65535 and 0 are sent; the peer has up to 65535.
  sender.acknowledge(65535);
  let journal = decodeJournal(nextJournal(sender).journal); // packet 1
  assert.equal(journal.checkpoint, 0);
  assert.equal(journal.channels[0].toc, "N");
  assert.deepEqual(journal.channels[0].N!.offNotes, [60]);
  sender.acknowledge(1); // packet 1 had only a clock
  journal = decodeJournal(nextJournal(sender).journal);
  assert.deepEqual([journal.A, journal.checkpoint, journal.channels], [
    0,
    2,
    [],
  ]);
  // An old or never-sent seq changes nothing.
  sender.acknowledge(65534);
  sender.acknowledge(40000);
  assert.equal(decodeJournal(nextJournal(sender).journal).checkpoint, 2);
  // The RS field's two forms: extended (rollover count, then the number) and
  // Arduino AppleMIDI's (the number, then zeros).
  sender.acknowledge(0x0001_0000 + 3); // packet 3
  assert.equal(decodeJournal(nextJournal(sender).journal).checkpoint, 4);
  sender.acknowledge(4 * 0x10000); // packet 4
  assert.equal(decodeJournal(nextJournal(sender).journal).checkpoint, 5);
  assert.throws(() => sender.acknowledge(1.5), TypeError);
  assert.throws(() => sender.acknowledge(-1), RangeError);
});

Deno.test("A journal too long for maxPacketBytes is cut short from its oldest end, and counted", () => {
  const sender = new RtpMidiSender({ ssrc: 1, seq: 0, maxPacketBytes: 200 });
  for (let k = 0; k < 60; k++) sender.packets([m(0x90 | (k & 15), k, 100)], k);
  const packets = sender.packets([CLOCK], 100);
  assert.ok(packets[0].length <= 200);
  const journal = decodeJournal(splitPacket(packets[0]).journal);
  assert.ok(journal.checkpoint > 0);
  // The newest note is still coded.
  const logs = journal.channels.flatMap((c) => c.N?.logs ?? []);
  assert.ok(logs.some((l) => l.NOTENUM === 59));
  assert.ok(sender.stats.journalTrims > 0);
  assert.ok(journal.channels.length <= 16);
});

Deno.test("journal: false sends J=0 and no journal bytes", () => {
  const sender = new RtpMidiSender({ ssrc: 1, seq: 0, journal: false });
  const [packet] = sender.packets([m(0x90, 60, 100)], 0);
  const p = splitPacket(packet);
  assert.equal(p.j, 0);
  assert.deepEqual(p.journal, m());
  assert.equal(sender.guard(1), undefined);
  assert.deepEqual(sender.stats, {
    packets: 1,
    bytes: 16,
    journalBytes: 0,
    journalTrims: 0,
  });
});

// ---------------------------------------------------------------------------
// Loss: a sender and a receiver, with chosen packets dropped between them.

/** Sends the turns; delivers all but the dropped ones; returns what came. */
function lossy(
  turns: Uint8Array[][],
  dropped: Set<number>,
  options: { seq?: number; step?: number } = {},
) {
  const sender = new RtpMidiSender({ ssrc: 42, seq: options.seq ?? 100 });
  const receiver = new RtpMidiReceiver();
  const packets = sendTurns(sender, turns, 0, options.step ?? 10);
  const results = packets
    .filter((_, i) => !dropped.has(i))
    .map((p) => receiver.receive(p));
  for (const r of results) assert.equal(r.malformed, undefined);
  return { results, receiver };
}

Deno.test("Loss of the packet with a note_off: the next packet's journal gives back exactly that note_off, first", () => {
  const { results } = lossy([
    [m(0x90, 60, 100), m(0x90, 64, 100)],
    [m(0x80, 60, 0)], // lost
    [m(0x90, 67, 100)],
  ], new Set([1]));
  assert.deepEqual(results[1].messages, [m(0x80, 60, 64), m(0x90, 67, 100)]);
  assert.deepEqual([results[1].recovered, results[1].lost], [1, 1]);
});

Deno.test("Loss of the packet with a pedal release: CC64=0 comes back", () => {
  const { results } = lossy([
    [m(0xb0, 64, 127), m(0x90, 60, 100)],
    [m(0x80, 60, 0)],
    [m(0xb0, 64, 0)], // lost
    [m(0x90, 62, 100)],
  ], new Set([2]));
  assert.deepEqual(results[2].messages, [m(0xb0, 64, 0), m(0x90, 62, 100)]);
  assert.equal(results[2].recovered, 1);
});

Deno.test("Loss of a run of 10 packets: the lost note_offs, CC64=0 and the last values come back, and nothing else", () => {
  const turns = [
    [m(0x90, 60, 100), m(0x90, 62, 100), m(0x90, 64, 100)],
    [m(0xb0, 64, 127), m(0xb0, 7, 100), m(0xe0, 0, 0x40)],
    // the 10 lost packets:
    [m(0x80, 60, 0)],
    [m(0xb0, 7, 90), m(0x90, 67, 80)],
    [m(0xe0, 0x10, 0x50)],
    [m(0x80, 67, 0), m(0xb0, 7, 80)],
    [m(0x90, 62, 0)], // note_off as a note_on of velocity 0
    [m(0xb1, 0, 2), m(0xb1, 32, 3), m(0xc1, 17)],
    [m(0xe0, 0x7f, 0x7f), m(0xd0, 33)],
    [m(0xb0, 64, 0)],
    [m(0xb0, 7, 70)],
    [m(0x90, 72, 99)],
    // then
    [CLOCK],
  ];
  const { results } = lossy(turns, new Set([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]), {
    step: 5,
  });
  assert.deepEqual(results[2].messages, [
    m(0xb0, 7, 70), // chapter C of channel 0
    m(0xb0, 64, 0),
    m(0xe0, 0x7f, 0x7f), // W
    m(0xd0, 33), // T
    m(0x80, 60, 64), // N: the off bits of notes still held here
    m(0x80, 62, 64),
    m(0x90, 72, 99), // N: a recent note_on (Y=1)
    m(0xb1, 0, 2), // channel 1: P with its bank
    m(0xb1, 32, 3),
    m(0xc1, 17),
    CLOCK,
  ]);
  assert.deepEqual([results[2].recovered, results[2].lost], [10, 10]);
});

Deno.test("Without a gap the journal is ignored: the receiver gives exactly what was sent", () => {
  const turns = [
    [m(0x90, 60, 100)],
    [m(0xb0, 64, 127)],
    [m(0x80, 60, 0), m(0xc0, 3)],
    [m(0xb0, 64, 0)],
  ];
  const { results } = lossy(turns, new Set());
  assert.deepEqual(results.map((r) => r.messages), turns);
  assert.ok(results.every((r) => r.recovered === 0 && r.lost === 0));
});

Deno.test("Loss across the sequence number's wrap at 65535 is recovered", () => {
  const { results, receiver } = lossy(
    [
      [m(0x95, 50, 100)], // 65534
      [m(0xb5, 1, 9)], // 65535, lost
      [m(0x85, 50, 0)], // 0, lost
      [CLOCK], // 1
    ],
    new Set([1, 2]),
    { seq: 65534 },
  );
  assert.deepEqual(results[1].messages, [
    m(0xb5, 1, 9),
    m(0x85, 50, 64),
    CLOCK,
  ]);
  assert.deepEqual([results[1].lost, results[1].recovered], [2, 2]);
  assert.equal(receiver.lastSeq, 65536 + 1);
});

Deno.test("Loss of a system reset: the reset comes back, then note_offs for what the receiver held", () => {
  const { results } = lossy([
    [m(0x90, 60, 100), m(0x93, 40, 100)],
    [m(0xff)], // lost
    [m(0x90, 61, 100)],
  ], new Set([1]));
  assert.deepEqual(results[1].messages, [
    m(0xff),
    m(0x80, 60, 64),
    m(0x83, 40, 64),
    m(0x90, 61, 100),
  ]);
  assert.equal(results[1].recovered, 3);
});

Deno.test("A guard packet carries the journal alone, so the loss of the last packet is recovered too", () => {
  const sender = new RtpMidiSender({ ssrc: 9, seq: 0 });
  const receiver = new RtpMidiReceiver();
  receiver.receive(sender.packets([m(0x90, 60, 100)], 0)[0]);
  sender.packets([m(0x80, 60, 0)], 10); // lost
  const guard = sender.guard(1000)!;
  assert.equal(splitPacket(guard).list.length, 0);
  const got = receiver.receive(guard);
  assert.deepEqual(got.messages, [m(0x80, 60, 64)]);
  assert.equal(got.recovered, 1);
});

Deno.test("After an acknowledgment, a later loss is still recovered from the new checkpoint", () => {
  const sender = new RtpMidiSender({ ssrc: 9, seq: 40 });
  const receiver = new RtpMidiReceiver();
  receiver.receive(sender.packets([m(0x90, 60, 100), m(0xb0, 64, 127)], 0)[0]);
  receiver.receive(sender.packets([CLOCK], 1)[0]);
  sender.acknowledge(receiver.lastSeq!);
  sender.packets([m(0xb0, 64, 0), m(0x80, 60, 0)], 2); // lost
  const got = receiver.receive(sender.packets([CLOCK], 3)[0]);
  assert.deepEqual(got.messages, [m(0xb0, 64, 0), m(0x80, 60, 64), CLOCK]);
});

Deno.test("The receiver reads chapter N byte vectors from another implementation (rtpmidid's tests/test_journal.cpp)", () => {
  // Notes 71, 72, 75, 80 and 120 held on channel 5; then a packet lost.
  const receiver = new RtpMidiReceiver();
  const header = (seq: number) => [0x80, 0x61, 0, seq, 0, 0, 0, 0, 0, 0, 0, 1];
  const first = receiver.receive(m(
    ...header(1),
    ...[0x0f, 0x95, 71, 1, 0, 72, 1, 0, 75, 1, 0, 80, 1, 0, 120, 1],
  ));
  assert.deepEqual([first.messages.length, first.malformed], [5, undefined]);
  // rtpmidid's "80 99 90" (off bits for 72 and 75) and "80 8A 01 00 80" (71
  // and 80), each in a channel journal of channel 5 (header "A8 LL 08": S=1,
  // CHAN=5, TOC=N); and its "81 F0 C8 FF" (a log of note 72, velocity 127).
  const chapters = [[0x80, 0x99, 0x90], [0x80, 0x8a, 0x01, 0x00, 0x80], [
    0x81,
    0xf0,
    0xc8,
    0xff,
  ]];
  const journal = [0xa2, 0, 1];
  for (const n of chapters) journal.push(0xa8, 3 + n.length, 0x08, ...n);
  const got = receiver.receive(m(...header(3), 0x40, ...journal));
  assert.equal(got.malformed, undefined);
  assert.deepEqual(got.messages, [
    m(0x85, 72, 64),
    m(0x85, 75, 64),
    m(0x85, 71, 64),
    m(0x85, 80, 64),
    m(0x95, 72, 127), // Y=1: played again
  ]);
});

Deno.test("The first packet that arrives ends a loss event: what the sender played before it comes back", () => {
  const { results, receiver } = lossy([
    [m(0xb0, 7, 90), m(0x90, 60, 100)], // lost
    [m(0xb0, 64, 127)], // lost
    [CLOCK],
  ], new Set([0, 1]));
  assert.deepEqual(results[0].messages, [
    m(0xb0, 7, 90),
    m(0xb0, 64, 127),
    m(0x90, 60, 100),
    CLOCK,
  ]);
  assert.deepEqual([results[0].lost, results[0].recovered], [2, 3]);
  assert.equal(receiver.lastSeq, 102);
});

Deno.test("Lost packets that no journal covers are reported as dropped: with no journal, or before a journal's checkpoint", () => {
  const plain = new RtpMidiSender({ ssrc: 5, seq: 0, journal: false });
  const receiver = new RtpMidiReceiver();
  receiver.receive(plain.packets([m(0x90, 60, 100)], 0)[0]);
  plain.packets([m(0x80, 60, 0)], 1); // lost
  plain.packets([CLOCK], 2); // lost
  const got = receiver.receive(plain.packets([CLOCK], 3)[0]);
  assert.deepEqual(
    [got.messages, got.lost, got.recovered, got.dropped],
    [[CLOCK], 2, 0, "2 lost packets, and no journal"],
  );

  // A sender whose journal was acknowledged past what this receiver has
  // (as if another had answered for it).
  const sender = new RtpMidiSender({ ssrc: 6, seq: 0 });
  const late = new RtpMidiReceiver();
  late.receive(sender.packets([CLOCK], 0)[0]);
  sender.packets([m(0x90, 60, 100)], 1); // lost: 1
  sender.packets([m(0xb0, 7, 1)], 2); // lost: 2
  sender.acknowledge(1);
  const after = late.receive(sender.packets([CLOCK], 3)[0]);
  assert.deepEqual(after.messages, [m(0xb0, 7, 1), CLOCK]);
  assert.equal(
    after.dropped,
    "1 of 2 lost packets before the journal's checkpoint 2",
  );
});

Deno.test("A new SSRC is a new stream: the notes and pedal that the old one left on are released first", () => {
  const old = new RtpMidiSender({ ssrc: 1, seq: 0 });
  const receiver = new RtpMidiReceiver();
  receiver.receive(
    old.packets([m(0x90, 60, 100), m(0xb2, 64, 127), m(0x92, 61, 1)], 0)[0],
  );
  const fresh = new RtpMidiSender({ ssrc: 2, seq: 500 });
  const got = receiver.receive(fresh.packets([m(0x90, 70, 100)], 0)[0]);
  assert.deepEqual(got.messages, [
    m(0x80, 60, 64),
    m(0x82, 61, 64),
    m(0xb2, 64, 0),
    m(0x90, 70, 100),
  ]);
  assert.deepEqual([got.recovered, got.lost, got.ssrc], [3, 0, 2]);
});
