// Copyright 2026 the midisock authors. MIT license.
// UMP <-> MIDI 1.0 against words written by hand from the UMP and MIDI 2.0
// Protocol specification's formats (M2-104-UM v1.1: MT in bits 31-28, group
// 27-24, status 23-16, then the data), and its default translation.

import assert from "node:assert/strict";
import { Midi1ToUmp, UmpToMidi1, umpWordCount } from "../src/midi/ump.ts";
import { scaleDown, scaleUp } from "../src/midi/_ump_scale.ts";
import {
  decodeUmpStream,
  encodeUmpStream,
  endpointDiscoveryReply,
  streamTextPackets,
  type UmpStreamMessage,
} from "../src/midi/ump_stream.ts";
import { decode, encode } from "../mod.ts";
import { Random, randomMessage, testSeed } from "./_random.ts";

const bytes = (...values: number[]) => new Uint8Array(values);

function down(words: number[], options = {}) {
  return new UmpToMidi1(options).push(words);
}

Deno.test("scaleUp is min-center-max: the specification's 7-bit to 16-bit and 32-bit values", () => {
  const to16: [number, number][] = [
    [0, 0x0000],
    [1, 0x0200],
    [63, 0x7e00],
    [64, 0x8000],
    [65, 0x8208],
    [126, 0xfdf7],
    [127, 0xffff],
  ];
  for (const [v, expected] of to16) {
    assert.equal(scaleUp(v, 7, 16), expected, `${v}`);
  }
  assert.equal(scaleUp(0, 7, 32), 0);
  assert.equal(scaleUp(64, 7, 32), 0x80000000);
  assert.equal(scaleUp(127, 7, 32), 0xffffffff);
  assert.equal(scaleUp(0, 14, 32), 0);
  assert.equal(scaleUp(0x2000, 14, 32), 0x80000000);
  assert.equal(scaleUp(0x3fff, 14, 32), 0xffffffff);
  // Down then up keeps every MIDI 1.0 value.
  for (let v = 0; v < 128; v++) {
    assert.equal(scaleDown(scaleUp(v, 7, 16), 16, 7), v);
    assert.equal(scaleDown(scaleUp(v, 7, 32), 32, 7), v);
  }
  for (let v = 0; v < 0x4000; v += 7) {
    assert.equal(scaleDown(scaleUp(v, 14, 32), 32, 14), v);
  }
});

Deno.test("umpWordCount reads the message type's size", () => {
  const sizes = [1, 1, 1, 2, 2, 4, 1, 1, 2, 2, 2, 3, 3, 4, 4, 4];
  sizes.forEach((size, mt) =>
    assert.equal(umpWordCount(mt * 0x10000000), size)
  );
});

Deno.test("UmpToMidi1 maps MT 0x2 MIDI 1.0 channel voice 1:1", () => {
  const { messages, dropped } = down([
    0x20903c64, // note on, channel 0, note 60, velocity 100
    0x2085407f, // note off, channel 5
    0x20c30a00, // program change 10 (2 bytes)
    0x20d94500, // channel pressure
    0x20ef0040, // pitch bend center
    0x20b0077f, // CC 7 = 127
  ]);
  assert.deepEqual(dropped, []);
  assert.deepEqual(messages, [
    bytes(0x90, 60, 100),
    bytes(0x85, 64, 127),
    bytes(0xc3, 10),
    bytes(0xd9, 0x45),
    bytes(0xef, 0x00, 0x40),
    bytes(0xb0, 7, 127),
  ]);
});

Deno.test("UmpToMidi1 maps MT 0x1 system messages 1:1", () => {
  const { messages } = down([
    0x10f80000,
    0x10fa0000,
    0x10f21234,
    0x10f30500,
    0x10f14200,
    0x10f60000,
    0x10ff0000,
  ]);
  assert.deepEqual(messages, [
    bytes(0xf8),
    bytes(0xfa),
    bytes(0xf2, 0x12, 0x34),
    bytes(0xf3, 0x05),
    bytes(0xf1, 0x42),
    bytes(0xf6),
    bytes(0xff),
  ]);
});

