// Copyright 2026 the midisock authors. MIT license.
// The Network MIDI 2.0 datagram codec against byte vectors written by hand
// from the field layouts of M2-124-UM (the command header: code, payload
// length in words, two command-specific bytes; big-endian), and the
// authentication digests against the specification's own examples.

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import {
  AuthState,
  ByeReason,
  Capability,
  commandLength,
  decodeDatagram,
  encodeCommand,
  encodeDatagram,
  hasCommand,
  MAX_DATAGRAM_BYTES,
  type Midi2Command,
  NakReason,
  reasonName,
  RetransmitErrorReason,
} from "../src/transport/midi2/_packets.ts";
import {
  digestsEqual,
  randomNonce,
  secretDigest,
  userDigest,
} from "../src/transport/midi2/_auth.ts";
import { Random, testSeed } from "./_random.ts";

/** Bytes from hex text, spaces ignored. */
function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  return Uint8Array.from(
    { length: clean.length / 2 },
    (_, i) => parseInt(clean.slice(i * 2, i * 2 + 2), 16),
  );
}

const ascii = (text: string) => new TextEncoder().encode(text);

/** The signature, "MIDI". */
const SIG = "4D 49 44 49";

/** Each vector: a command and the datagram that carries it alone. */
const VECTORS: [string, Midi2Command, string][] = [
  [
    // Code 0x01, 3 words, CSD1 = name words (2), CSD2 = capabilities.
    "Invitation with a name of 2 words and a product id of 1",
    {
      type: "invitation",
      name: "midisock",
      productInstanceId: "A1",
      capabilities: Capability.InvitationWithAuthentication |
        Capability.InvitationWithUserAuthentication,
    },
    `${SIG} 01 03 02 03  6D 69 64 69 73 6F 63 6B  41 31 00 00`,
  ],
  [
    "Invitation with a UTF-8 name, zero-padded to its word",
    {
      type: "invitation",
      name: "Café",
      productInstanceId: "7",
      capabilities: 0,
    },
    `${SIG} 01 03 02 00  43 61 66 C3 A9 00 00 00  37 00 00 00`,
  ],
  [
    "Invitation Reply: Accepted",
    {
      type: "invitation_accepted",
      name: "host",
      productInstanceId: "x",
    },
    `${SIG} 10 02 01 00  68 6F 73 74  78 00 00 00`,
  ],
  [
    "Invitation Reply: Pending",
    { type: "invitation_pending", name: "host", productInstanceId: "" },
    `${SIG} 11 01 01 00  68 6F 73 74`,
  ],
  [
    // CSD1 = name words, CSD2 = authentication state; nonce, name, id.
    "Invitation Reply: Authentication Required, incorrect digest",
    {
      type: "authentication_required",
      nonce: ascii("nUWrn*@#$hjfwnkL"),
      state: AuthState.IncorrectDigest,
      name: "host",
      productInstanceId: "",
    },
    `${SIG} 12 05 01 01  6E 55 57 72 6E 2A 40 23 24 68 6A 66 77 6E 6B 4C  68 6F 73 74`,
  ],
  [
    "Invitation Reply: User Authentication Required, first request",
    {
      type: "user_authentication_required",
      nonce: ascii("XI|~=NNRVaD;XCPL"),
      state: AuthState.FirstAuthenticationRequest,
      name: "",
      productInstanceId: "pi",
    },
    `${SIG} 13 05 00 00  58 49 7C 7E 3D 4E 4E 52 56 61 44 3B 58 43 50 4C  70 69 00 00`,
  ],
  [
    "Ping, with its 32-bit id",
    { type: "ping", id: 0x12345678 },
    `${SIG} 20 01 00 00  12 34 56 78`,
  ],
  [
    "Ping Reply echoes the id",
    { type: "ping_reply", id: 0xdeadbeef },
    `${SIG} 21 01 00 00  DE AD BE EF`,
  ],
  [
    // The sequence number is CSD1:CSD2; the payload is the UMP words.
    "UMP Data: sequence 0x1234 and an MT 0x2 note on",
    { type: "ump_data", sequence: 0x1234, words: [0x20903c64] },
    `${SIG} FF 01 12 34  20 90 3C 64`,
  ],
  [
    "UMP Data: sequence 0, an MT 0x4 note on of two words",
    { type: "ump_data", sequence: 0, words: [0x40903c00, 0xffff0000] },
    `${SIG} FF 02 00 00  40 90 3C 00 FF FF 00 00`,
  ],
  [
    "UMP Data with no words (the keep-alive form)",
    { type: "ump_data", sequence: 0xffff, words: [] },
    `${SIG} FF 00 FF FF`,
  ],
  [
    // CSD = first sequence number; payload: number of commands, reserved.
    "Retransmit Request: from sequence 5, 3 commands",
    { type: "retransmit_request", sequence: 5, count: 3 },
    `${SIG} 80 01 00 05  00 03 00 00`,
  ],
  [
    // CSD1 = reason; payload: sequence number, reserved.
    "Retransmit Error: sequence 5 is no longer there",
    {
      type: "retransmit_error",
      sequence: 5,
      reason: RetransmitErrorReason.DataNotAvailable,
    },
    `${SIG} 81 01 01 00  00 05 00 00`,
  ],
  [
    "Session Reset",
    { type: "session_reset" },
    `${SIG} 82 00 00 00`,
  ],
  [
    "Session Reset Reply",
    { type: "session_reset_reply" },
    `${SIG} 83 00 00 00`,
  ],
  [
    // CSD1 = reason; payload: the header refused, then text.
    "NAK of an unknown command, echoing its header",
    {
      type: "nak",
      reason: NakReason.CommandNotSupported,
      refusedHeader: 0x77020000,
      text: "",
    },
    `${SIG} 8F 01 01 00  77 02 00 00`,
  ],
  [
    "NAK with a text",
    {
      type: "nak",
      reason: NakReason.CommandMalformed,
      refusedHeader: 0x20000000,
      text: "no id",
    },
    `${SIG} 8F 03 03 00  20 00 00 00  6E 6F 20 69 64 00 00 00`,
  ],
  [
    "Bye: session not established, no text",
    { type: "bye", reason: ByeReason.SessionNotEstablished, text: "" },
    `${SIG} F0 00 05 00`,
  ],
  [
    "Bye with a text of one word",
    { type: "bye", reason: ByeReason.UserTerminated, text: "bye!" },
    `${SIG} F0 01 01 00  62 79 65 21`,
  ],
  [
    "Bye Reply",
    { type: "bye_reply" },
    `${SIG} F1 00 00 00`,
  ],
];

