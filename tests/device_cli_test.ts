// Copyright 2026 the midisock authors. MIT license.
// The command-line program with MIDI devices, end to end on a JACK server in
// user space (see tests/_jack.ts): `midisock ports`, `serve --out` and
// `--virtual`, and `connect --in`, `--out` and `--virtual`, with Python
// mido clients on the network side and JACK's example clients as a keyboard
// (jack_midiseq) and a synth (jack_midi_dump).

import assert from "node:assert/strict";
import {
  connect,
  encode,
  formatMessage,
  type Message,
  message,
  parseMessage,
  PortServer,
} from "../mod.ts";
import { Child, runMidisock } from "./_child.ts";
import {
  IGNORE_JACK,
  Jack,
  jackConnect,
  MidiDump,
  MidiSeq,
  midisockWithDevices,
  waitForPort,
} from "./_jack.ts";
import { PYTHON } from "./_mido.ts";
import { ignoreWithout, MIDO } from "./_peers.ts";
import { openOutput } from "../src/device/mod.ts";

const PEER = new URL("./fixtures/py_net_peer.py", import.meta.url).pathname;
const TIMEOUT = 10_000;

/** jack_midiseq's loop, from its first note: 60 then 63, on and off. */
const LOOP = [
  "note_on channel=0 note=60 velocity=64 time=0",
  "note_off channel=0 note=60 velocity=64 time=0",
  "note_on channel=0 note=63 velocity=64 time=0",
  "note_off channel=0 note=63 velocity=64 time=0",
];

/** The lines from the loop's first note_on 60 on. */
function fromLoopStart(lines: readonly string[]): string[] {
  const start = lines.indexOf(LOOP[0]);
  assert.ok(start >= 0, `no ${LOOP[0]} in ${JSON.stringify(lines)}`);
  return lines.slice(start);
}

/** Runs `midisock serve ARGS... 127.0.0.1:0` and waits for its port. */
async function startServe(args: string[]) {
  const serve = midisockWithDevices(["serve", "127.0.0.1:0", ...args]);
  try {
    const [, port] = await serve.waitForMatch(
      "stderr",
      /^midisock: listening on 127\.0\.0\.1:(\d+)$/,
    );
    return { serve, port: Number(port) };
  } catch (error) {
    await serve[Symbol.asyncDispose]();
    throw error;
  }
}

/** Receives `count` messages from a server, with a time limit. */
async function receiveN(server: PortServer, count: number): Promise<Message[]> {
  const got: Message[] = [];
  const signal = AbortSignal.timeout(TIMEOUT);
  while (got.length < count) got.push(await server.receive({ signal }));
  return got;
}

Deno.test("midisock ports and connect: --help, and usage errors before any MIDI port is opened", async () => {
  const ports = await runMidisock(["ports", "--help"]);
  assert.equal(ports.code, 0);
  assert.match(ports.stdout, /^Usage: midisock ports \[--json\]\n/);
  const help = await runMidisock(["connect", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: midisock connect HOST:PORT \[--in NAME\]/);
  assert.match(help.stdout, /--virtual NAME/);
  const serve = await runMidisock(["serve", "--help"]);
  assert.match(serve.stdout, /--out NAME {9}Play every message/);

  const none = await runMidisock(["connect", "127.0.0.1:9"]);
  assert.equal(none.code, 2);
  assert.equal(
    none.stderr,
    "midisock: error: connect needs a MIDI port: --in NAME, --out NAME or --virtual NAME (see midisock connect --help)\n",
  );
  const noAddress = await runMidisock(["connect", "--in", "keys"]);
  assert.equal(noAddress.code, 2);
  assert.match(noAddress.stderr, /connect needs an address/);
  const extra = await runMidisock(["ports", "all"]);
  assert.equal(extra.code, 2);
  assert.equal(
    extra.stderr,
    'midisock: error: ports takes no arguments, got "all" (see midisock ports --help)\n',
  );
  const unknown = await runMidisock(["connect", "127.0.0.1:9", "--inn", "x"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /Unknown option '--inn' for connect/);
});

Deno.test("midisock ports without --allow-ffi says which permission is missing", async () => {
  const result = await runMidisock(["ports"]); // --allow-net --allow-read --allow-env
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /^midisock: error: Cannot load RtMidi: Requires ffi access to "[^"]+\.node", run again with the --allow-ffi flag; MIDI ports need --allow-ffi --allow-read --allow-env \(see docs\/devices\.md\)\n$/,
  );
});