Deno.test("UmpToMidi1 scales an MT 0x4 note on's 16-bit velocity down, and never to 0", () => {
  const { messages } = down([
    0x40913c00,
    0x80000000, // note on ch 1, velocity 0x8000 -> 64
    0x40903c00,
    0xffff0000, // 0xFFFF -> 127
    0x40903c00,
    0x01ff0000, // 0x01FF -> 0, which becomes 1 on a note on
    0x40903c00,
    0x00000000, // 0 is no note off in MIDI 2.0: 1
    0x40803c00,
    0x00000000, // a note off keeps 0
    0x40803c05,
    0x0200abcd, // attribute type 5 and data are dropped: velocity 1
  ]);
  assert.deepEqual(messages, [
    bytes(0x91, 60, 64),
    bytes(0x90, 60, 127),
    bytes(0x90, 60, 1),
    bytes(0x90, 60, 1),
    bytes(0x80, 60, 0),
    bytes(0x80, 60, 1),
  ]);
});

Deno.test("UmpToMidi1 scales MT 0x4 32-bit controllers, pressure and pitch down", () => {
  const { messages } = down([
    0x40b20700,
    0xffffffff, // CC 7 ch 2 -> 127
    0x40b20a00,
    0x80000000, // CC 10 -> 64
    0x40b20b00,
    0x01ffffff, // -> 0
    0x40a03c00,
    0x80000000, // poly pressure -> 64
    0x40d00000,
    0xfe000000, // channel pressure -> 127
    0x40e00000,
    0x80000000, // pitch center -> 0x2000: LSB 0, MSB 0x40
    0x40e00000,
    0xffffffff, // max -> 0x3FFF
    0x40e00000,
    0x00000000,
  ]);
  assert.deepEqual(messages, [
    bytes(0xb2, 7, 127),
    bytes(0xb2, 10, 64),
    bytes(0xb2, 11, 0),
    bytes(0xa0, 60, 64),
    bytes(0xd0, 127),
    bytes(0xe0, 0x00, 0x40),
    bytes(0xe0, 0x7f, 0x7f),
    bytes(0xe0, 0x00, 0x00),
  ]);
});

Deno.test("UmpToMidi1 turns an MT 0x4 program change with a bank into bank select, then the program", () => {
  assert.deepEqual(down([0x40c00001, 0x05000102]).messages, [
    bytes(0xb0, 0, 1),
    bytes(0xb0, 32, 2),
    bytes(0xc0, 5),
  ]);
  assert.deepEqual(down([0x40c00000, 0x05000102]).messages, [bytes(0xc0, 5)]);
});

Deno.test("UmpToMidi1 turns MT 0x4 RPN and NRPN into the four controllers", () => {
  assert.deepEqual(down([0x40200000, 0x04000000]).messages, [
    bytes(0xb0, 101, 0),
    bytes(0xb0, 100, 0),
    bytes(0xb0, 6, 2),
    bytes(0xb0, 38, 0),
  ]);
  assert.deepEqual(down([0x40331205, 0xffffffff]).messages, [
    bytes(0xb3, 99, 0x12),
    bytes(0xb3, 98, 0x05),
    bytes(0xb3, 6, 127),
    bytes(0xb3, 38, 127),
  ]);
});

Deno.test("UmpToMidi1 drops what has no MIDI 1.0 form, with a reason each", () => {
  const { messages, dropped } = down([
    0x40603c00,
    0x80000000, // per-note pitch bend
    0x40003c01,
    0x80000000, // registered per-note controller
    0x40f03c03,
    0x00000000, // per-note management
    0x40440001,
    0x00000001, // relative RPN
    0x50000000,
    0,
    0,
    0, // SysEx8
    0xd0000000,
    0,
    0,
    0, // flex data
    0x60000000, // reserved MT 0x6
  ]);
  assert.deepEqual(messages, []);
  assert.deepEqual(dropped.map((d) => d.reason), [
    "UMP MIDI 2.0 per-note pitch bend 0x40603c00 has no MIDI 1.0 form",
    "UMP MIDI 2.0 registered per-note controller 0x40003c01 has no MIDI 1.0 form",
    "UMP MIDI 2.0 per-note management 0x40f03c03 has no MIDI 1.0 form",
    "UMP MIDI 2.0 relative registered controller 0x40440001 has no MIDI 1.0 form",
    "UMP message 0x50000000 is SysEx8 or mixed data (MT 0x5), which has no MIDI 1.0 form",
    "UMP message 0xd0000000 is flex data (MT 0xD), which has no MIDI 1.0 form",
    "UMP message 0x60000000 has reserved message type 0x6",
  ]);
  assert.deepEqual(dropped[0].words, [0x40603c00, 0x80000000]);
});

