// Copyright 2026 the midisock authors. MIT license.
// The device module: name matching and DevicePort over devices in memory
// (everywhere), then the real thing through RtMidi on a JACK server in user
// space (see tests/_jack.ts).

import assert from "node:assert/strict";
import { connect, encode, type Message, message, PortServer } from "../mod.ts";
import {
  bridge,
  DevicePort,
  listInputs,
  listOutputs,
  type MidiDevice,
  openInput,
  openOutput,
  releaseOnDisconnect,
} from "../src/device/mod.ts";
import { matchPort } from "../src/device/_match.ts";
import { DENO } from "./_child.ts";
import { IGNORE_JACK, Jack, jackConnect, MidiDump, MidiSeq } from "./_jack.ts";

const TIMEOUT = 10_000;

/** A device in memory: what was sent, and a function to play into it. */
function memoryDevice(name = "memory") {
  const sent: number[][] = [];
  let receive: ((bytes: Uint8Array) => void) | undefined;
  let closed = 0;
  let changed = Promise.withResolvers<void>();
  const device: MidiDevice = {
    name,
    listen: (r) => (receive = r),
    send: (bytes) => {
      sent.push([...bytes]);
      changed.resolve();
      changed = Promise.withResolvers<void>();
    },
    close: () => closed++,
  };
  return {
    device,
    sent,
    play: (...bytes: number[]) => receive!(new Uint8Array(bytes)),
    /** Waits (at most TIMEOUT) until `count` messages were sent. */
    async waitForSent(count: number): Promise<void> {
      const signal = AbortSignal.timeout(TIMEOUT);
      const timedOut = new Promise<never>((_, reject) =>
        signal.addEventListener("abort", () => reject(signal.reason), {
          once: true,
        })
      );
      timedOut.catch(() => {});
      // Each turn waits for one more send; the timeout bounds the turns.
      while (sent.length < count) {
        await Promise.race([changed.promise, timedOut]);
      }
    },
    get closed() {
      return closed;
    },
  };
}