Deno.test({
  name: "midisock ports lists JACK's inputs and outputs, as text and as JSON",
  ignore: IGNORE_JACK,
  fn: async () => {
    await using _jack = await Jack.start();
    {
      await using ports = midisockWithDevices(["ports"]);
      const { code, stdout } = await ports.result();
      assert.equal(code, 0);
      assert.equal(stdout, "Inputs:\n  (none)\nOutputs:\n  (none)\n");
    }
    await using _dump = await MidiDump.start("synth");
    await using _seq = await MidiSeq.start("keyboard");
    {
      await using ports = midisockWithDevices(["ports"]);
      const { code, stdout } = await ports.result();
      assert.equal(code, 0);
      assert.equal(
        stdout,
        "Inputs:\n  keyboard:out\nOutputs:\n  synth:input\n",
      );
    }
    await using ports = midisockWithDevices(["ports", "--json"]);
    const { code, stdout } = await ports.result();
    assert.equal(code, 0);
    assert.deepEqual(JSON.parse(stdout), {
      inputs: ["keyboard:out"],
      outputs: ["synth:input"],
    });
  },
});

Deno.test({
  name:
    "midisock serve and connect fail with the list of ports for a name that matches none, or several",
  ignore: IGNORE_JACK,
  fn: async () => {
    await using _jack = await Jack.start();
    await using _dump1 = await MidiDump.start("synth-1");
    await using _dump2 = await MidiDump.start("synth-2");
    await using serve = midisockWithDevices([
      "serve",
      "127.0.0.1:0",
      "--out",
      "synth",
    ]);
    const served = await serve.result();
    assert.equal(served.code, 1);
    assert.equal(
      served.stderr,
      'midisock: error: MIDI output name "synth" is ambiguous: it matches "synth-1:input", "synth-2:input"; give more of the name (the MIDI outputs are "synth-1:input", "synth-2:input")\n',
    );
    await using server = new PortServer("127.0.0.1", 0);
    await using link = midisockWithDevices([
      "connect",
      `127.0.0.1:${server.port}`,
      "--out",
      "synth-1",
      "--in",
      "keys",
    ]);
    const linked = await link.result();
    assert.equal(linked.code, 1);
    assert.equal(
      linked.stderr,
      'midisock: error: No MIDI input matches "keys": there are no MIDI inputs\n',
    );
    assert.equal(server.ports.length, 0); // it never connected

    // A refused connection, after the output opened: exit 1, and it says so.
    const free = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const closed = free.addr.port;
    free.close();
    await using refused = midisockWithDevices([
      "connect",
      `127.0.0.1:${closed}`,
      "--out",
      "synth-1",
    ]);
    assert.deepEqual(await refused.result(), {
      code: 1,
      signal: null,
      stdout: "",
      stderr:
        `midisock: error: Cannot connect to 127.0.0.1:${closed}: connection refused\n`,
    });
  },
});

Deno.test({
  name:
    "midisock serve --out and --virtual play exactly what a Python mido client sends, sysex included, on jack_midi_dump",
  ignore: ignoreWithout(MIDO) || IGNORE_JACK,
  fn: async () => {
    await using _jack = await Jack.start();
    await using synth = await MidiDump.start("synth");
    await using listener = await MidiDump.start("listener");
    const { serve, port } = await startServe([
      "--out",
      "SYNTH",
      "--virtual",
      "midisock-bus",
    ]);
    await using _serve = serve;
    await serve.waitForMatch(
      "stderr",
      /^midisock: playing the bus on "synth:input", "midisock-bus"$/,
    );
    await jackConnect(await waitForPort("midisock-bus"), listener.port);

    // 18 messages, one of each type (reset, sysex and the rest), then more.
    const count = 40;
    await using peer = new Child(PYTHON, [
      PEER,
      "send",
      "127.0.0.1",
      String(port),
      "11",
      String(count),
    ]);
    const sent = await peer.result();
    assert.equal(sent.code, 0, sent.stderr);
    const lines = sent.stdout.trimEnd().split("\n");
    assert.equal(lines.length, count);
    const bytes = lines.map((line) => [...encode(parseMessage(line))]);
    assert.ok(bytes.some((b) => b[0] === 0xf0 && b.length > 2));
    assert.deepEqual(await synth.waitForEvents(count), bytes);
    assert.deepEqual(await listener.waitForEvents(count), bytes);
  },
});

