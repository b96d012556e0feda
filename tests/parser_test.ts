// Copyright 2026 the midisock authors. MIT license.

import assert from "node:assert/strict";
import {
  decode,
  encode,
  type Message,
  message,
  MidiParser,
  type MidiParserOptions,
  type MidiParserStats,
} from "../mod.ts";
import { ALL_TYPES, Random, randomMessage, testSeed } from "./_random.ts";
import { concat } from "./_bytes.ts";

/** Feeds `input` in one chunk and returns what came out. */
function parse(input: number[], options?: MidiParserOptions) {
  const parser = new MidiParser(options);
  const messages = parser.feed(new Uint8Array(input));
  return { messages, stats: parser.stats };
}

function stats(
  messages: number,
  skippedBytes = 0,
  discardedMessages = 0,
  oversizedSysex = 0,
): MidiParserStats {
  return { messages, skippedBytes, discardedMessages, oversizedSysex };
}

const on = (note: number, velocity: number, channel = 0) =>
  message("note_on", { channel, note, velocity });
const sysex = (...data: number[]) => message("sysex", { data });
const CLOCK = message("clock");
const TUNE_REQUEST = message("tune_request");
const REALTIME: [number, Message][] = [
  [0xf8, message("clock")],
  [0xfa, message("start")],
  [0xfb, message("continue")],
  [0xfc, message("stop")],
  [0xfe, message("active_sensing")],
  [0xff, message("reset")],
];

// Rule 1: running status.

Deno.test("MidiParser applies running status to data bytes after a channel message", () => {
  assert.deepEqual(parse([0x90, 60, 100, 62, 0, 64, 127]), {
    messages: [on(60, 100), on(62, 0), on(64, 127)],
    stats: stats(3),
  });
  assert.deepEqual(parse([0xc5, 1, 2, 3]), {
    messages: [1, 2, 3].map((program) =>
      message("program_change", { channel: 5, program })
    ),
    stats: stats(3),
  });
  assert.deepEqual(parse([0xe0, 0, 0x40, 0x7f, 0x7f, 0, 0]), {
    messages: [0, 8191, -8192].map((pitch) => message("pitchwheel", { pitch })),
    stats: stats(3),
  });
});

Deno.test("MidiParser with runningStatus false skips data bytes after a complete message", () => {
  const options = { runningStatus: false };
  assert.deepEqual(parse([0x90, 60, 100, 62, 0, 64, 127], options), {
    messages: [on(60, 100)],
    stats: stats(1, 4),
  });
  assert.deepEqual(parse([0xc5, 1, 2, 3], options), {
    messages: [message("program_change", { channel: 5, program: 1 })],
    stats: stats(1, 2),
  });
});

Deno.test("MidiParser gives system common messages no running status", () => {
  assert.deepEqual(parse([0xf1, 0x25, 0x26, 0xf2, 1, 2, 3, 4, 0xf3, 9, 10]), {
    messages: [
      message("quarter_frame", { frameType: 2, frameValue: 5 }),
      message("songpos", { pos: 257 }),
      message("song_select", { song: 9 }),
    ],
    stats: stats(3, 4),
  });
});

Deno.test("MidiParser cancels running status on every byte F0..F7", () => {
  const cases: [number[], Message[], number][] = [
    [[0xf0, 1, 0xf7], [sysex(1)], 2],
    [
      [0xf1, 0x25],
      [message("quarter_frame", { frameType: 2, frameValue: 5 })],
      2,
    ],
    [[0xf2, 1, 2], [message("songpos", { pos: 257 })], 2],
    [[0xf3, 9], [message("song_select", { song: 9 })], 2],
    [[0xf4], [], 3],
    [[0xf5], [], 3],
    [[0xf6], [TUNE_REQUEST], 2],
    [[0xf7], [], 3],
  ];
  for (const [middle, messages, skipped] of cases) {
    const input = [0x90, 60, 100, ...middle, 62, 0];
    assert.deepEqual(
      parse(input),
      {
        messages: [on(60, 100), ...messages],
        stats: stats(1 + messages.length, skipped),
      },
      `byte ${middle[0].toString(16)}`,
    );
  }
});