Deno.test("UmpToMidi1 joins SysEx7 packets into one sysex, across pushes", () => {
  const toMidi1 = new UmpToMidi1();
  // Start with 6 bytes (status 1, count 6), then end with 2 (status 3).
  const first = toMidi1.push([0x30160102, 0x03040506]);
  assert.deepEqual(first.messages, []);
  const second = toMidi1.push([0x30320708, 0x00000000]);
  assert.deepEqual(second.messages, [
    bytes(0xf0, 1, 2, 3, 4, 5, 6, 7, 8, 0xf7),
  ]);
  // Start, continue, end in one push; and a complete one (status 0).
  const third = toMidi1.push([
    0x30160102,
    0x03040506,
    0x30260708,
    0x090a0b0c,
    0x30311700,
    0x00000000,
    0x30037f00,
    0x01000000,
  ]);
  assert.deepEqual(third.dropped, []);
  assert.deepEqual(third.messages, [
    bytes(0xf0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x17, 0xf7),
    bytes(0xf0, 0x7f, 0x00, 0x01, 0xf7),
  ]);
  assert.deepEqual(toMidi1.push([0x30000000, 0]).messages, [bytes(0xf0, 0xf7)]);
});

Deno.test("UmpToMidi1 drops a sysex over maxSysex whole, and reports it once", () => {
  const toMidi1 = new UmpToMidi1({ maxSysex: 8 });
  const result = toMidi1.push([
    0x30160102,
    0x03040506, // 1 + 6 bytes: fits
    0x30220708,
    0x00000000, // 1 + 8 + F7 would be 10: over
    0x30220708,
    0x00000000,
    0x30310900,
    0x00000000,
    0x30040102,
    0x03040000, // the next one is whole again
  ]);
  assert.deepEqual(result.messages, [bytes(0xf0, 1, 2, 3, 4, 0xf7)]);
  assert.deepEqual(result.dropped.map((d) => d.reason), [
    "SysEx7 is longer than the 8-byte bound (maxSysex)",
  ]);
  assert.equal(toMidi1.stats.dropped, 1);
});

Deno.test("UmpToMidi1 reports SysEx7 packets out of order", () => {
  const { messages, dropped } = down([
    0x30220102,
    0x03040000, // continue with no start
    0x30160102,
    0x03040506, // start
    0x30160102,
    0x03040506, // start again: the first is cut
    0x30310700,
    0x00000000, // end: the second is whole
    0x30070102,
    0x03040506, // count 7: out of range
    0x30310800,
    0x00000000, // end with no start
  ]);
  assert.deepEqual(messages, [bytes(0xf0, 1, 2, 3, 4, 5, 6, 7, 0xf7)]);
  assert.deepEqual(dropped.map((d) => d.reason), [
    "SysEx7 continue packet 0x30220102 came with no start",
    "SysEx7 that started in 0x30160102 was cut by a new start, 0x30160102",
    "UMP SysEx7 packet 0x30070102 has 7 bytes, out of range",
    "SysEx7 end packet 0x30310800 came with no start",
  ]);
});

Deno.test("UmpToMidi1.reset drops a sysex in progress, and what follows does not join it", () => {
  const toMidi1 = new UmpToMidi1();
  toMidi1.push([0x30160102, 0x03040506]);
  assert.deepEqual(toMidi1.reset().map((d) => d.reason), [
    "SysEx7 in progress was reset before its end packet",
  ]);
  assert.deepEqual(toMidi1.reset(), []);
  const { messages, dropped } = toMidi1.push([0x30320708, 0]);
  assert.deepEqual(messages, []);
  assert.match(dropped[0].reason, /end packet 0x30320708 came with no start/);
  assert.equal(toMidi1.stats.dropped, 2);
});

