// Copyright 2026 the midisock authors. MIT license.
/**
 * Why MidiEncoderStream waits IDLE_TURNS (32) microtask turns with no new
 * message before it lets a chunk go: the same encoder with other turn
 * counts, on a piped burst (chunks, and throughput into a loopback socket)
 * and on a lone message (how long it waits), each next to the raw figure.
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 bench/encoder_turns.ts
 * ```
 *
 * @module
 */

import { batchTransformer, IDLE_TURNS } from "../src/midi/_batch.ts";
import { type Message, message } from "../mod.ts";

const BURST = 200_000;
const LONE = 2_000;
const NOTE: Message = message("note_on", { note: 60, velocity: 100 });
const TURNS = [1, 2, 4, 8, 16, IDLE_TURNS, 64, 128];

/** MidiEncoderStream, with a given number of turns. */
function encoder(turns: number): TransformStream<Message, Uint8Array> {
  return new TransformStream(batchTransformer(65536, turns), {
    highWaterMark: 1024,
  });
}

function* notes(n: number): Generator<Message> {
  for (let i = 0; i < n; i++) yield NOTE;
}

/** A piped burst into a sink: chunks per 1000 messages. */
async function chunks(turns: number): Promise<number> {
  let count = 0;
  await ReadableStream.from(notes(BURST)).pipeThrough(encoder(turns)).pipeTo(
    new WritableStream({
      write() {
        count++;
      },
    }),
  );
  return count / (BURST / 1000);
}

/** A piped burst into a loopback socket, read at the far end: msg/s. */
async function socket(turns: number | undefined): Promise<number> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({
    hostname: "127.0.0.1",
    port: listener.addr.port,
  });
  const server = await listener.accept();
  listener.close();
  client.setNoDelay(true);
  const reading = (async () => {
    const buf = new Uint8Array(64 * 1024);
    let got = 0;
    while (got < 3 * BURST) {
      const n = await server.read(buf);
      if (n === null) break;
      got += n;
    }
    return got;
  })();
  const t0 = performance.now();
  if (turns === undefined) {
    // Raw: the same bytes in 64 KiB writes.
    const bytes = new Uint8Array(3 * BURST);
    for (let i = 0; i < bytes.length; i += 3) bytes.set([0x90, 60, 100], i);
    for (let off = 0; off < bytes.length;) {
      off += await client.write(bytes.subarray(off, off + 65536));
    }
  } else {
    const writer = client.writable.getWriter();
    await ReadableStream.from(notes(BURST)).pipeThrough(encoder(turns))
      .pipeTo(
        new WritableStream({ write: (chunk) => writer.write(chunk) }),
      );
    writer.releaseLock();
  }
  const got = await reading;
  const ms = performance.now() - t0;
  client.close();
  server.close();
  if (got !== 3 * BURST) throw new Error(`Got ${got} of ${3 * BURST} bytes`);
  return BURST / (ms / 1000);
}

/** A lone message written to the encoder: µs until its chunk comes out. */
async function lone(turns: number): Promise<number> {
  const stream = encoder(turns);
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  const samples: number[] = [];
  for (let i = 0; i < LONE; i++) {
    const t0 = performance.now();
    writer.write(NOTE);
    await reader.read();
    samples.push((performance.now() - t0) * 1000);
  }
  await writer.close();
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1];
}

/** The median of three runs, as this machine is noisy. */
async function median3(f: () => Promise<number>): Promise<number> {
  const xs = [await f(), await f(), await f()].sort((a, b) => a - b);
  return xs[1];
}

const raw = await median3(() => socket(undefined));
console.log(
  `MidiEncoderStream, turns with no new message before a chunk goes (${BURST} note_on piped, median of 3; ${LONE} lone messages)`,
);
console.log(
  "| turns | chunks per 1000 msgs | piped into a socket | raw 64 KiB writes | lone message, median |",
);
console.log("|---:|---:|---:|---:|---:|");
for (const turns of TURNS) {
  const c = await chunks(turns);
  const s = await median3(() => socket(turns));
  const l = await lone(turns);
  const mark = turns === IDLE_TURNS ? " (chosen)" : "";
  console.log(
    `| ${turns}${mark} | ${c.toFixed(1)} | ${(s / 1e6).toFixed(2)} M msg/s | ${
      (raw / 1e6).toFixed(0)
    } M msg/s | ${l.toFixed(1)} µs |`,
  );
}