for (const [name, command, bytes] of VECTORS) {
  Deno.test(`Network MIDI 2.0 ${name}: encodes to the specification's bytes and decodes back`, () => {
    assert.deepEqual(encodeDatagram([command]), hex(bytes));
    assert.equal(commandLength(command), hex(bytes).length - 4);
    const { commands, errors } = decodeDatagram(hex(bytes));
    assert.deepEqual(errors, []);
    const header = new DataView(hex(bytes).buffer).getUint32(4);
    assert.deepEqual(commands, [{ ...command, header, offset: 4 }]);
  });
}

// The specification's examples (M2-124-UM 6.9 and 6.10), the digest
// SHA-256 of the plain concatenation.
const SECRET_NONCE = "nUWrn*@#$hjfwnkL";
const SECRET_DIGEST =
  "676EBE82587CECA8F82FC333D787951EEC2B00AD31613CC4DB18CF27373AFB82";
const USER_NONCE = "XI|~=NNRVaD;XCPL";
const USER_DIGEST =
  "3A2D5EBEEF92E8463535C27FB4B7B3E2D1ACF57A844C6D0808E041C102B7FF1A";

Deno.test("secretDigest is SHA-256 of the nonce then the shared secret, as the specification's example", async () => {
  const digest = await secretDigest(ascii(SECRET_NONCE), "5483");
  assert.deepEqual(digest, hex(SECRET_DIGEST));
  const expected = createHash("sha256").update(SECRET_NONCE + "5483").digest();
  assert.deepEqual(digest, new Uint8Array(expected));
  // The order matters: secret first is another digest.
  const reversed = createHash("sha256").update("5483" + SECRET_NONCE).digest();
  assert.notDeepEqual(digest, new Uint8Array(reversed));
});