Deno.test("UmpToMidi1 maps only its group, and counts the others", () => {
  const toMidi1 = new UmpToMidi1({ group: 3 });
  const { messages } = toMidi1.push([
    0x20903c64, // group 0
    0x23903c64, // group 3
    0x43903c00,
    0x80000000,
    0x41903c00,
    0x80000000,
    0x00000000, // NOOP
    0x00201234, // JR timestamp
  ]);
  assert.deepEqual(messages, [bytes(0x90, 60, 100), bytes(0x90, 60, 64)]);
  assert.deepEqual(toMidi1.stats, {
    messages: 2,
    dropped: 0,
    otherGroup: 2,
    utility: 2,
    stream: 0,
  });
  assert.throws(() => new UmpToMidi1({ group: 16 }), {
    name: "RangeError",
    message: "UMP group must be an integer in 0..15, got 16",
  });
});

Deno.test("UmpToMidi1 reports malformed MIDI 1.0 in UMP and a message cut short", () => {
  const { messages, dropped } = down([
    0x20f00000, // MT 0x2 with a system status
    0x20908064, // note over 127
    0x10f00000, // sysex start in MT 0x1
    0x10f40000, // undefined F4
    0x40903c00, // MT 0x4 with its second word missing
  ]);
  assert.deepEqual(messages, []);
  assert.deepEqual(dropped.map((d) => d.reason), [
    "UMP MIDI 1.0 channel voice message 0x20f00000 has status 0xf0, not a channel voice one",
    "UMP MIDI 1.0 channel voice message 0x20908064 has a data byte over 127",
    "UMP system message 0x10f00000 has status 0xf0, not a MIDI 1.0 system common or real-time one",
    "UMP system message 0x10f40000 has status 0xf4, not a MIDI 1.0 system common or real-time one",
    "UMP message 0x40903c00 is cut short: 1 of its 2 words",
  ]);
});

Deno.test("UmpToMidi1 returns UMP Stream messages typed, apart from the MIDI", () => {
  const { messages, stream } = down([
    0xf0050200,
    0,
    0,
    0, // Stream Configuration Request: MIDI 2.0 protocol
    0xf0060103,
    0,
    0,
    0, // Notification: MIDI 1.0, rx and tx JR
    0xf0000101,
    0x0000001f,
    0,
    0, // Endpoint Discovery, UMP 1.1, all
    0xf0034d69,
    0x64697300,
    0,
    0, // Endpoint Name "Midis", complete
    0xf0100102,
    0,
    0,
    0, // Function Block Discovery 1, name
    0xf0200000,
    0,
    0,
    0, // Start of Clip
  ]);
  assert.deepEqual(messages, []);
  assert.deepEqual(stream, [
    {
      type: "stream_configuration_request",
      protocol: 2,
      rxJR: false,
      txJR: false,
    },
    {
      type: "stream_configuration_notification",
      protocol: 1,
      rxJR: true,
      txJR: true,
    },
    {
      type: "endpoint_discovery",
      umpVersionMajor: 1,
      umpVersionMinor: 1,
      filter: 0x1f,
    },
    { type: "endpoint_name", form: 0, text: "Midis" },
    { type: "function_block_discovery", block: 1, filter: 2 },
    { type: "other", status: 0x20, form: 0, words: [0xf0200000, 0, 0, 0] },
  ]);
});

Deno.test("encodeUmpStream writes what decodeUmpStream reads", () => {
  const messages: UmpStreamMessage[] = [
    {
      type: "stream_configuration_request",
      protocol: 2,
      rxJR: false,
      txJR: true,
    },
    {
      type: "endpoint_info",
      umpVersionMajor: 1,
      umpVersionMinor: 1,
      staticFunctionBlocks: true,
      functionBlocks: 1,
      midi2: true,
      midi1: true,
      rxJR: false,
      txJR: false,
    },
    { type: "product_instance_id", form: 1, text: "abcdefghijklmn" },
  ];
  for (const message of messages) {
    assert.deepEqual(decodeUmpStream(encodeUmpStream(message)), message);
  }
  assert.deepEqual(encodeUmpStream(messages[1]), [
    0xf0010101,
    0x81000300,
    0,
    0,
  ]);
  assert.deepEqual(
    encodeUmpStream({ type: "endpoint_name", form: 0, text: "Midis" }),
    [0xf0034d69, 0x64697300, 0, 0],
  );
});

