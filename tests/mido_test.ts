// Copyright 2026 the midisock authors. MIT license.
// Differential tests against Debian's python3-mido 1.2.10, run as
// /usr/bin/python3 (needs --allow-run=/usr/bin/python3). One Python process
// per test; data goes both ways as JSON. Random data comes from a seeded
// generator: set MIDISOCK_SEED to repeat a failing run.

import assert from "node:assert/strict";
import {
  decode,
  encode,
  formatMessage,
  type Message,
  message,
  MidiParser,
  parseMessage,
} from "../mod.ts";
import { midoEncode, midoMessages, midoParseAll, toHex } from "./_mido.ts";
import { ALL_TYPES, Random, randomMessage, testSeed } from "./_random.ts";
import { concat } from "./_bytes.ts";
import { MIDO } from "./_peers.ts";

MIDO.test("encode(), formatMessage() and parseMessage() agree with mido on 12,000 random messages", async () => {
  const rng = new Random(testSeed());
  const messages: Message[] = [];
  // Every type at its defaults and at the ends of its ranges, then at random.
  for (const type of ALL_TYPES) messages.push(message(type, { time: 0 }));
  messages.push(
    message("pitchwheel", { channel: 15, pitch: -8192, time: 1 }),
    message("pitchwheel", { pitch: 8191, time: 2 }),
    message("songpos", { pos: 16383, time: 3 }),
    message("quarter_frame", { frameType: 7, frameValue: 15, time: 4 }),
    message("sysex", { data: [], time: 5 }),
    message("sysex", { data: new Uint8Array(65536).fill(127), time: 6 }),
  );
  while (messages.length < 12_000) {
    messages.push(randomMessage(rng, { time: true, maxSysex: 2000 }));
  }
  const answers = await midoMessages(messages);
  assert.equal(answers.length, messages.length);
  for (let i = 0; i < messages.length; i++) {
    const msg = messages[i];
    const [bin, str] = answers[i];
    const context = `message ${i} (${str}), seed ${rng.seed}`;
    if (toHex(encode(msg)) !== bin) {
      assert.equal(toHex(encode(msg)), bin, `encode() of ${context}`);
    }
    if (formatMessage(msg) !== str) {
      assert.equal(formatMessage(msg), str, `formatMessage() of ${context}`);
    }
    assert.deepEqual(parseMessage(str), msg, `parseMessage() of ${context}`);
  }
});

MIDO.test("MidiParser without running status decodes mido's bytes, in random chunks, as mido.parse_all() does", async () => {
  const rng = new Random(testSeed() + 10);
  const streams: Message[][] = [];
  for (let s = 0; s < 60; s++) {
    streams.push(
      Array.from(
        { length: rng.int(1, 250) },
        () => randomMessage(rng, { maxSysex: 200 }),
      ),
    );
  }
  const bytes = await midoEncode(streams);
  const expected = await midoParseAll(bytes);
  for (let s = 0; s < streams.length; s++) {
    const context = `stream ${s}, seed ${rng.seed}`;
    // Our encoder writes the same bytes as mido.
    assert.equal(toHex(concat(streams[s].map(encode))), toHex(bytes[s]));
    // mido parses its own bytes back to the messages (a sanity check).
    assert.equal(expected[s].length, streams[s].length, context);
    for (let k = 0; k < 5; k++) {
      const parser = new MidiParser({ runningStatus: false });
      const got: Message[] = [];
      let offset = 0;
      while (offset < bytes[s].length) {
        const size = rng.int(1, 64);
        got.push(...parser.feed(bytes[s].subarray(offset, offset + size)));
        offset += size;
      }
      assert.deepEqual(got.map(formatMessage), expected[s], context);
      assert.deepEqual(got, streams[s], context);
    }
  }
});

/** Decodes with our parser (default options) and formats as mido would. */
function ours(bytes: number[], options?: { runningStatus: boolean }) {
  return decode(new Uint8Array(bytes), options).map(formatMessage);
}

async function mido(bytes: number[]): Promise<string[]> {
  const [messages] = await midoParseAll([new Uint8Array(bytes)]);
  return messages;
}

// Where we differ from mido on purpose. Each test shows both results.

MIDO.test("Differs from mido: running status is applied by default (mido drops the data bytes)", async () => {
  const bytes = [0x90, 60, 100, 62, 0, 0xc0, 1, 2];
  assert.deepEqual(await mido(bytes), [
    "note_on channel=0 note=60 velocity=100 time=0",
    "program_change channel=0 program=1 time=0",
  ]);
  assert.deepEqual(ours(bytes), [
    "note_on channel=0 note=60 velocity=100 time=0",
    "note_on channel=0 note=62 velocity=0 time=0",
    "program_change channel=0 program=1 time=0",
    "program_change channel=0 program=2 time=0",
  ]);
  // With runningStatus: false we parse as mido does.
  assert.deepEqual(ours(bytes, { runningStatus: false }), await mido(bytes));
});

MIDO.test("Differs from mido: a real-time byte inside a channel message keeps the message (mido drops it)", async () => {
  const bytes = [0x90, 60, 0xf8, 100, 0xb0, 0xfa, 7, 1];
  assert.deepEqual(await mido(bytes), [
    "clock time=0",
    "start time=0",
  ]);
  assert.deepEqual(ours(bytes), [
    "clock time=0",
    "note_on channel=0 note=60 velocity=100 time=0",
    "start time=0",
    "control_change channel=0 control=7 value=1 time=0",
  ]);
});

MIDO.test("Same as mido: a real-time byte inside a sysex comes out first and the sysex is kept", async () => {
  const bytes = [0xf0, 1, 0xf8, 2, 0xf7];
  const both = ["clock time=0", "sysex data=(1,2) time=0"];
  assert.deepEqual(await mido(bytes), both);
  assert.deepEqual(ours(bytes), both);
});

MIDO.test("Differs from mido: F9 or FD inside a channel message is ignored (mido drops the message)", async () => {
  const bytes = [0x90, 60, 0xf9, 100, 0xe0, 0xfd, 0, 0x40];
  assert.deepEqual(await mido(bytes), []);
  assert.deepEqual(ours(bytes), [
    "note_on channel=0 note=60 velocity=100 time=0",
    "pitchwheel channel=0 pitch=0 time=0",
  ]);
  // Inside a sysex both ignore it.
  const sysex = [0xf0, 1, 0xf9, 2, 0xfd, 0xf7];
  assert.deepEqual(await mido(sysex), ["sysex data=(1,2) time=0"]);
  assert.deepEqual(ours(sysex), ["sysex data=(1,2) time=0"]);
});

MIDO.test("Differs from mido: F4 or F5 inside a message discards it (mido ignores the byte)", async () => {
  const bytes = [0x90, 60, 0xf4, 100, 0xf0, 1, 0xf5, 2, 0xf7];
  assert.deepEqual(await mido(bytes), [
    "note_on channel=0 note=60 velocity=100 time=0",
    "sysex data=(1,2) time=0",
  ]);
  assert.deepEqual(ours(bytes), []);
});

MIDO.test("Same as mido: a sysex cut by a status byte, a stray F7 and stray data are dropped", async () => {
  const bytes = [
    0xf0,
    1,
    2,
    0x90,
    60,
    100,
    0xf7,
    5,
    6,
    0x90,
    60,
    0xf7,
    0xc0,
    3,
  ];
  const both = [
    "note_on channel=0 note=60 velocity=100 time=0",
    "program_change channel=0 program=3 time=0",
  ];
  assert.deepEqual(await mido(bytes), both);
  assert.deepEqual(ours(bytes), both);
});