Deno.test({
  name:
    "midisock serve --out prints a message that its output cannot play, and plays on",
  ignore: IGNORE_JACK,
  fn: async () => {
    await using _jack = await Jack.start();
    await using synth = await MidiDump.start("synth");
    const { serve, port } = await startServe(["--out", "synth"]);
    await using _serve = serve;
    await using client = await connect("127.0.0.1", port);
    // JACK's RtMidi takes at most 16379 bytes a message.
    await client.send(message("sysex", { data: new Uint8Array(20_000) }));
    await client.send(message("note_on", { note: 60, velocity: 100 }));
    await serve.waitForMatch("stdout", / note_on /);
    assert.deepEqual(await synth.waitForEvents(1), [[0x90, 60, 100]]);
    assert.ok(
      serve.stdout.includes(
        '# outputerror synth:input sysex Cannot send sysex of 20002 bytes to MIDI device port "synth:input": it takes at most 16379 bytes a message',
      ),
      serve.stdout.join("\n"),
    );
    serve.kill("SIGINT");
    assert.equal((await serve.result()).code, 0);
    // Closing released the note.
    assert.deepEqual(await synth.waitForEvents(2), [
      [0x90, 60, 100],
      [0x80, 60, 64],
    ]);
  },
});

Deno.test({
  name:
    "midisock serve --out plays the note_offs that the server gives for a client that leaves with notes held",
  ignore: IGNORE_JACK,
  fn: async () => {
    await using _jack = await Jack.start();
    await using synth = await MidiDump.start("synth");
    const { serve, port } = await startServe(["--out", "synth", "--quiet"]);
    await using _serve = serve;
    const client = await connect("127.0.0.1", port);
    await client.send(message("note_on", { note: 60, velocity: 90 }));
    await client.send(message("control_change", { control: 64, value: 127 }));
    await synth.waitForEvents(2);
    await client.close(); // serve runs on
    assert.deepEqual(await synth.waitForEvents(4), [
      [0x90, 60, 90],
      [0xb0, 64, 127],
      [0x80, 60, 64],
      [0xb0, 64, 0],
    ]);
    serve.kill("SIGINT");
    assert.equal((await serve.result()).code, 0);
    assert.equal(synth.events.length, 4); // nothing left to release
  },
});

Deno.test({
  name:
    "midisock serve --out ends the notes that its output holds when it stops",
  ignore: IGNORE_JACK,
  fn: async () => {
    await using _jack = await Jack.start();
    await using synth = await MidiDump.start("synth");
    const { serve, port } = await startServe(["--out", "synth", "--quiet"]);
    await using _serve = serve;
    await using client = await connect("127.0.0.1", port);
    await client.send(
      message("note_on", { channel: 1, note: 60, velocity: 90 }),
    );
    await client.send(
      message("control_change", { channel: 1, control: 64, value: 127 }),
    );
    await synth.waitForEvents(2);
    serve.kill("SIGTERM");
    const { code } = await serve.result();
    assert.equal(code, 0);
    assert.deepEqual(await synth.waitForEvents(4), [
      [0x91, 60, 90],
      [0xb1, 64, 127],
      [0x81, 60, 64],
      [0xb1, 64, 0],
    ]);
  },
});

