// Copyright 2026 the midisock authors. MIT license.
// The RTP-MIDI command section (RFC 6295 §3): its header, delta times,
// running status, sysex segments; every message type across; and what a
// receiver says of bad packets.

import assert from "node:assert/strict";
import { decode, encode, type Message, message } from "../mod.ts";
import {
  RtpMidiReceiver,
  RtpMidiSender,
} from "../src/transport/rtp/rtp_midi.ts";
import { ALL_TYPES, Random, randomMessage, testSeed } from "./_random.ts";

const m = (...bytes: number[]) => new Uint8Array(bytes);
const CLOCK = m(0xf8);

/** The RTP header: V=2, PT 0x61, seq, timestamp 0, SSRC 1. */
function header(seq: number): number[] {
  return [0x80, 0x61, seq >> 8, seq & 0xff, 0, 0, 0, 0, 0, 0, 0, 1];
}

/** A packet with the header and the payload bytes given. */
function packet(seq: number, ...payload: number[]): Uint8Array {
  return m(...header(seq), ...payload);
}

/** The command section's list bytes, read from RFC 6295 Figure 2. */
function listOf(packet: Uint8Array): { flags: number; list: Uint8Array } {
  const flags = packet[12];
  const long = (flags & 0x80) !== 0;
  const length = long ? ((flags & 0x0f) << 8) | packet[13] : flags & 0x0f;
  const start = long ? 14 : 13;
  return { flags: flags & 0xf0, list: packet.slice(start, start + length) };
}

function sysex(length: number, seed = 1): Uint8Array {
  const data = new Random(seed).bytes(length).map((b) => b & 0x7f);
  return encode(message("sysex", { data }));
}

Deno.test("The command section: one turn in one packet, no delta time before the first command and 0 before the others, running status between channel messages", () => {
  const sender = new RtpMidiSender({ ssrc: 1, seq: 0, journal: false });
  const [p] = sender.packets([
    m(0x90, 60, 100),
    m(0x90, 62, 100),
    CLOCK,
    m(0x90, 64, 100), // running status only right after the same status
    m(0xb0, 64, 127),
    m(0xf2, 1, 2), // system common
    m(0xb0, 64, 0),
  ], 0);
  assert.deepEqual(listOf(p), {
    flags: 0x80, // B=1: 24 bytes need the long LEN; J=0, Z=0, P=0
    list: m(
      ...[0x90, 60, 100],
      ...[0, 62, 100],
      ...[0, 0xf8],
      ...[0, 0x90, 64, 100],
      ...[0, 0xb0, 64, 127],
      ...[0, 0xf2, 1, 2],
      ...[0, 0xb0, 64, 0],
    ),
  });
  assert.equal(p.length, 12 + 2 + 24);
  const short = sender.packets([m(0xc0, 5)], 0)[0];
  assert.deepEqual(listOf(short), { flags: 0x00, list: m(0xc0, 5) });
  assert.equal(short.length, 12 + 1 + 2);
});

Deno.test("Sequence numbers count up by packet and wrap at 65535; the timestamp is the caller's, modulo 2^32", () => {
  const sender = new RtpMidiSender({ ssrc: 0xffffffff, seq: 65534 });
  const seqs = [];
  for (let i = 0; i < 3; i++) {
    const [p] = sender.packets([CLOCK], 2 ** 32 + 5);
    seqs.push((p[2] << 8) | p[3]);
    assert.deepEqual(p.subarray(4, 12), m(0, 0, 0, 5, 0xff, 0xff, 0xff, 0xff));
  }
  assert.deepEqual(seqs, [65534, 65535, 0]);
  assert.equal(sender.seq, 1);
  assert.deepEqual(sender.packets([], 0), []);
});