Deno.test("userDigest is SHA-256 of the nonce, the user, then the password, as the specification's example", async () => {
  const digest = await userDigest(ascii(USER_NONCE), "Rosa", "RPBqBno");
  assert.deepEqual(digest, hex(USER_DIGEST));
  const expected = createHash("sha256").update(USER_NONCE + "RosaRPBqBno")
    .digest();
  assert.deepEqual(digest, new Uint8Array(expected));
  // A non-ASCII user is hashed as UTF-8.
  const cafe = await userDigest(ascii(USER_NONCE), "Café", "pw");
  assert.deepEqual(
    cafe,
    new Uint8Array(
      createHash("sha256").update(
        Buffer.concat([Buffer.from(USER_NONCE), Buffer.from("Caf\u00e9pw")]),
      ).digest(),
    ),
  );
});

Deno.test("Invitation with Authentication carries the 32-byte digest as its 8 words", async () => {
  const digest = await secretDigest(ascii(SECRET_NONCE), "5483");
  const bytes = encodeDatagram([{ type: "invitation_with_auth", digest }]);
  assert.deepEqual(bytes, hex(`${SIG} 02 08 00 00 ${SECRET_DIGEST}`));
  const { commands } = decodeDatagram(bytes);
  assert.deepEqual(commands[0], {
    type: "invitation_with_auth",
    digest: hex(SECRET_DIGEST),
    header: 0x02080000,
    offset: 4,
  });
});

Deno.test("Invitation with User Authentication carries the digest, then the user name padded", async () => {
  const digest = await userDigest(ascii(USER_NONCE), "Rosa", "RPBqBno");
  const bytes = encodeDatagram([
    { type: "invitation_with_user_auth", digest, user: "Rosa" },
  ]);
  assert.deepEqual(bytes, hex(`${SIG} 03 09 00 00 ${USER_DIGEST} 52 6F 73 61`));
  assert.deepEqual(decodeDatagram(bytes).commands[0], {
    type: "invitation_with_user_auth",
    digest: hex(USER_DIGEST),
    user: "Rosa",
    header: 0x03090000,
    offset: 4,
  });
});

Deno.test("Several commands share one datagram, in order (FEC repeats earlier UMP Data)", () => {
  const bytes = hex(
    `${SIG} FF 01 00 07 20 90 3C 64  FF 01 00 08 20 80 3C 00  20 01 00 00 00 00 00 01`,
  );
  const { commands, errors } = decodeDatagram(bytes);
  assert.deepEqual(errors, []);
  assert.deepEqual(commands.map((c) => [c.type, c.offset]), [
    ["ump_data", 4],
    ["ump_data", 12],
    ["ping", 20],
  ]);
  assert.deepEqual(
    encodeDatagram([
      { type: "ump_data", sequence: 7, words: [0x20903c64] },
      { type: "ump_data", sequence: 8, words: [0x20803c00] },
      { type: "ping", id: 1 },
    ]),
    bytes,
  );
});

Deno.test("decodeDatagram reports a bad signature at offset 0 and reads nothing", () => {
  const { commands, errors } = decodeDatagram(
    hex("4D 49 44 48 20 01 00 00 00 00 00 01"),
  );
  assert.deepEqual(commands, []);
  assert.equal(errors.length, 1);
  assert.match(errors[0], /signature at offset 0: 0x4D494448/);
  assert.match(decodeDatagram(hex("4D 49"))!.errors[0], /2 bytes/);
});

