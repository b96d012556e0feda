// Copyright 2026 the midisock authors. MIT license.

import assert from "node:assert/strict";
import {
  encode,
  type Message,
  message,
  MidiDecoderStream,
  MidiEncoderStream,
} from "../mod.ts";
import { Random, randomMessage, testSeed } from "./_random.ts";
import { concat } from "./_bytes.ts";

function encodeAll(messages: readonly Message[]): Promise<Uint8Array[]> {
  return Array.fromAsync(
    ReadableStream.from(messages).pipeThrough(new MidiEncoderStream()),
  );
}

const notes = (n: number) =>
  Array.from({ length: n }, (_, i) => message("note_on", { note: i % 128 }));

Deno.test("MidiDecoderStream decodes a byte stream split anyhow", async () => {
  const chunks = [[0x90], [60], [100, 0xf0, 1], [], [2, 0xf8, 3], [
    0xf7,
    0xc1,
    5,
  ]]
    .map((c) => new Uint8Array(c));
  const messages = await Array.fromAsync(
    ReadableStream.from(chunks).pipeThrough(new MidiDecoderStream()),
  );
  assert.deepEqual(messages, [
    message("note_on", { note: 60, velocity: 100 }),
    message("clock"),
    message("sysex", { data: [1, 2, 3] }),
    message("program_change", { channel: 1, program: 5 }),
  ]);
});

Deno.test("MidiDecoderStream counts skipped bytes and a message cut at the end of the stream", async () => {
  const decoder = new MidiDecoderStream();
  const messages = await Array.fromAsync(
    ReadableStream.from([new Uint8Array([1, 2, 0xc0, 1, 0x90, 60])])
      .pipeThrough(decoder),
  );
  assert.deepEqual(messages, [message("program_change", { program: 1 })]);
  assert.deepEqual(decoder.stats, {
    messages: 1,
    skippedBytes: 4,
    discardedMessages: 1,
    oversizedSysex: 0,
  });
});

Deno.test("MidiDecoderStream takes the parser's options", async () => {
  const bytes = new Uint8Array([0x90, 60, 100, 62, 0, 0xf0, 1, 2, 3, 0xf7]);
  const decoder = new MidiDecoderStream({
    runningStatus: false,
    maxSysexBytes: 2,
  });
  const messages = await Array.fromAsync(
    ReadableStream.from([bytes]).pipeThrough(decoder),
  );
  assert.deepEqual(messages, [message("note_on", { note: 60, velocity: 100 })]);
  assert.deepEqual(decoder.stats, {
    messages: 1,
    skippedBytes: 7,
    discardedMessages: 0,
    oversizedSysex: 1,
  });
});

Deno.test("MidiEncoderStream and MidiDecoderStream round-trip 2000 random messages of every type", async () => {
  const rng = new Random(testSeed());
  const messages = Array.from({ length: 2000 }, () => randomMessage(rng));
  const out = await Array.fromAsync(
    ReadableStream.from(messages)
      .pipeThrough(new MidiEncoderStream({ maxChunkBytes: 1000 }))
      .pipeThrough(new MidiDecoderStream()),
  );
  assert.deepEqual(out, messages, `seed ${rng.seed}`);
});

Deno.test("MidiEncoderStream writes each message as mido's bytes, with no running status", async () => {
  const messages = [
    message("note_on", { note: 60 }),
    message("note_on", { note: 62 }),
    message("clock"),
    { type: "note_off", note: 60 } as Message, // hand-written
  ];
  const chunks = await encodeAll(messages);
  assert.deepEqual(
    concat(chunks),
    new Uint8Array([0x90, 60, 64, 0x90, 62, 64, 0xf8, 0x80, 60, 64]),
  );
});

Deno.test("MidiEncoderStream coalesces a burst from a pipe into one chunk", async () => {
  const messages = notes(500);
  const chunks = await encodeAll(messages);
  assert.equal(chunks.length, 1);
  assert.deepEqual(chunks[0], concat(messages.map(encode)));
});

Deno.test("MidiEncoderStream coalesces messages written together into one chunk", async () => {
  const encoder = new MidiEncoderStream();
  const writer = encoder.writable.getWriter();
  const chunks = Array.fromAsync(encoder.readable);
  const messages = notes(300);
  const writes = messages.map((m) => writer.write(m));
  const closed = writer.close();
  await Promise.all([...writes, closed]);
  const got = await chunks;
  assert.equal(got.length, 1);
  assert.deepEqual(got[0], concat(messages.map(encode)));
});

