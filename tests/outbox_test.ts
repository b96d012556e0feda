// Copyright 2026 the midisock authors. MIT license.
import assert from "node:assert/strict";
import type { ByteSink } from "../src/_byte_io.ts";
import { Outbox } from "../src/_outbox.ts";

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
  return {
    sink,
    writes,
    letGo() {
      release.resolve();
      release = Promise.withResolvers<void>();
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