Deno.test("decodeDatagram reports a payload length that lies, naming the offset, and keeps what came before", () => {
  const { commands, errors } = decodeDatagram(
    hex(`${SIG} 21 01 00 00 00 00 00 09  20 02 00 00 00 00 00 01`),
  );
  assert.deepEqual(commands.map((c) => c.type), ["ping_reply"]);
  assert.deepEqual(errors, [
    "Ping (0x20) at offset 12 says 2 payload words, but 4 bytes are left",
  ]);
});

Deno.test("decodeDatagram reports a truncated command header, naming the offset", () => {
  const { commands, errors } = decodeDatagram(hex(`${SIG} 82 00 00 00 F0 00`));
  assert.deepEqual(commands.map((c) => c.type), ["session_reset"]);
  assert.deepEqual(errors, [
    "Truncated command header at offset 8: 2 bytes left of 4",
  ]);
});

Deno.test("decodeDatagram returns an unknown command with its header for the NAK, and reads the rest", () => {
  const { commands, errors } = decodeDatagram(
    hex(`${SIG} 77 02 AB CD 01 02 03 04 05 06 07 08  20 01 00 00 00 00 00 2A`),
  );
  assert.deepEqual(errors, []);
  assert.deepEqual(commands, [
    {
      type: "unknown",
      unknown: true,
      code: 0x77,
      header: 0x7702abcd,
      offset: 4,
    },
    { type: "ping", id: 42, header: 0x20010000, offset: 16 },
  ]);
  // The session's answer echoes that header.
  assert.deepEqual(
    encodeDatagram([{
      type: "nak",
      reason: NakReason.CommandNotSupported,
      refusedHeader: commands[0].header,
      text: "",
    }]),
    hex(`${SIG} 8F 01 01 00 77 02 AB CD`),
  );
});

Deno.test("decodeDatagram returns a known command with a bad layout as malformed, and reads the rest", () => {
  const { commands, errors } = decodeDatagram(
    // A ping with no id, then an invitation whose name runs past its payload.
    hex(`${SIG} 20 00 00 00  01 01 05 00 41 42 43 44  F1 00 00 00`),
  );
  assert.deepEqual(commands.map((c) => [c.type, c.header]), [
    ["malformed", 0x20000000],
    ["malformed", 0x01010500],
    ["bye_reply", 0xf1000000],
  ]);
  assert.deepEqual(errors, [
    "Ping (0x20) at offset 4: no ping id in the payload",
    "Invitation (0x01) at offset 8: the name's 5 words run past the payload's 1",
  ]);
});

Deno.test("decodeDatagram reads amidi2net's NAK (code 0x7F) as a NAK, so that no NAK answers it", () => {
  const { commands } = decodeDatagram(hex(`${SIG} 7F 01 02 00 FF 01 00 03`));
  assert.deepEqual(commands, [{
    type: "nak",
    reason: NakReason.CommandNotExpected,
    refusedHeader: 0xff010003,
    text: "",
    header: 0x7f010200,
    offset: 4,
  }]);
});

Deno.test("reasonName names a code of a reason table", () => {
  assert.equal(reasonName(ByeReason, 0x04), "Timeout (0x04)");
  assert.equal(
    reasonName(NakReason, 0x01),
    "CommandNotSupported (0x01)",
  );
  assert.equal(reasonName(ByeReason, 0x99), "reason 0x99");
});