Deno.test("MidiParser keeps running status across real-time bytes", () => {
  for (const [byte, rt] of REALTIME) {
    assert.deepEqual(parse([0x90, 60, 100, byte, 62, 0, byte, 64, byte, 127]), {
      messages: [on(60, 100), rt, on(62, 0), rt, rt, on(64, 127)],
      stats: stats(6),
    });
  }
});

// Rule 2: real-time bytes.

Deno.test("MidiParser emits real-time bytes between messages", () => {
  assert.deepEqual(
    parse([0xf8, 0x90, 60, 100, 0xfa, 0xfb, 0xfc, 0xfe, 0xff, 0xc0, 1]),
    {
      messages: [
        CLOCK,
        on(60, 100),
        ...REALTIME.slice(1).map(([, m]) => m),
        message("program_change", { program: 1 }),
      ],
      stats: stats(8),
    },
  );
});

Deno.test("MidiParser emits a real-time byte inside a channel message and keeps the message", () => {
  for (const [byte, rt] of REALTIME) {
    for (const options of [{}, { runningStatus: false }]) {
      assert.deepEqual(parse([0x90, byte, 60, 100], options), {
        messages: [rt, on(60, 100)],
        stats: stats(2),
      });
      assert.deepEqual(parse([0x90, 60, byte, 100], options), {
        messages: [rt, on(60, 100)],
        stats: stats(2),
      });
      assert.deepEqual(parse([0xc0, byte, 5], options), {
        messages: [rt, message("program_change", { program: 5 })],
        stats: stats(2),
      });
      assert.deepEqual(parse([0xf2, 1, byte, 2], options), {
        messages: [rt, message("songpos", { pos: 257 })],
        stats: stats(2),
      });
    }
  }
  assert.deepEqual(parse([0xb3, 0xf8, 7, 0xfa, 100]), {
    messages: [
      CLOCK,
      message("start"),
      message("control_change", {
        channel: 3,
        control: 7,
        value: 100,
      }),
    ],
    stats: stats(3),
  });
});

Deno.test("MidiParser emits a real-time byte inside a sysex and keeps the sysex", () => {
  for (const [byte, rt] of REALTIME) {
    assert.deepEqual(parse([0xf0, byte, 1, byte, 2, 3, byte, 0xf7]), {
      messages: [rt, rt, rt, sysex(1, 2, 3)],
      stats: stats(4),
    });
  }
});

// Rule 3: undefined status bytes.

Deno.test("MidiParser ignores F9 and FD with no effect on the message around them", () => {
  for (const byte of [0xf9, 0xfd]) {
    assert.deepEqual(parse([0x90, 60, byte, 100]), {
      messages: [on(60, 100)],
      stats: stats(1, 1),
    });
    assert.deepEqual(parse([0x90, byte, 60, 100, byte, 62, 0]), {
      messages: [on(60, 100), on(62, 0)],
      stats: stats(2, 2),
    });
    assert.deepEqual(parse([0xf0, 1, byte, 2, byte, 0xf7]), {
      messages: [sysex(1, 2)],
      stats: stats(1, 2),
    });
    assert.deepEqual(parse([byte, byte]), { messages: [], stats: stats(0, 2) });
  }
});

Deno.test("MidiParser discards a partial message at F4 or F5 and cancels running status", () => {
  for (const byte of [0xf4, 0xf5]) {
    // 90 3C cut: 2 bytes, the F4 itself, then 64 has no status.
    assert.deepEqual(parse([0x90, 60, byte, 100]), {
      messages: [],
      stats: stats(0, 4, 1),
    });
    assert.deepEqual(parse([0x90, 60, 100, byte, 62, 0]), {
      messages: [on(60, 100)],
      stats: stats(1, 3),
    });
    assert.deepEqual(parse([0xf0, 1, 2, byte, 3, 0xf7]), {
      messages: [],
      stats: stats(0, 6, 1),
    });
    assert.deepEqual(parse([0xf2, 1, byte, 2]), {
      messages: [],
      stats: stats(0, 4, 1),
    });
    // A message that starts after it is fine.
    assert.deepEqual(parse([byte, 0xc0, 5]), {
      messages: [message("program_change", { program: 5 })],
      stats: stats(1, 1),
    });
  }
});