Deno.test("The core module does not import the device module, and the CLI downloads it only for a device", async () => {
  const graph = async (path: string) => {
    const { code, stdout } = await new Deno.Command(DENO, {
      args: ["info", "--json", new URL(path, import.meta.url).pathname],
      stdout: "piped",
      stderr: "null",
    }).output();
    assert.equal(code, 0);
    const info = JSON.parse(new TextDecoder().decode(stdout)) as {
      modules: { specifier: string; dependencies?: { specifier: string }[] }[];
    };
    return info.modules.flatMap((m) => [
      m.specifier,
      ...(m.dependencies ?? []).map((d) => d.specifier),
    ]);
  };
  const device = (s: string) =>
    s.includes("/src/device/") || s.includes("@julusian/midi");
  assert.deepEqual((await graph("../mod.ts")).filter(device), []);
  // The CLI imports it by a specifier that Deno does not follow ahead of
  // time: run without a device, in a cache of its own, it downloads nothing
  // (and would say "Download ..." on stderr if it did; from a registry on
  // loopback that answers nothing, so no test reaches the network).
  const cache = await Deno.makeTempDir({ prefix: "midisock-deno-dir-" });
  try {
    const cli = new URL("../src/cli/main.ts", import.meta.url).pathname;
    const { code, stderr } = await new Deno.Command(DENO, {
      args: ["run", "--allow-net", "--allow-read", "--allow-env", cli, "-V"],
      env: {
        DENO_DIR: cache,
        NPM_CONFIG_REGISTRY: "http://127.0.0.1:9/",
        NO_COLOR: "1",
      },
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(code, 0);
    assert.equal(new TextDecoder().decode(stderr), "");
  } finally {
    await Deno.remove(cache, { recursive: true });
  }
  // The device module's has both: the test can fail.
  assert.ok((await graph("../src/device/mod.ts")).some(device));
});

Deno.test("matchPort takes the exact name first, then a unique piece of a name in any case", () => {
  const names = ["Synth A", "Synth AB", "Keys:port 1", "keys:Port 2"];
  assert.equal(matchPort(names, "Synth A", "output"), 0);
  assert.equal(matchPort(names, "synth ab", "output"), 1);
  assert.equal(matchPort(names, "PORT 2", "output"), 3);
  assert.equal(matchPort(names, "b", "output"), 1);
});

Deno.test("matchPort names the ports there are for an unknown or ambiguous name", () => {
  const names = ["Synth A", "Synth B"];
  assert.throws(() => matchPort(names, "piano", "output"), {
    name: "RangeError",
    message:
      'No MIDI output matches "piano": the MIDI outputs are "Synth A", "Synth B"',
  });
  assert.throws(() => matchPort(names, "SYNTH", "output"), {
    name: "RangeError",
    message:
      'MIDI output name "SYNTH" is ambiguous: it matches "Synth A", "Synth B"; give more of the name (the MIDI outputs are "Synth A", "Synth B")',
  });
  assert.throws(() => matchPort([], "keys", "input"), {
    name: "RangeError",
    message: 'No MIDI input matches "keys": there are no MIDI inputs',
  });
  assert.throws(() => matchPort(names, "", "input"), {
    name: "TypeError",
    message: 'Invalid MIDI input name: expected a non-empty string, got ""',
  });
});

Deno.test("DevicePort parses input as the network does: running status, real-time bytes inside a message, sysex in pieces", async () => {
  const mem = memoryDevice();
  await using port = new DevicePort(mem.device);
  mem.play(0x91, 60, 100, 62); // running status: the next byte ends it
  mem.play(0xf8, 90); // a clock inside the second note
  mem.play(0xf0, 1, 2);
  mem.play(3, 0xf7);
  mem.play(0x30, 0xf9); // a data byte with no status, an undefined byte
  const got: Message[] = [];
  for (let i = 0; i < 4; i++) got.push(await port.receive());
  assert.deepEqual(got, [
    message("note_on", { channel: 1, note: 60, velocity: 100 }),
    message("clock"),
    message("note_on", { channel: 1, note: 62, velocity: 90 }),
    message("sysex", { data: new Uint8Array([1, 2, 3]) }),
  ]);
  assert.equal(port.poll(), undefined);
  assert.equal(port.stats.messages, 4);
  assert.equal(port.stats.skippedBytes, 2);
});

Deno.test("DevicePort reports bytes that made no message with a drop event", async () => {
  const mem = memoryDevice("keys");
  await using port = new DevicePort(mem.device);
  const drops: [string, number, number][] = [];
  port.addEventListener("drop", (event) => {
    drops.push([event.port.name, event.skippedBytes, event.discardedMessages]);
  });
  mem.play(0x90, 60, 0x80, 60, 0); // a note_on cut short by a note_off
  assert.deepEqual(
    await port.receive(),
    message("note_off", { note: 60, velocity: 0 }),
  );
  assert.deepEqual(drops, [["keys", 2, 1]]);
});

Deno.test("DevicePort sends each message's bytes, as encode() makes them, one message a call", async () => {
  const mem = memoryDevice();
  await using port = new DevicePort(mem.device);
  const messages = [
    message("note_on", { channel: 2, note: 60, velocity: 100 }),
    message("sysex", { data: new Uint8Array([0x7e, 1, 2]) }),
    message("pitchwheel", { pitch: -8192 }),
    message("clock"),
  ];
  for (const msg of messages) await port.send(msg);
  await ReadableStream.from([message("stop")]).pipeTo(port.writable, {
    preventClose: true,
  });
  assert.deepEqual(mem.sent, [
    ...messages.map((msg) => [...encode(msg)]),
    [0xfc],
  ]);
  assert.equal(port.stats.sent, 5);
});

Deno.test("DevicePort checks a message before it sends, and a longer one than the device takes is a RangeError", async () => {
  const mem = memoryDevice();
  await using port = new DevicePort(mem.device, { maxMessageBytes: 8 });
  await assert.rejects(
    port.send(message("sysex", { data: new Uint8Array(7) })),
    {
      name: "RangeError",
      message:
        'Cannot send sysex of 9 bytes to MIDI device port "memory": it takes at most 8 bytes a message',
    },
  );
  await assert.rejects(
    port.send({ type: "note_on", note: 128 } as unknown as Message),
    { name: "RangeError" },
  );
  assert.deepEqual(mem.sent, []);
  assert.equal(port.stats.sent, 0);
});

Deno.test("DevicePort of an input cannot send, and of an output cannot receive", async () => {
  await using input = new DevicePort({ name: "keys", listen() {}, close() {} });
  await using output = new DevicePort({ name: "synth", send() {}, close() {} });
  await assert.rejects(input.send(message("start")), {
    name: "TypeError",
    message: 'Cannot send to MIDI device port "keys": it is an input',
  });
  await assert.rejects(output.receive(), {
    name: "TypeError",
    message: 'Cannot receive from MIDI device port "synth": it is an output',
  });
  assert.throws(() => output.readable, { name: "TypeError" });
  assert.throws(() => new DevicePort({ name: "x", close() {} }), {
    name: "TypeError",
    message:
      'Cannot make a port of MIDI device "x": it has neither listen() nor send()',
  });
});

Deno.test("DevicePort release() ends the notes and pedals it left on, and close() does it first", async () => {
  const mem = memoryDevice();
  const port = new DevicePort(mem.device);
  await port.send(message("note_on", { channel: 0, note: 60, velocity: 100 }));
  await port.send(message("note_on", { channel: 0, note: 64, velocity: 100 }));
  await port.send(message("note_off", { channel: 0, note: 60 }));
  await port.send(message("note_on", { channel: 9, note: 36, velocity: 100 }));
  await port.send(
    message("control_change", { channel: 3, control: 64, value: 127 }),
  );
  assert.equal(port.stats.heldNotes, 2);
  mem.sent.length = 0;
  assert.deepEqual(await port.release(), [
    message("note_off", { channel: 0, note: 64 }),
    message("note_off", { channel: 9, note: 36 }),
    message("control_change", { channel: 3, control: 64, value: 0 }),
  ]);
  assert.deepEqual(mem.sent, [[0x80, 64, 64], [0x89, 36, 64], [0xb3, 64, 0]]);
  await port.send(message("note_on", { note: 70, velocity: 1 }));
  mem.sent.length = 0;
  await port.close();
  assert.deepEqual(mem.sent, [[0x80, 70, 64]]);
  assert.equal(mem.closed, 1);
  assert.deepEqual(await port.release(), []);
});

Deno.test("DevicePort with releaseOnClose false leaves its notes alone", async () => {
  const mem = memoryDevice();
  const port = new DevicePort(mem.device, { releaseOnClose: false });
  await port.send(message("note_on", { note: 60 }));
  await port.close();
  assert.deepEqual(mem.sent, [[0x90, 60, 64]]);
});

Deno.test("DevicePort drops what arrives while its inbox is full, and counts it with an overflow event", async () => {
  const mem = memoryDevice("keys");
  await using port = new DevicePort(mem.device, { maxInboxBytes: 6 });
  let overflows = 0;
  port.addEventListener("overflow", () => overflows++);
  for (let note = 0; note < 5; note++) mem.play(0x90, note, 1);
  assert.equal(port.stats.overflowedMessages, 3);
  assert.equal(overflows, 3);
  assert.deepEqual([...port.iterPending()], [
    message("note_on", { note: 0, velocity: 1 }),
    message("note_on", { note: 1, velocity: 1 }),
  ]);
  mem.play(0x90, 9, 1); // there is room again
  assert.deepEqual(port.poll(), message("note_on", { note: 9, velocity: 1 }));
});

Deno.test("DevicePort ends its iteration and its readable when it closes", async () => {
  const mem = memoryDevice();
  const port = new DevicePort(mem.device);
  mem.play(0xfa);
  const reading = Array.fromAsync(port.readable);
  await port.close();
  assert.deepEqual(await reading, [message("start")]);
  await assert.rejects(port.send(message("start")), {
    name: "PortClosedError",
  });
});

Deno.test("releaseOnDisconnect releases an output's notes when the server of its client goes away", async () => {
  const mem = memoryDevice("synth");
  await using synth = new DevicePort(mem.device);
  const server = new PortServer("127.0.0.1", 0);
  await using client = await connect("127.0.0.1", server.port);
  using _release = releaseOnDisconnect(client, synth);
  await server.send(message("note_on", { note: 60, velocity: 100 }));
  await server.send(message("control_change", { control: 64, value: 100 }));
  await synth.send(await client.receive());
  await synth.send(await client.receive());
  const gone = new Promise((resolve) =>
    client.addEventListener("close", resolve)
  );
  await server.close();
  await gone;
  assert.deepEqual(mem.sent, [
    [0x90, 60, 100],
    [0xb0, 64, 100],
    [0x80, 60, 64],
    [0xb0, 64, 0],
  ]);
  assert.equal(synth.closed, false);
});

Deno.test("releaseOnDisconnect releases on a close event only, and no more once disposed", async () => {
  const mem = memoryDevice("synth");
  await using synth = new DevicePort(mem.device);
  const port = new EventTarget();
  const release = releaseOnDisconnect(port, synth);
  await synth.send(message("note_on", { note: 60 }));
  // A port that reconnects releases for its readers itself: not twice.
  port.dispatchEvent(new Event("disconnect"));
  await Promise.resolve();
  assert.deepEqual(mem.sent, [[0x90, 60, 64]]);
  port.dispatchEvent(new Event("close"));
  await Promise.resolve();
  assert.deepEqual(mem.sent, [[0x90, 60, 64], [0x80, 60, 64]]);
  release[Symbol.dispose]();
  await synth.send(message("note_on", { note: 61 }));
  port.dispatchEvent(new Event("close"));
  await Promise.resolve();
  assert.equal(mem.sent.length, 3);
});

Deno.test("bridge plays inputs into a port and the port on outputs, until the signal stops it, and leaves them open", async () => {
  const keys = memoryDevice("keys");
  const synth = memoryDevice("synth");
  await using keyboard = new DevicePort(keys.device);
  await using output = new DevicePort(synth.device);
  await using server = new PortServer("127.0.0.1", 0);
  await using client = await connect("127.0.0.1", server.port);
  const stop = new AbortController();
  const bridged = bridge(client, {
    inputs: [keyboard],
    outputs: [output],
    signal: stop.signal,
  });
  keys.play(0xb0, 7, 100, 0x90, 60, 100); // two messages in one call
  assert.deepEqual(
    await server.receive(),
    message("control_change", { control: 7, value: 100 }),
  );
  assert.deepEqual(
    await server.receive(),
    message("note_on", { note: 60, velocity: 100 }),
  );
  await server.send(message("note_on", { note: 72, velocity: 1 }));
  await server.send(message("stop"));
  await synth.waitForSent(2);
  stop.abort();
  await bridged;
  assert.deepEqual(synth.sent, [[0x90, 72, 1], [0xfc]]);
  assert.equal(client.closed, false);
  assert.equal(keyboard.closed, false);
  assert.equal(output.stats.heldNotes, 1); // released when it closes
});

Deno.test("bridge hands an output's failure to onOutputError and goes on, or ends with it without one", async () => {
  const synth = memoryDevice("synth");
  await using output = new DevicePort(synth.device, { maxMessageBytes: 4 });
  const server = new PortServer("127.0.0.1", 0);
  try {
    await using client = await connect("127.0.0.1", server.port);
    const errors: string[] = [];
    const bridged = bridge(client, {
      outputs: [output],
      onOutputError: (error, port, msg) =>
        errors.push(`${port.name} ${msg.type} ${(error as Error).name}`),
    });
    await server.send(message("sysex", { data: new Uint8Array(10) }));
    await server.send(message("start"));
    await server.close();
    await bridged;
    assert.deepEqual(errors, ["synth sysex RangeError"]);
    assert.deepEqual(synth.sent, [[0xfa]]);
  } finally {
    await server.close();
  }
  await using server2 = new PortServer("127.0.0.1", 0);
  await using client2 = await connect("127.0.0.1", server2.port);
  const bridged2 = bridge(client2, { outputs: [output] });
  await server2.send(message("sysex", { data: new Uint8Array(10) }));
  await assert.rejects(bridged2, {
    name: "RangeError",
    message:
      'Cannot send sysex of 12 bytes to MIDI device port "synth": it takes at most 4 bytes a message',
  });
});

// On JACK.

/** Receives `count` messages from a port, with a time limit. */
async function receiveN(port: DevicePort, count: number): Promise<Message[]> {
  const got: Message[] = [];
  const signal = AbortSignal.timeout(TIMEOUT);
  while (got.length < count) got.push(await port.receive({ signal }));
  return got;
}

Deno.test({
  name:
    "On JACK, virtual ports are listed for the other side, and a name matches exactly or as a unique piece, or fails with the list",
  ignore: IGNORE_JACK,
  fn: async () => {
    await using _jack = await Jack.start();
    assert.deepEqual(await listInputs(), []);
    assert.deepEqual(await listOutputs(), []);
    await using _out1 = await openOutput("midisock-vout-1", { virtual: true });
    await using _out2 = await openOutput("midisock-vout-2", { virtual: true });
    await using _in = await openInput("midisock-vin", { virtual: true });
    const inputs = await listInputs();
    assert.deepEqual(inputs, [
      "RtMidi Output Client:midisock-vout-1",
      "RtMidi Output Client-01:midisock-vout-2",
    ]);
    assert.deepEqual(await listOutputs(), ["RtMidi Input Client:midisock-vin"]);
    await assert.rejects(openInput("midisock-vout"), {
      name: "RangeError",
      message:
        'MIDI input name "midisock-vout" is ambiguous: it matches "RtMidi Output Client:midisock-vout-1", "RtMidi Output Client-01:midisock-vout-2"; give more of the name (the MIDI inputs are "RtMidi Output Client:midisock-vout-1", "RtMidi Output Client-01:midisock-vout-2")',
    });
    await assert.rejects(openOutput("fluidsynth"), {
      name: "RangeError",
      message:
        'No MIDI output matches "fluidsynth": the MIDI outputs are "RtMidi Input Client:midisock-vin"',
    });
    await using input = await openInput("MIDISOCK-VOUT-2");
    assert.equal(input.name, "RtMidi Output Client-01:midisock-vout-2");
  },
});

Deno.test({
  name:
    "On JACK, a virtual output plays exactly its messages, sysex included, into jack_midi_dump",
  ignore: IGNORE_JACK,
  fn: async () => {
    await using _jack = await Jack.start();
    await using dump = await MidiDump.start("synth");
    const output = await openOutput("midisock-out", { virtual: true });
    await jackConnect("RtMidi Output Client:midisock-out", dump.port);
    const messages = [
      message("program_change", { channel: 3, program: 40 }),
      message("note_on", { channel: 3, note: 60, velocity: 100 }),
      message("sysex", {
        data: Uint8Array.from({ length: 300 }, (_, i) => i % 128),
      }),
      message("pitchwheel", { channel: 3, pitch: 8191 }),
      message("clock"),
      message("note_off", { channel: 3, note: 60, velocity: 0 }),
    ];
    for (const msg of messages) await output.send(msg);
    assert.deepEqual(
      await dump.waitForEvents(messages.length),
      messages.map((msg) => [...encode(msg)]),
    );
    await output.close(); // nothing held: no release
    assert.equal(output.stats.sent, messages.length);
  },
});

Deno.test({
  name:
    "On JACK, an output opened by name plays into jack_midi_dump, and closing it ends the notes it held",
  ignore: IGNORE_JACK,
  fn: async () => {
    await using _jack = await Jack.start();
    await using dump = await MidiDump.start("synth");
    const output = await openOutput("synth");
    assert.equal(output.name, "synth:input");
    await output.send(message("note_on", { note: 60, velocity: 100 }));
    await output.send(message("note_on", { note: 67, velocity: 100 }));
    await output.send(message("control_change", { control: 64, value: 127 }));
    await dump.waitForEvents(3);
    await output.close();
    assert.deepEqual(await dump.waitForEvents(6), [
      [0x90, 60, 100],
      [0x90, 67, 100],
      [0xb0, 64, 127],
      [0x80, 60, 64],
      [0x80, 67, 64],
      [0xb0, 64, 0],
    ]);
  },
});

/** jack_midiseq's loop, from its first note: 60 then 63, on and off. */
const SEQUENCE = [
  message("note_on", { note: 60, velocity: 64 }),
  message("note_off", { note: 60, velocity: 64 }),
  message("note_on", { note: 63, velocity: 64 }),
  message("note_off", { note: 63, velocity: 64 }),
];

/** Drops messages until the loop's first note_on 60. */
function fromLoopStart(messages: Message[]): Message[] {
  const start = messages.findIndex((msg) =>
    msg.type === "note_on" && msg.note === 60
  );
  assert.ok(start >= 0, `no note_on 60 in ${JSON.stringify(messages)}`);
  return messages.slice(start);
}

Deno.test({
  name:
    "On JACK, an input opened by name receives exactly what jack_midiseq plays",
  ignore: IGNORE_JACK,
  fn: async () => {
    await using _jack = await Jack.start();
    await using _seq = await MidiSeq.start("keyboard");
    await using input = await openInput("keyboard");
    assert.equal(input.name, "keyboard:out");
    // Two loops, from wherever the loop was when the port opened.
    const got = fromLoopStart(await receiveN(input, 11)).slice(0, 8);
    assert.deepEqual(got, [...SEQUENCE, ...SEQUENCE]);
    assert.equal(input.stats.skippedBytes, 0);
  },
});

Deno.test({
  name: "On JACK, a virtual input receives what another program connects to it",
  ignore: IGNORE_JACK,
  fn: async () => {
    await using _jack = await Jack.start();
    await using input = await openInput("midisock-in", { virtual: true });
    await using seq = await MidiSeq.start("keyboard");
    await jackConnect(seq.port, "RtMidi Input Client:midisock-in");
    const got = fromLoopStart(await receiveN(input, 7)).slice(0, 4);
    assert.deepEqual(got, SEQUENCE);
  },
});