Deno.test("decodeDatagram reads names that end with a NUL, as amidi2net sends them", () => {
  // amidi2net counts a terminator: "Deno" takes 2 words.
  const { commands } = decodeDatagram(
    hex(`${SIG} 01 03 02 00 44 65 6E 6F 00 00 00 00 70 69 00 00`),
  );
  assert.deepEqual(commands[0], {
    type: "invitation",
    name: "Deno",
    productInstanceId: "pi",
    capabilities: 0,
    header: 0x01030200,
    offset: 4,
  });
});

Deno.test("encodeDatagram refuses a datagram over 1,400 bytes, naming its size", () => {
  const words = new Array(64).fill(0x20903c64);
  const five = Array.from(
    { length: 5 },
    (_, i) => ({ type: "ump_data", sequence: i, words }) as Midi2Command,
  );
  assert.equal(encodeDatagram(five).length, 4 + 5 * 260);
  assert.throws(
    () => encodeDatagram([...five, { type: "ump_data", sequence: 5, words }]),
    {
      name: "RangeError",
      message:
        `A Network MIDI 2.0 datagram must be at most ${MAX_DATAGRAM_BYTES} bytes, got 1564 (6 commands)`,
    },
  );
});

Deno.test("encodeCommand names the command and field of a bad value", () => {
  assert.throws(() => encodeCommand({ type: "ping", id: -1 }), {
    name: "RangeError",
    message: "ping id must be an integer in 0..4294967295, got -1",
  });
  assert.throws(
    () =>
      encodeCommand({
        type: "invitation",
        name: "x".repeat(99),
        productInstanceId: "",
        capabilities: 0,
      }),
    { message: "invitation name must be at most 98 bytes, got 99" },
  );
  assert.throws(
    () =>
      encodeCommand({
        type: "invitation",
        name: "n",
        productInstanceId: "",
        capabilities: 0,
      }),
    { message: "invitation productInstanceId must not be empty" },
  );
  assert.throws(
    () =>
      encodeCommand({
        type: "ump_data",
        sequence: 0,
        words: new Array(65).fill(0),
      }),
    { message: "ump_data words must be at most 64, got 65" },
  );
  assert.throws(
    () =>
      encodeCommand({
        type: "invitation_with_auth",
        digest: new Uint8Array(31),
      }),
    { message: "invitation_with_auth digest must be 32 bytes, got 31" },
  );
  assert.throws(
    () =>
      encodeCommand({
        type: "ump_data",
        sequence: 0x10000,
        words: [],
      }),
    { message: "ump_data sequence must be an integer in 0..65535, got 65536" },
  );
  assert.throws(
    () =>
      encodeCommand({
        type: "invitation",
        name: "n",
        productInstanceId: "é",
        capabilities: 0,
      }),
    { message: 'invitation productInstanceId must be ASCII, got "é"' },
  );
});

Deno.test("randomNonce gives 16 printable ASCII bytes, different each time", () => {
  const a = randomNonce(), b = randomNonce();
  assert.equal(a.length, 16);
  assert.ok(a.every((byte) => byte >= 0x21 && byte <= 0x7e));
  assert.notDeepEqual(a, b);
  assert.ok(digestsEqual(a, a.slice()));
  assert.ok(!digestsEqual(a, b));
  assert.ok(!digestsEqual(a, a.subarray(1)));
});

const ROUND_TRIP = new Set([
  "ping",
  "ping_reply",
  "ump_data",
  "retransmit_request",
  "session_reset",
  "session_reset_reply",
  "bye_reply",
]);