Deno.test("UmpToMidi1 joins an endpoint name of several UMP Stream packets, UTF-8 across their edge", () => {
  // "Network MIDI 2.0 ☃" is 20 bytes: a start packet of 14, an end of 6.
  const name = "Network MIDI 2.0 \u2603";
  const words = [
    0xf4034e65,
    0x74776f72,
    0x6b204d49,
    0x44492032, // start: "Network MIDI 2"
    0xfc032e30,
    0x20e29883,
    0,
    0, // end: ".0 " and the snowman
  ];
  assert.deepEqual(streamTextPackets("endpoint_name", name), words);
  const toMidi1 = new UmpToMidi1();
  assert.deepEqual(toMidi1.push(words.slice(0, 4)).stream, []);
  assert.deepEqual(toMidi1.push(words.slice(4)).stream, [
    { type: "endpoint_name", form: 0, text: name },
  ]);
  // A character cut between two packets is joined as bytes.
  const cut = streamTextPackets("endpoint_name", "abcdefghijklm\u00e9");
  assert.deepEqual(new UmpToMidi1().push(cut).stream, [
    { type: "endpoint_name", form: 0, text: "abcdefghijklm\u00e9" },
  ]);
  // An end with no start is reported.
  assert.match(
    new UmpToMidi1().push(words.slice(4)).dropped[0].reason,
    /endpoint_name packet 0xfc032e30 came with no start/,
  );
});

Deno.test("endpointDiscoveryReply answers what the filter asks, in order", () => {
  const identity = {
    name: "midisock",
    productInstanceId: "A1",
    protocol: 2 as const,
  };
  const all = endpointDiscoveryReply(
    {
      type: "endpoint_discovery",
      umpVersionMajor: 1,
      umpVersionMinor: 1,
      filter: 0x1f,
    },
    identity,
  );
  assert.deepEqual(all, [
    // Endpoint Info: UMP 1.1, static, 0 blocks, MIDI 2.0 and 1.0.
    0xf0010101,
    0x80000300,
    0,
    0,
    // Endpoint Name "midisock", complete.
    0xf0036d69,
    0x6469736f,
    0x636b0000,
    0,
    // Product Instance Id "A1".
    0xf0044131,
    0,
    0,
    0,
    // Stream Configuration Notification: MIDI 2.0.
    0xf0060200,
    0,
    0,
    0,
  ]);
  assert.deepEqual(
    endpointDiscoveryReply(
      {
        type: "endpoint_discovery",
        umpVersionMajor: 1,
        umpVersionMinor: 1,
        filter: 0x10,
      },
      identity,
    ),
    [0xf0060200, 0, 0, 0],
  );
});

Deno.test("Midi1ToUmp sends channel voice as MT 0x2 under the MIDI 1.0 protocol, and system as MT 0x1", () => {
  const toUmp = new Midi1ToUmp();
  assert.deepEqual(toUmp.push(bytes(0x90, 60, 100)), [0x20903c64]);
  assert.deepEqual(toUmp.push(bytes(0x90, 60, 0)), [0x20903c00]);
  assert.deepEqual(toUmp.push(bytes(0xc3, 10)), [0x20c30a00]);
  assert.deepEqual(toUmp.push(bytes(0xef, 0x00, 0x40)), [0x20ef0040]);
  assert.deepEqual(toUmp.push(bytes(0xf8)), [0x10f80000]);
  assert.deepEqual(toUmp.push(bytes(0xf2, 0x12, 0x34)), [0x10f21234]);
  assert.deepEqual(new Midi1ToUmp({ group: 3 }).push(bytes(0x90, 60, 100)), [
    0x23903c64,
  ]);
});

Deno.test("Midi1ToUmp splits a sysex into SysEx7 packets of six bytes", () => {
  const toUmp = new Midi1ToUmp();
  assert.deepEqual(toUmp.push(bytes(0xf0, 0xf7)), [0x30000000, 0]);
  assert.deepEqual(toUmp.push(bytes(0xf0, 1, 2, 3, 0xf7)), [
    0x30030102,
    0x03000000,
  ]);
  assert.deepEqual(toUmp.push(bytes(0xf0, 1, 2, 3, 4, 5, 6, 7, 8, 0xf7)), [
    0x30160102,
    0x03040506,
    0x30320708,
    0x00000000,
  ]);
  assert.deepEqual(
    toUmp.push(bytes(0xf0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 0xf7)),
    [0x30160102, 0x03040506, 0x30260708, 0x090a0b0c, 0x30310d00, 0],
  );
});