Deno.test("Every message type crosses, as bytes and as the codec's messages", () => {
  const rng = new Random(testSeed());
  const sender = new RtpMidiSender({ ssrc: 3, seq: 7 });
  const receiver = new RtpMidiReceiver();
  const sent: Message[] = [];
  const got: Uint8Array[] = [];
  for (let turn = 0; turn < 200; turn++) {
    const msgs = Array.from(
      { length: rng.int(1, 12) },
      () => randomMessage(rng, { types: ALL_TYPES, maxSysex: 3000 }),
    );
    sent.push(...msgs);
    for (const p of sender.packets(msgs.map(encode), turn * 10)) {
      assert.ok(p.length <= 1400);
      const r = receiver.receive(p);
      assert.deepEqual(
        [r.malformed, r.dropped, r.lost, r.recovered],
        [undefined, undefined, 0, 0],
        `seed ${rng.seed}`,
      );
      got.push(...r.messages);
    }
  }
  assert.deepEqual(got, sent.map(encode), `seed ${rng.seed}`);
  const types = new Set(got.flatMap((b) => decode(b)).map((x) => x.type));
  assert.deepEqual([...types].sort(), [...ALL_TYPES].sort());
});

Deno.test("A 1 MiB sysex crosses in segments F0..F0, F7..F0, ..., F7..F7, each packet within maxPacketBytes", () => {
  const big = sysex(1024 * 1024);
  const sender = new RtpMidiSender({ ssrc: 1, seq: 0 });
  const before = m(0x90, 1, 2), after = m(0x80, 1, 0);
  const packets = sender.packets([before, big, after], 0);
  assert.ok(packets.length > 700, `${packets.length} packets`);
  for (const p of packets) assert.ok(p.length <= 1400);
  const lists = packets.map((p) => listOf(p).list);
  // The note first, then the start of the sysex in the same packet.
  assert.deepEqual(lists[0].subarray(0, 5), m(0x90, 1, 2, 0, 0xf0));
  assert.equal(lists[0].at(-1), 0xf0);
  for (const list of lists.slice(1, -1)) {
    assert.deepEqual([list[0], list.at(-1)], [0xf7, 0xf0]);
  }
  const last = lists.at(-1)!;
  assert.equal(last[0], 0xf7);
  assert.deepEqual(last.subarray(-5), m(0xf7, 0, 0x80, 1, 0));
  const receiver = new RtpMidiReceiver();
  const out = packets.flatMap((p) => {
    const r = receiver.receive(p);
    assert.equal(r.malformed, undefined);
    return r.messages;
  });
  assert.equal(out.length, 3);
  assert.deepEqual(out[0], before);
  assert.ok(
    out[1].length === big.length && out[1].every((b, i) => b === big[i]),
  );
  assert.deepEqual(out[2], after);
  // One byte over the default maxSysex is dropped, and said so.
  const over = sysex(1024 * 1024 + 1);
  const dropped = sender.packets([over, CLOCK], 0).map((p) =>
    receiver.receive(p)
  );
  assert.deepEqual(dropped.flatMap((r) => r.messages), [CLOCK]);
  assert.match(
    dropped.map((r) => r.dropped).find((d) => d)!,
    /^sysex over maxSysex \(1048576 bytes\) dropped at \d+ bytes$/,
  );
});

Deno.test("A sysex that fits a packet of its own is not split, and one between notes keeps its place", () => {
  const sender = new RtpMidiSender({
    ssrc: 1,
    seq: 0,
    maxPacketBytes: 200,
    journal: false,
  });
  const notes = Array.from({ length: 10 }, (_, i) => m(0x90 | i, 60, 1));
  const s = sysex(148); // 150 bytes: 147 are left after the notes, of 186
  const msgs = [...notes, s, m(0x90, 61, 1), sysex(1000, 2), CLOCK];
  const packets = sender.packets(msgs, 0);
  assert.equal(listOf(packets[0]).list.length, 39);
  assert.deepEqual(listOf(packets[1]).list.subarray(0, 150), s);
  const receiver = new RtpMidiReceiver();
  const out = packets.flatMap((p) => receiver.receive(p).messages);
  assert.deepEqual(out, msgs);
});