// Rule 4: sysex, stray F7, stray data.

Deno.test("MidiParser discards a sysex cut by a status byte", () => {
  assert.deepEqual(parse([0xf0, 1, 2, 0x90, 60, 100]), {
    messages: [on(60, 100)],
    stats: stats(1, 3, 1),
  });
  assert.deepEqual(parse([0xf0, 1, 0xf0, 2, 0xf7]), {
    messages: [sysex(2)],
    stats: stats(1, 2, 1),
  });
  assert.deepEqual(parse([0xf0, 1, 2, 0xf6]), {
    messages: [TUNE_REQUEST],
    stats: stats(1, 3, 1),
  });
  assert.deepEqual(parse([0xf0, 0xf1, 0x25]), {
    messages: [message("quarter_frame", { frameType: 2, frameValue: 5 })],
    stats: stats(1, 1, 1),
  });
});

Deno.test("MidiParser ignores a stray F7", () => {
  assert.deepEqual(parse([0xf7, 0x90, 60, 100, 0xf7, 0xf7]), {
    messages: [on(60, 100)],
    stats: stats(1, 3),
  });
  assert.deepEqual(parse([0xf0, 1, 0xf7, 0xf7]), {
    messages: [sysex(1)],
    stats: stats(1, 1),
  });
});

Deno.test("MidiParser treats F7 inside a channel message as a status byte that cuts it", () => {
  assert.deepEqual(parse([0x90, 60, 0xf7, 100]), {
    messages: [],
    stats: stats(0, 4, 1),
  });
});

Deno.test("MidiParser ignores data bytes with no status", () => {
  assert.deepEqual(parse([1, 2, 3, 0xc0, 5]), {
    messages: [message("program_change", { program: 5 })],
    stats: stats(1, 3),
  });
  assert.deepEqual(parse([0xf6, 1, 0xf8, 2]), {
    messages: [TUNE_REQUEST, CLOCK],
    stats: stats(2, 2),
  });
});

// Rule 5: the sysex limit.

Deno.test("MidiParser discards a sysex over maxSysexBytes whole, counts it and skips to the next status", () => {
  const options = { maxSysexBytes: 4 };
  assert.deepEqual(parse([0xf0, 1, 2, 3, 4, 0xf7], options), {
    messages: [sysex(1, 2, 3, 4)],
    stats: stats(1),
  });
  assert.deepEqual(parse([0xf0, 1, 2, 3, 4, 5, 0xf7, 0x90, 60, 100], options), {
    messages: [on(60, 100)],
    stats: stats(1, 7, 0, 1),
  });
  // No F7: the data is skipped up to the next status byte.
  assert.deepEqual(
    parse([0xf0, 1, 2, 3, 4, 5, 6, 7, 0x90, 60, 100], options),
    { messages: [on(60, 100)], stats: stats(1, 8, 0, 1) },
  );
  // Data after the F7 has no status either.
  assert.deepEqual(
    parse([0xf0, 1, 2, 3, 4, 5, 0xf7, 8, 9, 0xc0, 1], options),
    {
      messages: [message("program_change", { program: 1 })],
      stats: stats(1, 9, 0, 1),
    },
  );
  // Real-time bytes inside still come out, and the next sysex is fine.
  assert.deepEqual(
    parse([0xf0, 1, 2, 3, 4, 5, 0xf8, 6, 0xf7, 0xf0, 1, 0xf7], options),
    { messages: [CLOCK, sysex(1)], stats: stats(2, 8, 0, 1) },
  );
  // An oversized sysex cut by F0 gives way to the new sysex.
  assert.deepEqual(
    parse([0xf0, 1, 2, 3, 4, 5, 0xf0, 9, 0xf7], options),
    { messages: [sysex(9)], stats: stats(1, 6, 0, 1) },
  );
  assert.deepEqual(parse([0xf0, 0xf7, 0xf0, 1, 0xf7], { maxSysexBytes: 0 }), {
    messages: [sysex()],
    stats: stats(1, 3, 0, 1),
  });
});

