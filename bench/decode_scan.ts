// Copyright 2026 the midisock authors. MIT license.
/**
 * How fast is the parser next to the fastest loop that reads the same bytes,
 * and next to mido's parser?
 *
 * It builds one buffer of 1,000,000 channel messages with a sysex now and
 * then, and times, taking the best of several runs:
 * (a) a count-only scan: one tight loop that counts status bytes,
 * (b) MidiParser decoding the buffer in 64 KiB chunks (as from a socket),
 * (c) mido's Parser in /usr/bin/python3 on the first 50,000 messages,
 * (d) for reference, the floor for any parser that returns messages: making
 *     1,000,000 frozen message objects of the same five shapes, with no
 *     parsing at all.
 *
 * Run: deno run --allow-run=/usr/bin/python3 bench/decode_scan.ts
 *
 * @module
 */

import { encode, type Message, message, MidiParser } from "../mod.ts";

const MESSAGES = 1_000_000;
const SYSEX_EVERY = 10_000; // one 256-byte sysex every 10,000 messages
const MIDO_MESSAGES = 50_000;
const RUNS = 9;
const MIDO_RUNS = 3;
const CHUNK = 64 * 1024;
const PYTHON = "/usr/bin/python3";
const MIDO_SCRIPT =
  new URL("../tests/fixtures/mido_parse_bench.py", import.meta.url).pathname;

/** The buffer, its message count, status byte count and a prefix for mido. */
function build() {
  const kinds: ((i: number) => Message)[] = [
    (i) =>
      message("note_on", { channel: i & 15, note: i & 127, velocity: 100 }),
    (i) => message("note_off", { channel: i & 15, note: i & 127, velocity: 0 }),
    (i) =>
      message("control_change", {
        channel: i & 15,
        control: 7,
        value: i & 127,
      }),
    (i) =>
      message("pitchwheel", { channel: i & 15, pitch: (i & 16383) - 8192 }),
    (i) => message("polytouch", { channel: i & 15, note: 60, value: i & 127 }),
  ];
  const sysex = encode(
    message("sysex", { data: Array.from({ length: 256 }, (_, i) => i & 127) }),
  );
  const encoded = kinds.map((kind) =>
    Array.from({ length: 128 }, (_, i) => encode(kind(i)))
  );
  let size = 0;
  const parts: Uint8Array[] = [];
  let statusBytes = 0;
  let midoBytes = 0;
  for (let i = 0; i < MESSAGES; i++) {
    if (i === MIDO_MESSAGES) midoBytes = size;
    const part = i % SYSEX_EVERY === SYSEX_EVERY - 1
      ? sysex
      : encoded[i % kinds.length][i & 127];
    parts.push(part);
    size += part.length;
    statusBytes += part === sysex ? 2 : 1;
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return { bytes, statusBytes, midoBytes };
}

/**
 * The worst case for the parser's message cache: 1,000,000 random channel
 * messages (random status, channel and data), so almost none repeats.
 */
function buildRandom(): Uint8Array {
  let seed = 0x6d69646f;
  const next = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Uint8Array(MESSAGES * 3);
  let n = 0;
  for (let i = 0; i < MESSAGES; i++) {
    const status = 0x80 + Math.floor(next() * 0x70);
    out[n++] = status;
    out[n++] = Math.floor(next() * 128);
    if ((status & 0xe0) !== 0xc0) out[n++] = Math.floor(next() * 128);
  }
  return out.subarray(0, n);
}

/** (a) Counts the status bytes: the least that any parser has to do. */
function scan(bytes: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] >= 0x80) n++;
  }
  return n;
}

/** (b) Decodes the buffer in socket-sized chunks; returns the message count. */
function decodeAll(bytes: Uint8Array): number {
  const parser = new MidiParser();
  let n = 0;
  for (let offset = 0; offset < bytes.length; offset += CHUNK) {
    n += parser.feed(bytes.subarray(offset, offset + CHUNK)).length;
  }
  parser.end();
  return n;
}

/** (d) Makes the messages without parsing: the cost of the objects alone. */
function allocateOnly(count: number): number {
  let n = 0;
  let out: unknown[] = [];
  for (let i = 0; i < count; i++) {
    const channel = i & 15;
    const x = i & 127;
    switch (i % 5) {
      case 0:
        out.push(
          Object.freeze({ type: "note_on", channel, note: x, velocity: 100 }),
        );
        break;
      case 1:
        out.push(
          Object.freeze({ type: "note_off", channel, note: x, velocity: 0 }),
        );
        break;
      case 2:
        out.push(
          Object.freeze({
            type: "control_change",
            channel,
            control: 7,
            value: x,
          }),
        );
        break;
      case 3:
        out.push(Object.freeze({ type: "pitchwheel", channel, pitch: x }));
        break;
      default:
        out.push(
          Object.freeze({ type: "polytouch", channel, note: 60, value: x }),
        );
    }
    if (out.length === 21_845) { // about one 64 KiB chunk of messages
      n += out.length;
      out = [];
    }
  }
  return n + out.length;
}