Deno.test("The receiver takes what other senders write: Z=1, long delta times, a cancelled sysex (F0..F4), real-time bytes inside a sysex, CSRCs, padding", () => {
  const receiver = new RtpMidiReceiver();
  // Z=1: a delta time before the first command, of 1 to 4 bytes.
  let r = receiver.receive(
    packet(1, 0x2b, 0x81, 0x00, 0x90, 60, 100, 0xff, 0xff, 0xff, 0x7f, 62, 0),
  );
  assert.deepEqual(r.messages, [m(0x90, 60, 100), m(0x90, 62, 0)]);
  assert.equal(r.malformed, undefined);
  // A sysex started, then cancelled by F4 in the next packet; then a whole
  // one with a clock inside.
  r = receiver.receive(packet(2, 0x04, 0xf0, 1, 2, 0xf0));
  assert.deepEqual([r.messages, r.malformed], [[], undefined]);
  r = receiver.receive(packet(3, 0x02, 0xf7, 0xf4));
  assert.deepEqual([r.messages, r.malformed], [[], undefined]);
  r = receiver.receive(packet(4, 0x05, 0xf0, 1, 0xf8, 2, 0xf7));
  assert.deepEqual(r.messages, [CLOCK, m(0xf0, 1, 2, 0xf7)]);
  // Two CSRCs, a header extension and 3 bytes of padding.
  const fancy = m(
    0xb2,
    0x61,
    0,
    5,
    ...[0, 0, 0, 0, 0, 0, 0, 1],
    ...[0, 0, 0, 2, 0, 0, 0, 3],
    ...[0xbe, 0xde, 0, 1, 9, 9, 9, 9],
    ...[0x03, 0xc0, 7, 0],
    ...[0, 0, 3],
  );
  r = receiver.receive(fancy);
  assert.deepEqual([r.messages, r.malformed, r.seq], [
    [m(0xc0, 7)],
    undefined,
    5,
  ]);
});

Deno.test("Bad packets are reported by field and offset, and what was good in them is kept", () => {
  const cases: [Uint8Array, string, Uint8Array[]][] = [
    [m(0x80, 0x61, 0), "RTP header cut: 3 of 12 bytes", []],
    [
      m(0x40, ...header(1).slice(1), 0),
      "RTP version 1 at offset 0, expected 2",
      [],
    ],
    [packet(1), "no MIDI command section at offset 12", []],
    [
      packet(1, 0x02, 0x40, 0x40),
      "data byte 0x40 with no status at offset 13",
      [],
    ],
    [
      packet(1, 0x06, 0x90, 60, 1, 0, 61, 0x90),
      "command 0x90 at offset 17 is cut by 0x90 at offset 18",
      [m(0x90, 60, 1)],
    ],
    [
      packet(1, 0x0f, 0xc0, 1),
      "command section LEN 15 runs past the packet's end (2 bytes left at offset 13)",
      [m(0xc0, 1)],
    ],
    [packet(1, 0x80), "command section header cut at offset 12", []],
    [
      packet(1, 0x05, 0xc0, 1, 0x80, 0x80, 0x80),
      "delta time cut by the end of the list at 18",
      [m(0xc0, 1)],
    ],
    [
      packet(1, 0x07, 0xc0, 1, 0x80, 0x80, 0x80, 0x80, 0),
      "delta time at offset 15 is over 4 bytes",
      [m(0xc0, 1)],
    ],
    [packet(1, 0x03, 0xf0, 1, 2), "sysex at offset 13 has no end byte", []],
    [
      packet(1, 0x05, 0xf0, 1, 0x90, 1, 0xf7),
      "sysex at offset 13 is cut by status 0x90 at offset 15",
      [],
    ],
    [packet(1, 0x03, 0xf4, 0, 0xf8), "undefined status 0xf4 at offset 13", [
      CLOCK,
    ]],
    [
      packet(1, 0x02, 0xf7, 0xf7),
      "sysex segment at offset 13 continues no sysex",
      [],
    ],
    [
      m(0xa0, ...header(1).slice(1), 0x01, 0xf8, 9),
      "RTP padding of 9 bytes at offset 14",
      [],
    ],
    [
      m(0x90, ...header(1).slice(1), 0, 0),
      "RTP header extension cut at offset 12",
      [],
    ],
    [
      m(0x8f, ...header(1).slice(1)),
      "RTP header runs past the packet's end (72 > 12)",
      [],
    ],
  ];
  for (const [bytes, malformed, messages] of cases) {
    const r = new RtpMidiReceiver().receive(bytes);
    assert.deepEqual([r.malformed, r.messages], [malformed, messages]);
  }
});