Deno.test("MidiParser keeps a sysex of exactly the default 1 MiB and drops one byte more", () => {
  const limit = 1024 * 1024;
  const body = new Uint8Array(limit + 2);
  body[0] = 0xf0;
  body.fill(0x55, 1, limit + 1);
  body[limit + 1] = 0xf7;
  const parser = new MidiParser();
  const [msg] = parser.feed(body);
  assert.equal(msg.type, "sysex");
  assert.equal((msg as { data: Uint8Array }).data.length, limit);
  assert.equal(parser.stats.oversizedSysex, 0);

  const longer = new Uint8Array(limit + 3);
  longer[0] = 0xf0;
  longer.fill(0x55, 1, limit + 2);
  longer[limit + 2] = 0xf7;
  assert.deepEqual(parser.feed(longer), []);
  assert.deepEqual(parser.stats, stats(1, limit + 3, 0, 1));
});

Deno.test("MidiParser holds no more than maxSysexBytes while a 100 MiB sysex never ends", () => {
  for (const max of [1024 * 1024, 1000]) {
    const parser = new MidiParser({ maxSysexBytes: max });
    assert.deepEqual(parser.feed(new Uint8Array([0xf0])), []);
    const chunk = new Uint8Array(64 * 1024).fill(0x11);
    let peak = 0;
    const chunks = (100 * 1024 * 1024) / chunk.length;
    for (let i = 0; i < chunks; i++) {
      assert.equal(parser.feed(chunk).length, 0);
      peak = Math.max(peak, parser.bufferedBytes);
      if (parser.bufferedBytes > max) {
        assert.fail(`${parser.bufferedBytes} bytes held after chunk ${i}`);
      }
    }
    assert.equal(peak, max);
    assert.deepEqual(parser.stats, stats(0, 100 * 1024 * 1024 + 1, 0, 1));
    // The stream goes on normally after the next status byte.
    assert.deepEqual(parser.feed(new Uint8Array([0xf7, 0xc0, 3])), [
      message("program_change", { program: 3 }),
    ]);
  }
});

/**
 * Feeds F0, `length` data bytes (0x55, in chunks of at most 1 MiB, as a
 * socket gives them) and F7 to a parser with `maxSysexBytes: max`, and says
 * what came of it: the length of the sysex kept (every byte checked), or
 * "oversized".
 */
function feedSysex(max: number, length: number): number | "oversized" {
  const parser = new MidiParser({ maxSysexBytes: max });
  const chunk = new Uint8Array(Math.min(length, 1024 * 1024)).fill(0x55);
  const out = parser.feed(new Uint8Array([0xf0]));
  for (let left = length; left > 0; left -= chunk.length) {
    out.push(...parser.feed(chunk.subarray(0, Math.min(left, chunk.length))));
  }
  out.push(...parser.feed(new Uint8Array([0xf7])));
  if (parser.stats.oversizedSysex === 1 && out.length === 0) {
    assert.deepEqual(parser.stats, stats(0, length + 2, 0, 1));
    return "oversized";
  }
  assert.equal(out.length, 1);
  assert.deepEqual(parser.stats, stats(1));
  const { data } = out[0] as { data: Uint8Array };
  assert.ok(data.every((b) => b === 0x55), "a byte of the sysex changed");
  return data.length;
}

// Where the parser's sysex buffer starts to grow in place, and the most
// that such a buffer reserves (SMALL_SYSEX_CAPACITY and
// MAX_SYSEX_RESERVATION in src/midi/parser.ts).
const IN_PLACE = 16 * 1024;
const RESERVATION = 64 * 1024 * 1024;

Deno.test("MidiParser keeps a sysex up to maxSysexBytes and drops one byte more, for 0, 1, the in-place buffer's start and its reservation", () => {
  for (const max of [0, 1, IN_PLACE, RESERVATION]) {
    const lengths = [max - 1, max, max + 1].filter((n) => n >= 0);
    assert.deepEqual(
      lengths.map((n) => feedSysex(max, n)),
      [...lengths.slice(0, -1), "oversized"],
      `maxSysexBytes ${max}`,
    );
  }
});

Deno.test("MidiParser with maxSysexBytes Number.MAX_SAFE_INTEGER keeps a 20 KB sysex, and one past the buffer's reservation", () => {
  const max = Number.MAX_SAFE_INTEGER;
  const lengths = [
    20_000,
    IN_PLACE - 1,
    IN_PLACE,
    IN_PLACE + 1,
    RESERVATION - 1,
    RESERVATION,
    RESERVATION + 1,
  ];
  assert.deepEqual(lengths.map((n) => feedSysex(max, n)), lengths);
});