Deno.test("decodeDatagram never throws on random, mutated and truncated datagrams (seeded fuzz)", () => {
  const seed = testSeed();
  const rng = new Random(seed);
  const valid = VECTORS.map(([, , bytes]) => hex(bytes));
  const codes = [
    0x01,
    0x02,
    0x03,
    0x10,
    0x11,
    0x12,
    0x13,
    0x20,
    0x21,
    0x80,
    0x81,
    0x82,
    0x83,
    0x8f,
    0xf0,
    0xf1,
    0xff,
    0x7f,
    0x00,
    0x55,
  ];
  let commands = 0, errors = 0;
  for (let round = 0; round < 3000; round++) {
    let bytes: Uint8Array;
    const roll = rng.next();
    if (roll < 0.2) {
      bytes = rng.bytes(rng.int(0, 64));
    } else if (roll < 0.6) {
      // Signature, then random headers with lengths that may lie.
      const parts: number[] = [0x4d, 0x49, 0x44, 0x49];
      for (let n = rng.int(0, 6); n > 0; n--) {
        const words = rng.int(0, 12);
        parts.push(rng.pick(codes), rng.chance(0.2) ? rng.int(0, 255) : words);
        parts.push(rng.int(0, 255), rng.int(0, 255));
        for (const b of rng.bytes(words * 4)) parts.push(b);
      }
      bytes = new Uint8Array(parts);
      if (rng.chance(0.3)) bytes = bytes.subarray(0, rng.int(0, bytes.length));
    } else {
      // A valid datagram with a few bytes flipped or cut.
      bytes = rng.pick(valid).slice();
      for (let n = rng.int(1, 3); n > 0; n--) {
        bytes[rng.int(4, bytes.length - 1)] = rng.int(0, 255);
      }
      if (rng.chance(0.3)) bytes = bytes.subarray(0, rng.int(0, bytes.length));
    }
    const result = decodeDatagram(bytes);
    assert.ok(
      result.commands.length <= Math.max(0, (bytes.length - 4) / 4),
      `seed ${seed}: more commands than headers`,
    );
    for (const error of result.errors) {
      assert.match(error, /offset \d+|bytes is too short/, `seed ${seed}`);
    }
    for (const command of result.commands) {
      assert.ok(command.offset + 4 <= bytes.length, `seed ${seed}`);
      // The commands of numbers only encode again to the same header.
      if (ROUND_TRIP.has(command.type)) {
        const again = encodeCommand(command as Midi2Command);
        assert.equal(again[0], command.header >>> 24, `seed ${seed}`);
        if (
          command.type === "ump_data" || command.type === "retransmit_request"
        ) {
          // The sequence number is the two command-specific bytes.
          assert.equal(again[2] << 8 | again[3], command.header & 0xffff);
        }
      }
    }
    commands += result.commands.length;
    errors += result.errors.length;
  }
  assert.ok(
    commands > 1000 && errors > 500,
    `seed ${seed}: ${commands} ${errors}`,
  );
});

Deno.test("hasCommand finds a code from the headers exactly where decodeDatagram finds a command of it (seeded fuzz)", () => {
  const seed = testSeed();
  const rng = new Random(seed);
  const valid = VECTORS.map(([, , bytes]) => hex(bytes));
  for (let round = 0; round < 2000; round++) {
    let bytes: Uint8Array;
    if (rng.chance(0.5)) {
      const parts: number[] = [0x4d, 0x49, 0x44, 0x49];
      for (let n = rng.int(0, 6); n > 0; n--) {
        const words = rng.int(0, 8);
        parts.push(rng.pick([0x01, 0x20, 0xff, 0xf0]));
        parts.push(rng.chance(0.2) ? rng.int(0, 255) : words);
        parts.push(rng.int(0, 255), rng.int(0, 255));
        for (const b of rng.bytes(words * 4)) parts.push(b);
      }
      bytes = new Uint8Array(parts);
    } else {
      bytes = rng.pick(valid).slice();
      bytes[rng.int(0, bytes.length - 1)] = rng.int(0, 255);
    }
    if (rng.chance(0.3)) bytes = bytes.subarray(0, rng.int(0, bytes.length));
    const { commands } = decodeDatagram(bytes);
    for (const code of [0x01, 0x20, 0xff]) {
      assert.equal(
        hasCommand(bytes, code),
        commands.some((c) => c.header >>> 24 === code),
        `seed ${seed}, code ${code}`,
      );
    }
  }
});