Deno.test("Midi1ToUmp scales up to MT 0x4 under the MIDI 2.0 protocol", () => {
  const toUmp = new Midi1ToUmp({ protocol: 2 });
  const cases: [Uint8Array, number[]][] = [
    [bytes(0x90, 60, 64), [0x40903c00, 0x80000000]],
    [bytes(0x91, 60, 127), [0x40913c00, 0xffff0000]],
    [bytes(0x90, 60, 1), [0x40903c00, 0x02000000]],
    // Velocity 0: a note off, of MIDI 1.0's velocity 64.
    [bytes(0x90, 60, 0), [0x40803c00, 0x80000000]],
    [bytes(0x80, 60, 64), [0x40803c00, 0x80000000]],
    [bytes(0xa0, 60, 64), [0x40a03c00, 0x80000000]],
    [bytes(0xb0, 7, 127), [0x40b00700, 0xffffffff]],
    [bytes(0xb0, 7, 64), [0x40b00700, 0x80000000]],
    [bytes(0xb0, 7, 0), [0x40b00700, 0x00000000]],
    [bytes(0xd0, 127), [0x40d00000, 0xffffffff]],
    [bytes(0xe0, 0x00, 0x40), [0x40e00000, 0x80000000]],
    [bytes(0xe0, 0x7f, 0x7f), [0x40e00000, 0xffffffff]],
    [bytes(0xe0, 0x00, 0x00), [0x40e00000, 0x00000000]],
    [bytes(0xc0, 5), [0x40c00000, 0x05000000]],
    [bytes(0xf8), [0x10f80000]],
  ];
  for (const [message, words] of cases) {
    assert.deepEqual(toUmp.push(message), words, `${message}`);
  }
});

Deno.test("Midi1ToUmp puts bank select on the program change, and RPN on MT 0x4 RPN, under the MIDI 2.0 protocol", () => {
  const toUmp = new Midi1ToUmp({ protocol: 2 });
  assert.deepEqual(toUmp.push(bytes(0xb0, 0, 1)), []);
  assert.deepEqual(toUmp.push(bytes(0xb0, 32, 2)), []);
  assert.deepEqual(toUmp.push(bytes(0xc0, 5)), [0x40c00001, 0x05000102]);
  // RPN 0 (pitch bend sensitivity) = 2 semitones: MSB alone is heard.
  assert.deepEqual(toUmp.push(bytes(0xb1, 101, 0)), []);
  assert.deepEqual(toUmp.push(bytes(0xb1, 100, 0)), []);
  assert.deepEqual(toUmp.push(bytes(0xb1, 6, 2)), [0x40210000, 0x04000000]);
  assert.deepEqual(toUmp.push(bytes(0xb1, 38, 0x40)), [
    0x40210000,
    scaleUp((2 << 7) | 0x40, 14, 32),
  ]);
  // NRPN 0x12 0x05.
  toUmp.push(bytes(0xb1, 99, 0x12));
  toUmp.push(bytes(0xb1, 98, 0x05));
  assert.deepEqual(toUmp.push(bytes(0xb1, 6, 127)), [0x40311205, 0xfe03f01f]);
  // RPN null deselects: Data Entry is then a plain controller.
  toUmp.push(bytes(0xb1, 101, 127));
  toUmp.push(bytes(0xb1, 100, 127));
  assert.deepEqual(toUmp.push(bytes(0xb1, 6, 64)), [0x40b10600, 0x80000000]);
  // And back to MIDI 1.0 through UmpToMidi1, the parameter comes back whole.
  assert.deepEqual(down([0x40210000, 0x04000000]).messages, [
    bytes(0xb1, 101, 0),
    bytes(0xb1, 100, 0),
    bytes(0xb1, 6, 2),
    bytes(0xb1, 38, 0),
  ]);
});