Deno.test("MidiParser lets a large sysex buffer go once its message is done", () => {
  const parser = new MidiParser();
  const big = new Uint8Array(200 * 1024 + 2).fill(1);
  big[0] = 0xf0;
  big[big.length - 1] = 0xf7;
  assert.equal(parser.feed(big).length, 1);
  assert.equal(parser.bufferedBytes, 0);
  // A small one keeps its buffer for the next sysex, within the bound.
  parser.feed(new Uint8Array([0xf0, 1, 2, 0xf7]));
  assert.ok(parser.bufferedBytes <= 64 * 1024);
});

// Counters and end().

Deno.test("MidiParser counts messages, skipped bytes, cut and oversized messages exactly", () => {
  const parser = new MidiParser({ maxSysexBytes: 4 });
  const out = [
    ...parser.feed(
      new Uint8Array([
        0x01, // stray data: 1 skipped
        0x90,
        60,
        100,
        62,
        0, // two note_on, the second by running status
        0xf8, // clock
        0xb0,
        7, // cut below: 2 skipped, 1 discarded
      ]),
    ),
    ...parser.feed(
      new Uint8Array([
        0x90,
        64,
        127, // note_on
        0xf9, // 1 skipped
        0xf0,
        1,
        2,
        3,
        0xf7, // sysex
        0xf0,
        1,
        2,
        3,
        4,
        5,
        0xf7, // oversized: 7 skipped
        0xf4, // 1 skipped
        0xf7, // 1 skipped
        0xf0,
        1, // cut below: 2 skipped, 1 discarded
        0xc0,
        5, // program_change
      ]),
    ),
  ];
  assert.deepEqual(out, [
    on(60, 100),
    on(62, 0),
    CLOCK,
    on(64, 127),
    sysex(1, 2, 3),
    message("program_change", { program: 5 }),
  ]);
  assert.deepEqual(parser.stats, stats(6, 15, 2, 1));
  // stats is a snapshot: changing it changes nothing.
  const snapshot = parser.stats;
  snapshot.messages = 1000;
  assert.equal(parser.stats.messages, 6);
});

Deno.test("MidiParser.end() discards and counts a message in progress", () => {
  const parser = new MidiParser();
  parser.feed(new Uint8Array([0x90, 60]));
  parser.end();
  assert.deepEqual(parser.stats, stats(0, 2, 1));
  // The parser starts afresh: a lone data byte has no status.
  assert.deepEqual(parser.feed(new Uint8Array([100])), []);
  assert.deepEqual(parser.stats, stats(0, 3, 1));

  parser.feed(new Uint8Array([0xf0, 1, 2]));
  parser.end();
  assert.deepEqual(parser.stats, stats(0, 6, 2));
  parser.end(); // twice counts nothing more
  assert.deepEqual(parser.stats, stats(0, 6, 2));
  assert.deepEqual(parser.feed(new Uint8Array([0x90, 60, 100])), [on(60, 100)]);
});

Deno.test("MidiParser.end() cancels running status and counts nothing for it", () => {
  const parser = new MidiParser();
  parser.feed(new Uint8Array([0x90, 60, 100]));
  parser.end();
  assert.deepEqual(parser.stats, stats(1));
  assert.deepEqual(parser.feed(new Uint8Array([62, 0])), []);
  assert.deepEqual(parser.stats, stats(1, 2));
});

Deno.test("MidiParser.end() in an oversized sysex counts it once", () => {
  const parser = new MidiParser({ maxSysexBytes: 2 });
  parser.feed(new Uint8Array([0xf0, 1, 2, 3, 4]));
  parser.end();
  assert.deepEqual(parser.stats, stats(0, 5, 0, 1));
  assert.equal(parser.bufferedBytes <= 2, true);
});

Deno.test("decode() drops a message left incomplete at the end", () => {
  assert.deepEqual(decode(new Uint8Array([0x90, 60, 100, 0x90, 60])), [
    on(60, 100),
  ]);
  assert.deepEqual(decode(new Uint8Array([0xf0, 1, 2])), []);
  assert.deepEqual(decode(new Uint8Array(0)), []);
});