Deno.test("MidiEncoderStream lets a lone message go without waiting for more", async () => {
  const encoder = new MidiEncoderStream();
  const writer = encoder.writable.getWriter();
  const reader = encoder.readable.getReader();
  // A TransformStream takes a message only when its output is wanted, so the
  // read comes first, as in a pipe to a socket.
  const first = reader.read();
  await writer.write(message("start"));
  // No more messages and no close: the chunk still comes.
  assert.deepEqual(await first, {
    done: false,
    value: new Uint8Array([0xfa]),
  });
  const second = reader.read();
  await writer.write(message("stop"));
  assert.deepEqual(await second, {
    done: false,
    value: new Uint8Array([0xfc]),
  });
  const end = reader.read();
  await writer.close();
  assert.deepEqual(await end, { done: true, value: undefined });
});

Deno.test("MidiEncoderStream splits a burst at maxChunkBytes without splitting a message", async () => {
  const encoder = new MidiEncoderStream({ maxChunkBytes: 16 });
  const messages = notes(10); // 30 bytes: five 3-byte messages fit in 16
  const chunks = await Array.fromAsync(
    ReadableStream.from(messages).pipeThrough(encoder),
  );
  assert.deepEqual(chunks.map((c) => c.length), [15, 15]);
  assert.deepEqual(concat(chunks), concat(messages.map(encode)));
});

Deno.test("MidiEncoderStream sends a sysex larger than maxChunkBytes as one chunk of its own", async () => {
  const data = Array.from({ length: 100 }, (_, i) => i);
  const messages = [
    message("note_on", { note: 1 }),
    message("sysex", { data }),
    message("note_on", { note: 2 }),
  ];
  const chunks = await Array.fromAsync(
    ReadableStream.from(messages).pipeThrough(
      new MidiEncoderStream({ maxChunkBytes: 16 }),
    ),
  );
  assert.deepEqual(chunks, messages.map(encode));

  const big = message("sysex", { data: new Uint8Array(100 * 1024).fill(5) });
  const bigChunks = await encodeAll([messages[0], big, messages[2]]);
  assert.deepEqual(bigChunks.map((c) => c.length), [3, 100 * 1024 + 2, 3]);
  assert.deepEqual(bigChunks[1], encode(big));
});

Deno.test("MidiEncoderStream errors on a bad message and writes none of its bytes", async () => {
  const encoder = new MidiEncoderStream();
  const writer = encoder.writable.getWriter();
  const reader = encoder.readable.getReader();
  const first = reader.read();
  await writer.write(message("note_on", { note: 60 }));
  assert.deepEqual(await first, {
    done: false,
    value: new Uint8Array([0x90, 60, 64]),
  });
  const error = {
    name: "RangeError",
    message: "Invalid note_on note: expected an integer in 0..127, got 128",
  };
  const second = reader.read();
  await assert.rejects(
    writer.write({ type: "note_on", note: 128 } as Message),
    error,
  );
  await assert.rejects(second, error);
  await assert.rejects(writer.write(message("note_on")), error);
});

Deno.test("MidiEncoderStream errors on a bad message in the middle of a burst", async () => {
  const messages = [
    message("clock"),
    { type: "sysex", data: [1, 2, 0xf7] } as unknown as Message,
    message("stop"),
  ];
  await assert.rejects(encodeAll(messages), {
    name: "RangeError",
    message: "Invalid sysex data[2]: expected an integer in 0..127, got 247",
  });
  await assert.rejects(encodeAll([{ type: "clock", extra: 1 } as never]), {
    name: "TypeError",
    message: 'Unknown clock field "extra": it has no fields but time',
  });
});

Deno.test("MidiEncoderStream rejects a maxChunkBytes under 16 or not an integer", () => {
  for (const bad of [15, 16.5, 0, NaN]) {
    assert.throws(() => new MidiEncoderStream({ maxChunkBytes: bad }), {
      name: "RangeError",
      message:
        `Invalid maxChunkBytes option: expected an integer of at least 16, got ${bad}`,
    });
  }
  new MidiEncoderStream({ maxChunkBytes: 16 });
});

Deno.test("MidiEncoderStream lets the messages before a bad one go before it errors", async () => {
  const got: Uint8Array[] = [];
  const messages = [
    message("clock"),
    message("start"),
    { type: "clock", x: 1 } as never,
  ];
  await assert.rejects(
    ReadableStream.from(messages)
      .pipeThrough(new MidiEncoderStream())
      .pipeTo(new WritableStream({ write: (chunk) => void got.push(chunk) })),
    {
      name: "TypeError",
      message: 'Unknown clock field "x": it has no fields but time',
    },
  );
  assert.deepEqual(got, [new Uint8Array([0xf8, 0xfa])]);
});