Deno.test("Journals whose lengths lie are reported, and their good channels still recover", () => {
  const receiver = new RtpMidiReceiver();
  receiver.receive(packet(1, 0x06, 0x90, 60, 1, 0, 61, 1));
  // Seq 3 (2 is lost): an empty list, J=1, a journal of two channels: the
  // first's off bits for 60, the second's LENGTH 300 past the end.
  const r = receiver.receive(packet(
    3,
    0x40,
    ...[0xa1, 0, 1],
    ...[0x80, 6, 0x08, 0x80, 0x77, 0x08],
    ...[0x89, 0x2c, 0x08, 0, 0],
  ));
  assert.deepEqual(r.messages, [m(0x80, 60, 64)]);
  assert.equal(
    r.malformed,
    "channel journal 1 at offset 22 has LENGTH 300, past the packet's end",
  );
  // A chapter that runs past its channel journal's LENGTH.
  const s = receiver.receive(
    packet(5, 0x40, 0xa0, 0, 1, 0x80, 5, 0x08, 0x85, 0x77),
  );
  assert.deepEqual(s.messages, []);
  assert.equal(
    s.malformed,
    "chapter N of channel 0 at offset 19 runs past its channel journal's LENGTH (5)",
  );
  // A journal header cut short, and a system journal whose LENGTH lies.
  assert.equal(
    receiver.receive(packet(7, 0x40, 0xa0)).malformed,
    "journal header cut at offset 13 (1 of 3 bytes)",
  );
  assert.equal(
    receiver.receive(packet(9, 0x40, 0xc0, 0, 1, 0x40, 0x40)).malformed,
    "system journal at offset 16 has LENGTH 64, past the packet's end",
  );
});

Deno.test("A sysex that never ends is dropped at maxSysex and memory stays bounded; the stream goes on", () => {
  const receiver = new RtpMidiReceiver({ maxSysex: 1000 });
  const chunk = new Array(200).fill(0x11);
  let r = receiver.receive(packet(1, 0x80, 202, 0xf0, ...chunk, 0xf0));
  const drops: string[] = [];
  for (let seq = 2; seq < 2000; seq++) {
    r = receiver.receive(packet(seq, 0x80, 202, 0xf7, ...chunk, 0xf0));
    assert.deepEqual(r.messages, []);
    if (r.dropped) drops.push(r.dropped);
    assert.equal(r.malformed, undefined);
  }
  assert.deepEqual(drops, [
    "sysex over maxSysex (1000 bytes) dropped at 1200 bytes",
  ]);
  r = receiver.receive(packet(2000, 0x03, 0xf7, 1, 0xf7)); // its end
  assert.deepEqual([r.messages, r.malformed], [[], undefined]);
  r = receiver.receive(packet(2001, 0x04, 0xf0, 5, 0xf7, 0xf8));
  assert.deepEqual(r.messages, [m(0xf0, 5, 0xf7)]);
  // 0xf8 where a delta time must come: read as one, cut.
  assert.equal(r.malformed, "delta time cut by the end of the list at 17");
});

Deno.test("A sysex cut by lost packets is dropped and said so; its later segments are no error", () => {
  const sender = new RtpMidiSender({ ssrc: 1, seq: 0, maxPacketBytes: 100 });
  const packets = sender.packets([sysex(500), CLOCK], 0);
  const receiver = new RtpMidiReceiver();
  receiver.receive(packets[0]);
  const rest = packets.slice(2).map((p) => receiver.receive(p));
  assert.deepEqual(rest.flatMap((r) => r.messages), [CLOCK]);
  assert.equal(rest[0].dropped, "sysex of 81+ bytes cut by 1 lost packet");
  assert.ok(rest.every((r) => r.malformed === undefined));
});

Deno.test("Duplicates and late packets are not delivered twice; a stream that starts over is followed after 16", () => {
  const sender = new RtpMidiSender({ ssrc: 1, seq: 10 });
  const receiver = new RtpMidiReceiver();
  const [a, b] = [
    sender.packets([m(0x90, 1, 1)], 0)[0],
    sender.packets([m(0x90, 2, 1)], 0)[0],
  ];
  assert.deepEqual(receiver.receive(a).messages, [m(0x90, 1, 1)]);
  assert.deepEqual(receiver.receive(b).messages, [m(0x90, 2, 1)]);
  assert.deepEqual(receiver.receive(b), {
    messages: [],
    recovered: 0,
    lost: 0,
    late: true,
    seq: 11,
    ssrc: 1,
  });
  assert.equal(receiver.receive(a).late, true);
  assert.equal(receiver.lastSeq, 11);
  // A new SSRC is a new stream.
  const other = new RtpMidiSender({ ssrc: 2, seq: 5 });
  assert.deepEqual(receiver.receive(other.packets([CLOCK], 0)[0]).lost, 0);
  assert.equal(receiver.lastSeq, 5);
  // The same SSRC restarting far back is late 15 times, then followed.
  const restart = new RtpMidiSender({ ssrc: 2, seq: 40000 });
  const late = [];
  for (let i = 0; i < 16; i++) {
    late.push(receiver.receive(restart.packets([CLOCK], 0)[0]).late);
  }
  assert.deepEqual(late, [...new Array(15).fill(true), undefined]);
  assert.equal(receiver.lastSeq, 40015);
});