Deno.test("decode() takes the parser's options", () => {
  const bytes = new Uint8Array([0x90, 60, 100, 62, 0, 0xf0, 1, 2, 0xf7]);
  assert.deepEqual(decode(bytes), [on(60, 100), on(62, 0), sysex(1, 2)]);
  assert.deepEqual(decode(bytes, { runningStatus: false }), [
    on(60, 100),
    sysex(1, 2),
  ]);
  assert.deepEqual(decode(bytes, { maxSysexBytes: 1 }), [
    on(60, 100),
    on(62, 0),
  ]);
});

Deno.test("MidiParser rejects bad options", () => {
  assert.throws(() => new MidiParser({ runningStatus: "yes" as never }), {
    name: "TypeError",
    message: "Invalid runningStatus option: expected a boolean, got string",
  });
  assert.throws(() => new MidiParser({ maxSysexBytes: -1 }), {
    name: "RangeError",
    message:
      `Invalid maxSysexBytes option: expected an integer in 0..${Number.MAX_SAFE_INTEGER}, got -1`,
  });
  assert.throws(() => new MidiParser({ maxSysexBytes: 1.5 }), {
    name: "TypeError",
    message:
      `Invalid maxSysexBytes option: expected an integer in 0..${Number.MAX_SAFE_INTEGER}, got 1.5`,
  });
  assert.throws(() => new MidiParser({ maxSysexBytes: Infinity }), {
    name: "TypeError",
    message:
      `Invalid maxSysexBytes option: expected an integer in 0..${Number.MAX_SAFE_INTEGER}, got Infinity`,
  });
  assert.throws(() => new MidiParser({ maxSysexBytes: 2 ** 53 }), {
    name: "RangeError",
    message:
      `Invalid maxSysexBytes option: expected an integer in 0..${Number.MAX_SAFE_INTEGER}, got 9007199254740992`,
  });
});

Deno.test("MidiParser returns frozen messages that encode back to their bytes", () => {
  const rng = new Random(testSeed());
  const messages = Array.from({ length: 500 }, () => randomMessage(rng));
  const bytes = concat(messages.map(encode));
  const decoded = decode(bytes);
  assert.deepEqual(decoded, messages, `seed ${rng.seed}`);
  for (const msg of decoded) assert.ok(Object.isFrozen(msg));
});

// Chunk boundaries and garbage.

/**
 * A stream that mixes every type with every kind of trouble: running status,
 * real-time bytes inside messages, undefined bytes, stray data and F7, cut
 * messages and sysex longer than 8 bytes.
 */
function messyStream(rng: Random): Uint8Array {
  const parts: Uint8Array[] = [];
  // Every type at least once, first.
  for (const type of ALL_TYPES) {
    parts.push(encode(randomMessage(rng, { types: [type], maxSysex: 20 })));
  }
  for (let i = 0; i < 60; i++) {
    const bytes = encode(randomMessage(rng, { maxSysex: 20 }));
    switch (rng.int(0, 7)) {
      case 0: { // a real-time or undefined byte inside
        const at = rng.int(1, Math.max(1, bytes.length - 1));
        const extra = rng.pick([
          0xf8,
          0xfa,
          0xfb,
          0xfc,
          0xfe,
          0xff,
          0xf9,
          0xfd,
        ]);
        parts.push(
          bytes.subarray(0, at),
          new Uint8Array([extra]),
          bytes.subarray(at),
        );
        break;
      }
      case 1: // cut short
        parts.push(bytes.subarray(0, rng.int(1, bytes.length)));
        break;
      case 2: // running status
        if (bytes[0] < 0xf0) {
          parts.push(bytes, bytes.subarray(1), bytes.subarray(1));
        } else {
          parts.push(bytes);
        }
        break;
      case 3: // garbage
        parts.push(rng.bytes(rng.int(1, 6)));
        break;
      case 4: // an undefined or stray status byte
        parts.push(new Uint8Array([rng.pick([0xf4, 0xf5, 0xf7])]), bytes);
        break;
      default:
        parts.push(bytes);
    }
  }
  return concat(parts);
}