Deno.test("Midi1ToUmp refuses bytes that are not one complete MIDI 1.0 message", () => {
  const toUmp = new Midi1ToUmp();
  assert.throws(() => toUmp.push(bytes(0x90, 60)), {
    name: "RangeError",
    message:
      "Cannot translate MIDI bytes [90 3c] to UMP: a 3-byte message has 2 bytes",
  });
  assert.throws(() => toUmp.push(bytes(60)), /no status byte first/);
  assert.throws(
    () => toUmp.push(bytes(0xf0, 1, 2)),
    /a sysex must end with F7/,
  );
  assert.throws(() => toUmp.push(bytes(0xf4)), /status 0xf4 is no message/);
  assert.throws(
    () => toUmp.push(bytes(0xb0, 7, 128)),
    /data byte 2 is over 127/,
  );
  assert.throws(() => new Midi1ToUmp({ protocol: 3 as 1 }), {
    message: "UMP protocol must be 1 or 2, got 3",
  });
});

Deno.test("Every MIDI 1.0 message crosses UMP and back unchanged, under either protocol (seeded)", () => {
  const seed = testSeed();
  const rng = new Random(seed);
  // Under MIDI 2.0, bank select and parameter numbers wait for what they
  // select, and a note on of velocity 0 becomes a note off: left out here.
  const stateful = new Set([0, 32, 6, 38, 98, 99, 100, 101, 121]);
  for (const protocol of [1, 2] as const) {
    const toUmp = new Midi1ToUmp({ protocol, group: 2 });
    const toMidi1 = new UmpToMidi1({ group: 2 });
    for (let i = 0; i < 2000; i++) {
      const msg = randomMessage(rng);
      if (protocol === 2) {
        if (msg.type === "control_change" && stateful.has(msg.control)) {
          continue;
        }
        if (msg.type === "note_on" && msg.velocity === 0) continue;
      }
      const bytesIn = encode(msg);
      const { messages, dropped } = toMidi1.push(toUmp.push(bytesIn));
      assert.deepEqual(dropped, [], `seed ${seed}`);
      assert.deepEqual(messages, [bytesIn], `seed ${seed}: ${msg.type}`);
    }
  }
});

Deno.test("UmpToMidi1 never throws on random words, and every message it makes is one valid MIDI 1.0 message (seeded fuzz)", () => {
  const seed = testSeed();
  const rng = new Random(seed);
  const toMidi1 = new UmpToMidi1({ maxSysex: 64 });
  let made = 0, dropped = 0;
  for (let round = 0; round < 5000; round++) {
    const words: number[] = [];
    for (let n = rng.int(0, 6); n > 0; n--) {
      // Mostly whole messages of plausible types, groups and data bytes;
      // sometimes any type, and a stray word that misaligns the rest.
      const mt = rng.chance(0.8)
        ? rng.pick([0, 1, 2, 2, 3, 3, 3, 4, 4, 4, 5, 0xd, 0xf])
        : rng.int(0, 15);
      const group = rng.chance(0.8) ? 0 : rng.int(0, 15);
      const status = rng.int(0, 255);
      const data = rng.chance(0.8)
        ? rng.int(0, 0x7f7f) & 0x7f7f
        : rng.int(0, 0xffff);
      const form = rng.chance(0.9) ? rng.int(0, 3) : rng.int(0, 15);
      const byte1 = mt === 3 ? (form << 4) | rng.int(0, 7) : status;
      words.push(((mt << 28) | (group << 24) | (byte1 << 16) | data) >>> 0);
      for (let i = 1; i < umpWordCount(mt << 28); i++) {
        words.push(
          rng.chance(0.7)
            ? Math.floor(rng.next() * 2 ** 32) & 0x7f7f7f7f
            : Math.floor(rng.next() * 2 ** 32),
        );
      }
      if (rng.chance(0.05)) words.push(Math.floor(rng.next() * 2 ** 32));
    }
    const result = toMidi1.push(words);
    for (const message of result.messages) {
      assert.ok(message.length <= 64, `seed ${seed}: a sysex over maxSysex`);
      const parsed = decode(message);
      assert.equal(parsed.length, 1, `seed ${seed}: [${message}]`);
      assert.deepEqual(encode(parsed[0]), message, `seed ${seed}`);
    }
    for (const drop of result.dropped) {
      assert.ok(
        drop.reason.length > 0 && drop.words.length <= 8,
        `seed ${seed}`,
      );
    }
    made += result.messages.length;
    dropped += result.dropped.length;
  }
  assert.ok(made > 1000 && dropped > 100, `seed ${seed}: ${made} ${dropped}`);
  assert.equal(toMidi1.stats.dropped, dropped);
  assert.equal(toMidi1.stats.messages, made);
});