Deno.test("The sender refuses what is not one complete message, naming it, and sends nothing", () => {
  const sender = new RtpMidiSender({ ssrc: 1, seq: 0 });
  const cases: [unknown, string][] = [
    [m(), "Cannot send message 1: it is empty"],
    [
      m(60, 100),
      "Cannot send message 1: byte 0 is 0x3c, not a status byte (0x80..0xff)",
    ],
    [m(0x90, 60), "Cannot send message 1: status 0x90 takes 3 bytes, got 2"],
    [
      m(0x90, 60, 100, 1),
      "Cannot send message 1: status 0x90 takes 3 bytes, got 4",
    ],
    [
      m(0x90, 60, 0x80),
      "Cannot send message 1: byte 2 is 0x80, not a data byte (0..0x7f)",
    ],
    [m(0xf0, 1, 2), "Cannot send message 1: a sysex must end with 0xf7"],
    [
      m(0xf0, 1, 0xf8, 0xf7),
      "Cannot send message 1: sysex byte 2 is 0xf8, not a data byte (0..0x7f)",
    ],
    [m(0xf7), "Cannot send message 1: 0xf7 begins no MIDI message"],
    [m(0xf4), "Cannot send message 1: 0xf4 begins no MIDI message"],
    [[0x90, 1, 1], "Cannot send message 1: expected a Uint8Array, got object"],
  ];
  for (const [bad, text] of cases) {
    assert.throws(
      () => sender.packets([CLOCK, bad as Uint8Array], 0),
      { name: "TypeError", message: text },
    );
  }
  assert.equal(sender.stats.packets, 0);
  assert.throws(() => sender.packets([CLOCK], 1.5), {
    name: "TypeError",
    message: "Invalid timestamp: expected an integer, got 1.5",
  });
  assert.throws(() => new RtpMidiSender({ ssrc: -1 }), {
    name: "RangeError",
    message: "Invalid ssrc: expected an integer in 0..4294967295, got -1",
  });
  assert.throws(() => new RtpMidiSender({ ssrc: 1, maxPacketBytes: 63 }), {
    name: "RangeError",
    message: "Invalid maxPacketBytes: expected an integer in 64..65507, got 63",
  });
  assert.throws(() => new RtpMidiSender({ ssrc: 1, seq: 65536 }), RangeError);
  assert.throws(() => new RtpMidiReceiver({ maxSysex: 1.5 }), TypeError);
});

Deno.test("Many messages in one turn fill packets up to maxPacketBytes, in order, with counted stats", () => {
  const sender = new RtpMidiSender({ ssrc: 1, seq: 0, maxPacketBytes: 100 });
  const msgs = Array.from(
    { length: 500 },
    (_, i) => m(0x90 | (i & 15), i & 127, 1 + (i % 100)),
  );
  const packets = sender.packets(msgs, 0);
  assert.ok(packets.length > 10);
  assert.ok(packets.every((p) => p.length <= 100));
  const receiver = new RtpMidiReceiver();
  assert.deepEqual(packets.flatMap((p) => receiver.receive(p).messages), msgs);
  const stats = sender.stats;
  assert.equal(stats.packets, packets.length);
  assert.equal(stats.bytes, packets.reduce((n, p) => n + p.length, 0));
  // Each journal would code some 16 channels' notes, over half of 100 bytes:
  // each is cut to the empty journal (a 3-byte header), and counted.
  assert.equal(stats.journalBytes, 3 * packets.length);
  assert.equal(stats.journalTrims, packets.length - 1);
});