/** Feeds `bytes` split at `cuts`, then ends; returns messages and stats. */
function feedSplit(
  bytes: Uint8Array,
  cuts: number[],
  options: MidiParserOptions,
) {
  const parser = new MidiParser(options);
  const messages: Message[] = [];
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    messages.push(...parser.feed(bytes.subarray(start, cut)));
    start = cut;
  }
  parser.end();
  return { messages, stats: parser.stats };
}

const OPTION_SETS: MidiParserOptions[] = [
  {},
  { runningStatus: false },
  { maxSysexBytes: 8 },
];

Deno.test("MidiParser gives the same messages for the same stream split at every possible chunk boundary", () => {
  const rng = new Random(testSeed());
  const bytes = messyStream(rng);
  for (const options of OPTION_SETS) {
    const whole = feedSplit(bytes, [], options);
    // The stream really has all the trouble that it is meant to have.
    assert.equal(new Set(whole.messages.map((m) => m.type)).size, 18);
    assert.ok(whole.stats.skippedBytes > 0);
    assert.ok(whole.stats.discardedMessages > 0);
    if (options.maxSysexBytes === 8) assert.ok(whole.stats.oversizedSysex > 0);
    for (let i = 0; i <= bytes.length; i++) {
      const split = feedSplit(bytes, [i], options);
      if (split.messages.length !== whole.messages.length) {
        assert.fail(`split at ${i} of ${bytes.length}, seed ${rng.seed}`);
      }
      assert.deepEqual(split, whole, `split at ${i}, seed ${rng.seed}`);
    }
    const oneByOne = Array.from({ length: bytes.length - 1 }, (_, i) => i + 1);
    assert.deepEqual(feedSplit(bytes, oneByOne, options), whole);
  }
});

Deno.test("MidiParser gives the same messages for the same stream split at random places", () => {
  const rng = new Random(testSeed() + 1);
  for (let round = 0; round < 20; round++) {
    const bytes = messyStream(rng);
    for (const options of OPTION_SETS) {
      const whole = feedSplit(bytes, [], options);
      for (let k = 0; k < 20; k++) {
        const cuts = Array.from(
          { length: rng.int(1, 40) },
          () => rng.int(0, bytes.length),
        ).sort((a, b) => a - b);
        assert.deepEqual(
          feedSplit(bytes, cuts, options),
          whole,
          `round ${round}, cuts ${cuts}, seed ${rng.seed}`,
        );
      }
    }
  }
});

Deno.test("MidiParser never throws on random bytes, and accounts for every byte", () => {
  const rng = new Random(testSeed() + 2);
  for (let round = 0; round < 300; round++) {
    const n = rng.int(0, 2000);
    const bytes = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const roll = rng.next();
      bytes[i] = roll < 0.5
        ? rng.int(0, 255)
        : roll < 0.75
        ? rng.int(0, 127)
        : rng.int(0xf0, 0xff);
    }
    const options: MidiParserOptions = {
      runningStatus: rng.chance(0.5),
      maxSysexBytes: rng.pick([0, 1, 5, 64, 1024 * 1024]),
    };
    const context = `round ${round}, ${
      JSON.stringify(options)
    }, seed ${rng.seed}`;
    const parser = new MidiParser(options);
    const messages: Message[] = [];
    let offset = 0;
    while (offset < n) {
      const size = rng.int(1, 300);
      messages.push(...parser.feed(bytes.subarray(offset, offset + size)));
      offset += size;
      assert.ok(parser.bufferedBytes <= options.maxSysexBytes!, context);
    }
    parser.end();
    let encoded = 0;
    for (const msg of messages) {
      assert.ok(Object.isFrozen(msg), context);
      encoded += encode(msg).length; // throws if the message is invalid
    }
    const { stats } = parser;
    assert.equal(stats.messages, messages.length, context);
    if (options.runningStatus) {
      // Running status makes messages of fewer bytes than they encode to.
      assert.ok(encoded + stats.skippedBytes >= n, context);
    } else {
      assert.equal(encoded + stats.skippedBytes, n, context);
    }
    assert.deepEqual(feedSplit(bytes, [], options).messages, messages, context);
  }
});