function best<T>(runs: number, fn: () => T): { ms: number; result: T } {
  let ms = Infinity;
  let result!: T;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    result = fn();
    ms = Math.min(ms, performance.now() - start);
  }
  return { ms, result };
}

/** (c) mido's Parser on `bytes`, timed inside Python. */
async function mido(
  bytes: Uint8Array,
): Promise<{ messages: number; seconds: number }> {
  const child = new Deno.Command(PYTHON, {
    args: [MIDO_SCRIPT, String(MIDO_RUNS)],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  const writer = child.stdin.getWriter();
  await writer.write(bytes);
  await writer.close();
  const { code, stdout, stderr } = await output;
  if (code !== 0) {
    throw new Error(`mido failed: ${new TextDecoder().decode(stderr)}`);
  }
  return JSON.parse(new TextDecoder().decode(stdout));
}

function fmt(n: number, digits = 1): string {
  return n.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

const { bytes, statusBytes, midoBytes } = build();
const mb = bytes.length / 1e6;

const scanned = best(RUNS, () => scan(bytes));
if (scanned.result !== statusBytes) {
  throw new Error(`Scan counted ${scanned.result}, expected ${statusBytes}`);
}
const decoded = best(RUNS, () => decodeAll(bytes));
if (decoded.result !== MESSAGES) {
  throw new Error(`Decoded ${decoded.result} messages, expected ${MESSAGES}`);
}
const randomBytes = buildRandom();
const decodedRandom = best(RUNS, () => decodeAll(randomBytes));
if (decodedRandom.result !== MESSAGES) {
  throw new Error(`Decoded ${decodedRandom.result} random messages`);
}
const floor = best(RUNS, () => allocateOnly(MESSAGES));
if (floor.result !== MESSAGES) throw new Error("Allocation count is wrong");
const midoResult = await mido(bytes.subarray(0, midoBytes));
if (midoResult.messages !== MIDO_MESSAGES) {
  throw new Error(
    `mido parsed ${midoResult.messages} messages, expected ${MIDO_MESSAGES}`,
  );
}

const scanMsgs = MESSAGES / (scanned.ms / 1000);
const ourMsgs = MESSAGES / (decoded.ms / 1000);
const midoMsgs = midoResult.messages / midoResult.seconds;

const rows: [string, string, string, string][] = [
  ["what", "time", "MB/s", "messages/s"],
  [
    `(a) scan: count ${fmt(statusBytes, 0)} status bytes`,
    `${fmt(scanned.ms, 2)} ms`,
    fmt(mb / (scanned.ms / 1000)),
    fmt(scanMsgs, 0),
  ],
  [
    `(b) MidiParser: ${fmt(MESSAGES, 0)} messages`,
    `${fmt(decoded.ms, 2)} ms`,
    fmt(mb / (decoded.ms / 1000)),
    fmt(ourMsgs, 0),
  ],
  [
    `(b') MidiParser: ${fmt(MESSAGES, 0)} random messages`,
    `${fmt(decodedRandom.ms, 2)} ms`,
    fmt(randomBytes.length / 1e6 / (decodedRandom.ms / 1000)),
    fmt(MESSAGES / (decodedRandom.ms / 1000), 0),
  ],
  [
    `(c) mido Parser: ${fmt(MIDO_MESSAGES, 0)} messages`,
    `${fmt(midoResult.seconds * 1000, 2)} ms`,
    fmt((midoBytes / 1e6) / midoResult.seconds, 3),
    fmt(midoMsgs, 0),
  ],
  [
    `(d) new frozen objects only: ${fmt(MESSAGES, 0)}`,
    `${fmt(floor.ms, 2)} ms`,
    "",
    fmt(MESSAGES / (floor.ms / 1000), 0),
  ],
];
const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
console.log(
  `Buffer: ${
    fmt(MESSAGES, 0)
  } messages (channel messages and a 256-byte sysex every ${
    fmt(SYSEX_EVERY, 0)
  }), ${fmt(mb, 2)} MB; best of ${RUNS} runs (mido: ${MIDO_RUNS})`,
);
console.log(`Deno ${Deno.version.deno}, V8 ${Deno.version.v8}`);
console.log();
for (const row of rows) {
  console.log(
    row.map((cell, c) =>
      c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])
    )
      .join("   "),
  );
}
console.log();
const ratio = scanned.ms / decoded.ms;
const speedup = ourMsgs / midoMsgs;
const randomRatio = scanned.ms / decodedRandom.ms;
const randomSpeedup = MESSAGES / (decodedRandom.ms / 1000) / midoMsgs;
const verdict = (ok: boolean) => ok ? "met" : "MISSED";
console.log(
  `decode / scan:     ${fmt(ratio * 100)}% (random: ${
    fmt(randomRatio * 100)
  }%), goal >= 50%: ${verdict(ratio >= 0.5)}`,
);
console.log(
  `MidiParser / mido: ${fmt(speedup, 0)}x (random: ${
    fmt(randomSpeedup, 0)
  }x), goal >= 100x: ${verdict(speedup >= 100)}`,
);