Deno.test({
  name:
    "midisock connect --in plays what jack_midiseq plays into a relay server, and a Python mido client receives exactly that",
  ignore: ignoreWithout(MIDO) || IGNORE_JACK,
  fn: async () => {
    await using _jack = await Jack.start();
    await using seq = await MidiSeq.start("keyboard");
    await using server = new PortServer("127.0.0.1", 0, { relay: true });
    const count = 11;
    await using peer = new Child(PYTHON, [
      PEER,
      "receive",
      "127.0.0.1",
      String(server.port),
      String(count),
    ]);
    await peer.waitForMatch("stdout", /^connected$/);
    await using link = midisockWithDevices([
      "connect",
      `127.0.0.1:${server.port}`,
      "--in",
      "keyboard",
    ]);
    await link.waitForMatch(
      "stderr",
      new RegExp(
        `^midisock: playing "${seq.port}" into 127\\.0\\.0\\.1:${server.port}$`,
      ),
    );
    const received = await peer.result();
    assert.equal(received.code, 0, received.stderr);
    const lines = received.stdout.trimEnd().split("\n").slice(1);
    assert.equal(lines.length, count);
    assert.deepEqual(fromLoopStart(lines).slice(0, 8), [...LOOP, ...LOOP]);
    link.kill("SIGINT");
    const { code, stdout } = await link.result();
    assert.equal(code, 0);
    assert.match(
      stdout,
      /^# connect 127\.0\.0\.1:\d+\n# disconnect 127\.0\.0\.1:\d+\n$/,
    );
  },
});

Deno.test({
  name: "midisock connect --in A --out B plays both ways at once",
  ignore: IGNORE_JACK,
  fn: async () => {
    await using _jack = await Jack.start();
    await using _seq = await MidiSeq.start("keyboard");
    await using synth = await MidiDump.start("synth");
    await using server = new PortServer("127.0.0.1", 0);
    await using link = midisockWithDevices([
      "connect",
      `127.0.0.1:${server.port}`,
      "--in",
      "keyboard",
      "--out",
      "synth",
    ]);
    await link.waitForMatch(
      "stderr",
      /^midisock: playing .* on "synth:input"$/,
    );
    const got = (await receiveN(server, 7)).map(formatMessage);
    assert.deepEqual(fromLoopStart(got).slice(0, 4), LOOP);
    const played = [
      message("program_change", { program: 12 }),
      message("sysex", { data: new Uint8Array([0x7d, 1, 2, 3]) }),
      message("note_on", { note: 72, velocity: 80 }),
      message("note_off", { note: 72, velocity: 80 }),
    ];
    for (const msg of played) await server.send(msg);
    assert.deepEqual(
      await synth.waitForEvents(played.length),
      played.map((msg) => [...encode(msg)]),
    );
    link.kill("SIGTERM");
    assert.equal((await link.result()).code, 0);
  },
});

/** Plays notes into a server: 60 and 67 (channel 2) held, and the pedal. */
async function holdNotes(server: PortServer): Promise<void> {
  await server.send(message("note_on", { note: 60, velocity: 100 }));
  await server.send(message("note_on", { note: 64, velocity: 100 }));
  await server.send(
    message("note_on", { channel: 2, note: 67, velocity: 100 }),
  );
  await server.send(message("note_off", { note: 64 }));
  await server.send(message("control_change", { control: 64, value: 127 }));
}

/** What releases the notes of holdNotes(). */
const RELEASED = [[0x80, 60, 64], [0x82, 67, 64], [0xb0, 64, 0]];

