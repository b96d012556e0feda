// Copyright 2026 the midisock authors. MIT license.
import assert from "node:assert/strict";
import type { ByteSink } from "../src/transport/byte_io.ts";
import { Outbox } from "../src/port/_outbox.ts";

/** A sink that records its writes, and holds each one until let go. */
function heldSink(text: boolean) {
  const writes: (string | number[])[] = [];
  let release = Promise.withResolvers<void>();
  const sink: ByteSink = {
    copies: true,
    async write(bytes) {
      writes.push([...bytes]);
      await release.promise;
    },
    close: () => Promise.resolve(),
    abort() {},
    writeText: text
      ? async (line) => {
        writes.push(line);
        await release.promise;
      }
      : undefined,
  };
  let free = false;
  return {
    sink,
    writes,
    letGo() {
      release.resolve();
      if (!free) release = Promise.withResolvers<void>();
    },
    /** Lets this write go, and every write after it. */
    free() {
      free = true;
      release.resolve();
    },
  };
}

Deno.test("Outbox writes a line of text between the chunks queued before and after it, never joining them across it", async () => {
  const { sink, writes, letGo } = heldSink(true);
  const outbox = new Outbox(sink, (error) => assert.fail(error));
  outbox.enqueue(new Uint8Array([0x90, 60, 100]));
  await Promise.resolve(); // the first write starts, and is held
  assert.deepEqual(writes, [[0x90, 60, 100]]);
  // Queued while it is held: joined where no line is between them.
  outbox.enqueue(new Uint8Array([0xf8]));
  outbox.enqueue(new Uint8Array([0xfa]));
  outbox.line("MIDISOCK/1 from=keys");
  const big = new Uint8Array(300).fill(0x01);
  big[0] = 0xf0;
  big[299] = 0xf7;
  outbox.enqueue(new Uint8Array([0xfc]));
  outbox.enqueue(big); // a chunk of its own in the queue, not the tail
  outbox.line("MIDISOCK/1");
  assert.equal(outbox.queuedBytes, 3 + 2 + 20 + 301 + 10);
  const drained = outbox.drain();
  for (let i = 0; i < 5; i++) {
    letGo();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  await drained;
  assert.deepEqual(writes, [
    [0x90, 60, 100],
    [0xf8, 0xfa],
    "MIDISOCK/1 from=keys",
    [0xfc, ...big],
    "MIDISOCK/1",
  ]);
  assert.equal(outbox.queuedBytes, 0);
  assert.equal(outbox.writtenBytes, 3 + 2 + 20 + 301 + 10);
});

Deno.test("Outbox counts a line's UTF-8 bytes, drops it with the queue on cut(), and refuses text where the sink carries none", async () => {
  const { sink, letGo } = heldSink(true);
  const outbox = new Outbox(sink, (error) => assert.fail(error));
  outbox.enqueue(new Uint8Array([0xf8]));
  await Promise.resolve();
  outbox.line("MIDISOCK/1 from=caf%C3%A9 é"); // 28 bytes of UTF-8
  assert.equal(outbox.queuedBytes, 1 + 28);
  outbox.cut();
  assert.equal(outbox.droppedBytes, 28);
  letGo();
  await outbox.settled();
  assert.throws(() => outbox.line("x"), /closed/);

  const plain = new Outbox(heldSink(false).sink, (error) => assert.fail(error));
  assert.equal(plain.carriesText, false);
  assert.throws(
    () => plain.line("MIDISOCK/1"),
    { name: "TypeError", message: /carries none/ },
  );
});

Deno.test("Outbox keeps thousands of lines, each between two messages, in order behind a held write, and writes each message alone", async () => {
  const { sink, writes, free } = heldSink(true);
  const outbox = new Outbox(sink, (error) => assert.fail(error));
  outbox.enqueue(new Uint8Array([0xfa]));
  await Promise.resolve(); // held
  const big = new Uint8Array(300).fill(0x01);
  big[0] = 0xf0;
  big[299] = 0xf7;
  const n = 3000; // past the 1024 taken slots at which the arrays are cut
  let total = 1;
  for (let k = 0; k < n; k++) {
    const line = k % 2 ? "MIDISOCK/1 from=b" : "MIDISOCK/1 from=a";
    outbox.line(line);
    // Small messages gather in the tail, a big one is a chunk of its own:
    // the lines' marks fall inside the tail and between chunks.
    outbox.enqueue(k % 3 === 2 ? big : new Uint8Array([0xf8]));
    total += line.length + (k % 3 === 2 ? 300 : 1);
  }
  assert.equal(outbox.queuedBytes, total);
  free();
  await outbox.drain();
  const expected: (string | number[])[] = [[0xfa]];
  for (let k = 0; k < n; k++) {
    expected.push(k % 2 ? "MIDISOCK/1 from=b" : "MIDISOCK/1 from=a");
    expected.push(k % 3 === 2 ? [...big] : [0xf8]);
  }
  assert.deepEqual(writes, expected);
  assert.equal(outbox.writtenBytes, total);
  assert.equal(outbox.queuedBytes, 0);
});
