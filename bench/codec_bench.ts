// Copyright 2026 the midisock authors. MIT license.
/**
 * Codec benchmarks: encode and decode of 3-byte channel messages and of large
 * sysex messages. Run: deno bench bench/codec_bench.ts
 *
 * Each iteration handles a whole batch (1,000 messages, or one 64 KiB sysex),
 * so time/iter divided by the batch is the cost of one message.
 *
 * @module
 */

import {
  decode,
  encode,
  message,
  MidiDecoderStream,
  MidiEncoderStream,
  MidiParser,
} from "../mod.ts";

const N = 1000;
const notes = Array.from(
  { length: N },
  (_, i) =>
    message("note_on", {
      channel: i & 15,
      note: i & 127,
      velocity: (i * 7) & 127,
    }),
);
const handWritten = notes.map((m) => ({ ...m }));
const noteBytes = concat(notes.map(encode));
// The same notes by running status: one status byte per channel change.
const runningBytes = concat(
  Array.from(
    { length: N },
    (_, i) =>
      i === 0 ? encode(notes[0]) : new Uint8Array([i & 127, (i * 7) & 127]),
  ),
);
const noteChunks = split(noteBytes, 64);

const SYSEX_SIZE = 64 * 1024;
const sysexData = new Uint8Array(SYSEX_SIZE);
for (let i = 0; i < SYSEX_SIZE; i++) sysexData[i] = (i * 31) & 0x7f;
const sysex = message("sysex", { data: sysexData });
const sysexArray = { type: "sysex" as const, data: Array.from(sysexData) };
const sysexBytes = encode(sysex);
const sysexChunks = split(sysexBytes, 1024);

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function split(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) {
    out.push(bytes.subarray(i, i + size));
  }
  return out;
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`Benchmark gave a wrong result: ${what}`);
}

// 3-byte channel messages, 1,000 per iteration.

Deno.bench({
  name: "encode() 1000 note_on from message()",
  group: "encode 1000 note_on",
  baseline: true,
  fn() {
    let n = 0;
    for (let i = 0; i < N; i++) n += encode(notes[i]).length;
    check(n === 3 * N, "encoded length");
  },
});

Deno.bench({
  name: "encode() 1000 hand-written note_on",
  group: "encode 1000 note_on",
  fn() {
    let n = 0;
    for (let i = 0; i < N; i++) n += encode(handWritten[i] as never).length;
    check(n === 3 * N, "encoded length");
  },
});

Deno.bench({
  name: "MidiEncoderStream 1000 note_on (one coalesced chunk)",
  group: "encode 1000 note_on",
  async fn() {
    const chunks = await Array.fromAsync(
      ReadableStream.from(notes).pipeThrough(new MidiEncoderStream()),
    );
    check(chunks.length === 1 && chunks[0].length === 3 * N, "one chunk");
  },
});

Deno.bench({
  name: "decode() 1000 note_on (3000 bytes)",
  group: "decode 1000 note_on",
  baseline: true,
  fn() {
    check(decode(noteBytes).length === N, "message count");
  },
});

Deno.bench({
  name: "MidiParser.feed() 1000 note_on by running status (2001 bytes)",
  group: "decode 1000 note_on",
  fn() {
    check(decode(runningBytes).length === N, "message count");
  },
});

Deno.bench({
  name: "MidiParser.feed() 1000 note_on in 64-byte chunks",
  group: "decode 1000 note_on",
  fn() {
    const parser = new MidiParser();
    let n = 0;
    for (const chunk of noteChunks) n += parser.feed(chunk).length;
    check(n === N, "message count");
  },
});

Deno.bench({
  name: "MidiDecoderStream 1000 note_on in 64-byte chunks",
  group: "decode 1000 note_on",
  async fn() {
    const messages = await Array.fromAsync(
      ReadableStream.from(noteChunks).pipeThrough(new MidiDecoderStream()),
    );
    check(messages.length === N, "message count");
  },
});

// One 64 KiB sysex per iteration.

Deno.bench({
  name: "encode() 64 KiB sysex, Uint8Array data",
  group: "encode 64 KiB sysex",
  baseline: true,
  fn() {
    check(encode(sysex).length === SYSEX_SIZE + 2, "encoded length");
  },
});

Deno.bench({
  name: "encode() 64 KiB sysex, hand-written number[] data",
  group: "encode 64 KiB sysex",
  fn() {
    check(encode(sysexArray as never).length === SYSEX_SIZE + 2, "length");
  },
});

Deno.bench({
  name: "message() 64 KiB sysex from number[] (checks every byte)",
  group: "encode 64 KiB sysex",
  fn() {
    check(
      message("sysex", { data: sysexArray.data }).data.length === SYSEX_SIZE,
      "length",
    );
  },
});

Deno.bench({
  name: "decode() 64 KiB sysex in one chunk",
  group: "decode 64 KiB sysex",
  baseline: true,
  fn() {
    check(decode(sysexBytes).length === 1, "message count");
  },
});

Deno.bench({
  name: "MidiParser.feed() 64 KiB sysex in 1 KiB chunks",
  group: "decode 64 KiB sysex",
  fn() {
    const parser = new MidiParser();
    let n = 0;
    for (const chunk of sysexChunks) n += parser.feed(chunk).length;
    check(n === 1, "message count");
  },
});