Deno.test({
  name:
    "midisock connect --out --no-reconnect: a server that dies while notes are held leaves the output their note_offs, and connect exits 0",
  ignore: IGNORE_JACK,
  fn: async () => {
    await using _jack = await Jack.start();
    await using synth = await MidiDump.start("synth");
    const server = new PortServer("127.0.0.1", 0);
    try {
      await using link = midisockWithDevices([
        "connect",
        `127.0.0.1:${server.port}`,
        "--out",
        "synth",
        "--no-reconnect",
      ]);
      await link.waitForMatch(
        "stderr",
        /^midisock: playing .* on "synth:input"$/,
      );
      await holdNotes(server);
      await synth.waitForEvents(5);
      await server.close();
      const { code, stdout } = await link.result();
      assert.equal(code, 0);
      assert.match(stdout, /^# connect (\S+)\n# disconnect \1\n$/);
      assert.deepEqual((await synth.waitForEvents(8)).slice(5), RELEASED);
    } finally {
      await server.close();
    }
  },
});

Deno.test({
  name:
    "midisock connect --in --out: a server that dies leaves the output its note_offs at once, and connect plays both ways again once it is back",
  ignore: IGNORE_JACK,
  fn: async () => {
    await using _jack = await Jack.start();
    await using synth = await MidiDump.start("synth");
    const first = new PortServer("127.0.0.1", 0);
    const port = first.port;
    let second: PortServer | undefined;
    try {
      await using link = midisockWithDevices([
        "connect",
        `127.0.0.1:${port}`,
        "--out",
        "synth",
        "--virtual",
        "midisock-keys",
      ]);
      await link.waitForMatch(
        "stderr",
        /^midisock: playing .* on "synth:input"$/,
      );
      await holdNotes(first);
      await synth.waitForEvents(5);
      await first.close();
      // At once: before the server is back.
      assert.deepEqual((await synth.waitForEvents(8)).slice(5), RELEASED);
      await link.waitForMatch(
        "stdout",
        /^# reconnecting 127\.0\.0\.1:\d+ attempt=1 /,
      );
      // A key played while the server is away is dropped, and counted.
      await using keys = await openOutput("midisock-keys");
      await keys.send(message("note_on", { note: 1, velocity: 1 }));

      second = new PortServer("127.0.0.1", port);
      await link.waitForMatch(
        "stdout",
        /^# reconnected 127\.0\.0\.1:\d+ attempts=\d+ /,
      );
      await link.waitForMatch(
        "stdout",
        /^# dropped 127\.0\.0\.1:\d+ messages=1$/,
      );
      await second.send(message("note_on", { note: 72, velocity: 50 }));
      assert.deepEqual((await synth.waitForEvents(9)).slice(8), [[
        0x90,
        72,
        50,
      ]]);
      await keys.send(message("note_on", { note: 2, velocity: 2 }));
      assert.deepEqual(
        await second.receive({ signal: AbortSignal.timeout(TIMEOUT) }),
        message("note_on", { note: 2, velocity: 2 }),
      );
      await keys.send(message("note_off", { note: 2, velocity: 2 }));
      await second.receive({ signal: AbortSignal.timeout(TIMEOUT) });
      link.kill("SIGINT");
      const { code, stdout } = await link.result();
      assert.equal(code, 0);
      const events = stdout.split("\n").filter((line) => line.startsWith("#"))
        .map((line) => line.split(" ")[1]);
      assert.deepEqual(events, [
        "connect",
        "disconnect",
        ...events.slice(2, -3).map(() => "reconnecting"),
        "reconnected",
        "dropped",
        "disconnect",
      ]);
      // Closing released note 72; nothing else was held.
      assert.deepEqual((await synth.waitForEvents(10)).slice(9), [[
        0x80,
        72,
        64,
      ]]);
    } finally {
      await first.close();
      await second?.close();
    }
  },
});

Deno.test({
  name:
    "midisock connect --virtual makes an input that other programs play into the server",
  ignore: IGNORE_JACK,
  fn: async () => {
    await using _jack = await Jack.start();
    await using seq = await MidiSeq.start("keyboard");
    await using server = new PortServer("127.0.0.1", 0);
    await using link = midisockWithDevices([
      "connect",
      `127.0.0.1:${server.port}`,
      "--virtual",
      "midisock-keys",
    ]);
    await link.waitForMatch(
      "stderr",
      /^midisock: playing "midisock-keys" into/,
    );
    await jackConnect(seq.port, await waitForPort("midisock-keys"));
    const got = (await receiveN(server, 7)).map(formatMessage);
    assert.deepEqual(fromLoopStart(got).slice(0, 4), LOOP);
    link.kill("SIGTERM");
    assert.equal((await link.result()).code, 0);
  },
});
