// Copyright 2026 the midisock authors. MIT license.
// The command-line program, run as it is run by a user: `deno run
// --allow-net src/cli.ts ...` in a child process, on loopback, with port 0
// wherever it can (serve prints the port it got on stderr).

import assert from "node:assert/strict";
import denoJson from "../deno.json" with { type: "json" };
import { connect, encode, formatMessage, message, PortServer } from "../mod.ts";
import { main } from "../src/cli/main.ts";
import { Child, HANG_GUARD_MS, midisock, runMidisock } from "./_child.ts";
import { askMido, PYTHON, toHex } from "./_mido.ts";
import { HAS_IPV6_LOOPBACK, waitFor } from "./_net.ts";
import { MIDO, PYTHON3 } from "./_peers.ts";

const SENDER = /^127\.0\.0\.1:\d+$/;

/** Starts `midisock serve ARGS... 127.0.0.1:0` and waits for its port. */
async function startServe(...args: string[]) {
  const serve = midisock(["serve", ...args, "127.0.0.1:0"]);
  try {
    const [, port] = await serve.waitForMatch(
      "stderr",
      /^midisock: listening on 127\.0\.0\.1:(\d+)$/,
    );
    return { serve, port: Number(port), address: `127.0.0.1:${port}` };
  } catch (error) {
    await serve[Symbol.asyncDispose]();
    throw error;
  }
}

/** The name in a `# connect NAME` line. */
function connectName(line: string): string {
  const name = line.match(/^# connect (\S+)$/)?.[1];
  assert.ok(name, `expected a connect line, got ${JSON.stringify(line)}`);
  assert.match(name, SENDER);
  return name;
}

/** A port that nothing listens on (it was free a moment ago). */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}

const isDisconnect = (line: string) => line.startsWith("# disconnect ");
const isConnect = (line: string) => line.startsWith("# connect ");

Deno.test("midisock send into midisock serve prints exactly the messages sent", async () => {
  const { serve, port, address } = await startServe();
  await using _ = serve;

  const sent = await runMidisock([
    "send",
    address,
    "note_on note=60 velocity=100",
    "control_change channel=3 control=7 value=99",
    "sysex data=(1,2,3)",
    "note_off note=60",
  ]);
  assert.deepEqual(sent, { code: 0, signal: null, stdout: "", stderr: "" });

  await serve.waitForCount(1, isDisconnect, "disconnect");
  serve.kill("SIGINT");
  const result = await serve.result();
  assert.equal(result.code, 0);
  assert.equal(result.stderr, `midisock: listening on 127.0.0.1:${port}\n`);
  const name = connectName(serve.stdout[0]);
  assert.equal(
    result.stdout,
    [
      `# connect ${name}`,
      `${name} note_on channel=0 note=60 velocity=100 time=0`,
      `${name} control_change channel=3 control=7 value=99 time=0`,
      `${name} sysex data=(1,2,3) time=0`,
      `${name} note_off channel=0 note=60 velocity=64 time=0`,
      `# disconnect ${name}`,
      "",
    ].join("\n"),
  );
});

Deno.test("midisock send reads messages and hex bytes (whole messages, several a line) from stdin, skipping blank lines and comments", async () => {
  const { serve, address } = await startServe();
  await using _ = serve;

  const text = await runMidisock(["send", address], {
    stdin:
      "# a phrase\nprogram_change channel=9 program=5\n\n  note_on note=62\r\n   # indented comment\nstop",
  });
  assert.deepEqual(text, { code: 0, signal: null, stdout: "", stderr: "" });
  await serve.waitForCount(1, isDisconnect, "disconnect");

  const hex = await runMidisock(["send", "--hex", address, "90 3c 64", "F8"]);
  assert.deepEqual(hex, { code: 0, signal: null, stdout: "", stderr: "" });
  await serve.waitForCount(2, isDisconnect, "disconnect");

  const hexStdin = await runMidisock(["send", "--hex", address], {
    stdin: "# note off\n803c40\n\nb0 07 7f\nF0 01 02 F7 fe c1 f8 05\n",
  });
  assert.deepEqual(hexStdin, { code: 0, signal: null, stdout: "", stderr: "" });
  await serve.waitForCount(3, isDisconnect, "disconnect");

  serve.kill("SIGINT");
  const result = await serve.result();
  assert.equal(result.code, 0);
  const names = serve.stdout.filter(isConnect).map(connectName);
  assert.equal(names.length, 3);
  const [a, b, c] = names;
  assert.deepEqual(serve.stdout, [
    `# connect ${a}`,
    `${a} program_change channel=9 program=5 time=0`,
    `${a} note_on channel=0 note=62 velocity=64 time=0`,
    `${a} stop time=0`,
    // It left note 62 on: the server released it, as if a had.
    `${a} note_off channel=0 note=62 velocity=64 time=0`,
    `# released 1 note for ${a}`,
    `# disconnect ${a}`,
    `# connect ${b}`,
    `${b} note_on channel=0 note=60 velocity=100 time=0`,
    `${b} clock time=0`,
    `${b} note_off channel=0 note=60 velocity=64 time=0`,
    `# released 1 note for ${b}`,
    `# disconnect ${b}`,
    `# connect ${c}`,
    `${c} note_off channel=0 note=60 velocity=64 time=0`,
    `${c} control_change channel=0 control=7 value=127 time=0`,
    `${c} sysex data=(1,2) time=0`,
    `${c} active_sensing time=0`,
    `${c} clock time=0`,
    `${c} program_change channel=1 program=5 time=0`,
    `# disconnect ${c}`,
  ]);
});

Deno.test("midisock send --hex sends a 20 KB sysex whole, as an argument and as a line of stdin", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  const address = `127.0.0.1:${server.port}`;
  const data = new Uint8Array(20_000).map((_, i) => i % 128);
  const hex = toHex(encode(message("sysex", { data })));
  for (const [args, stdin] of [[[hex]], [[], `${hex}\n`]] as const) {
    const sent = await runMidisock(["send", "--hex", address, ...args], {
      stdin,
    });
    assert.deepEqual(sent, { code: 0, signal: null, stdout: "", stderr: "" });
    assert.deepEqual(await server.receive(), message("sysex", { data }));
  }
});

Deno.test("midisock serve --json prints JSON lines in mido's dict() format, with the sender", async () => {
  const { serve, address } = await startServe("--json");
  await using _ = serve;

  const sent = await runMidisock([
    "send",
    address,
    "sysex data=(1,2,127)",
    "quarter_frame frame_type=2 frame_value=5",
    "pitchwheel channel=1 pitch=-8192",
  ]);
  assert.equal(sent.code, 0);
  await serve.waitForCount(1, (line) => line.includes('"disconnect"'), "JSON");
  serve.kill("SIGINT");
  const result = await serve.result();
  assert.equal(result.code, 0);
  const name = JSON.parse(serve.stdout[0]).port;
  assert.match(name, SENDER);
  assert.deepEqual(serve.stdout, [
    `{"event":"connect","port":"${name}"}`,
    `{"sender":"${name}","type":"sysex","time":0,"data":[1,2,127]}`,
    `{"sender":"${name}","type":"quarter_frame","time":0,"frame_type":2,"frame_value":5}`,
    `{"sender":"${name}","type":"pitchwheel","time":0,"channel":1,"pitch":-8192}`,
    `{"event":"disconnect","port":"${name}"}`,
  ]);
});

MIDO.test("midisock serve --json prints every type so that mido's Message.from_dict() reads it back, once sender is removed", async () => {
  const { serve, port } = await startServe("--json");
  await using _ = serve;

  // One message of each of the 18 types, with no field at its default.
  const messages = [
    message("note_off", { channel: 1, note: 60, velocity: 10 }),
    message("note_on", { channel: 15, note: 127, velocity: 0 }),
    message("polytouch", { channel: 2, note: 5, value: 6 }),
    message("control_change", { channel: 3, control: 7, value: 100 }),
    message("program_change", { channel: 4, program: 42 }),
    message("aftertouch", { channel: 5, value: 99 }),
    message("pitchwheel", { channel: 6, pitch: -8192 }),
    message("sysex", { data: [0, 1, 127] }),
    message("quarter_frame", { frameType: 7, frameValue: 15 }),
    message("songpos", { pos: 16383 }),
    message("song_select", { song: 3 }),
    message("tune_request"),
    message("clock"),
    message("start"),
    message("continue"),
    message("stop"),
    message("active_sensing"),
    message("reset"),
  ];
  assert.equal(new Set(messages.map((m) => m.type)).size, 18);
  {
    await using client = await connect("127.0.0.1", port);
    for (const msg of messages) await client.send(msg);
  }
  await serve.waitForCount(1, (line) => line.includes('"disconnect"'), "JSON");
  serve.kill("SIGINT");
  assert.equal((await serve.result()).code, 0);

  const lines = serve.stdout.map((line) => JSON.parse(line));
  const name = lines[0].port;
  assert.match(name, SENDER);
  const dicts = lines.filter((line) => !("event" in line)).map(
    ({ sender, ...dict }) => {
      assert.equal(sender, name);
      return dict;
    },
  );
  assert.equal(dicts.length, messages.length);
  const answers = await askMido<[string, string, unknown][]>({
    op: "from_dict",
    dicts,
  });
  for (let i = 0; i < messages.length; i++) {
    const [bin, str, midoDict] = answers[i];
    assert.equal(str, formatMessage(messages[i]));
    assert.equal(bin, toHex(encode(messages[i])));
    // What we print is what mido's dict() gives, key for key.
    assert.deepEqual(dicts[i], midoDict);
  }
});

Deno.test("midisock serve --relay sends each client's messages to every other client, never back to the sender", async () => {
  const { serve, port, address } = await startServe("--relay");
  await using _serve = serve;
  await using text = midisock(["monitor", "--no-reconnect", address]);
  await using json = midisock([
    "monitor",
    "--no-reconnect",
    "--json",
    address,
  ]);
  // Once serve prints a client's connect, the client is on the bus.
  await serve.waitForCount(2, isConnect, "connect");

  // A third client, in this process, sends two messages.
  await using player = await connect("127.0.0.1", port);
  await serve.waitForCount(3, isConnect, "connect");
  await player.send(message("note_on", { note: 60, velocity: 100 }));
  await player.send(message("note_off", { note: 60 }));
  await text.waitForCount(2, (line) => line.includes(" note_"), "notes");
  await json.waitForCount(2, (line) => line.includes('"note_'), "notes");

  // A fourth client sends one. The player receives it, and nothing before
  // it: its own notes were relayed before it, so an echo would come first.
  const sent = await runMidisock([
    "send",
    address,
    "control_change control=64 value=127",
  ]);
  assert.equal(sent.code, 0);
  assert.deepEqual(
    await player.receive({ signal: AbortSignal.timeout(HANG_GUARD_MS) }),
    message("control_change", { control: 64, value: 127 }),
  );
  // It left with the pedal down: the server lets it up for it.
  assert.deepEqual(
    await player.receive({ signal: AbortSignal.timeout(HANG_GUARD_MS) }),
    message("control_change", { control: 64, value: 0 }),
  );
  await text.waitForCount(2, (line) => line.includes(" control_"), "cc");
  await json.waitForCount(2, (line) => line.includes('"control_'), "cc");
  await player.close();
  assert.deepEqual([...player.iterPending()], []);

  serve.kill("SIGINT");
  assert.equal((await serve.result()).code, 0);
  const server = `127.0.0.1:${port}`;
  assert.deepEqual(await text.result(), {
    code: 0,
    signal: null,
    stdout: [
      `# connect ${server}`,
      `${server} note_on channel=0 note=60 velocity=100 time=0`,
      `${server} note_off channel=0 note=60 velocity=64 time=0`,
      `${server} control_change channel=0 control=64 value=127 time=0`,
      `${server} control_change channel=0 control=64 value=0 time=0`,
      `# disconnect ${server}`,
      "",
    ].join("\n"),
    stderr: "",
  });
  assert.deepEqual(await json.result(), {
    code: 0,
    signal: null,
    stdout: [
      `{"event":"connect","port":"${server}"}`,
      `{"sender":"${server}","type":"note_on","time":0,"channel":0,"note":60,"velocity":100}`,
      `{"sender":"${server}","type":"note_off","time":0,"channel":0,"note":60,"velocity":64}`,
      `{"sender":"${server}","type":"control_change","time":0,"channel":0,"control":64,"value":127}`,
      `{"sender":"${server}","type":"control_change","time":0,"channel":0,"control":64,"value":0}`,
      `{"event":"disconnect","port":"${server}"}`,
      "",
    ].join("\n"),
    stderr: "",
  });
  // serve printed what each client sent, under the client's name.
  const playerName = `127.0.0.1:${player.localAddr.port}`;
  const messages = serve.stdout.filter((line) => !line.startsWith("#"));
  assert.deepEqual(messages.slice(0, 2), [
    `${playerName} note_on channel=0 note=60 velocity=100 time=0`,
    `${playerName} note_off channel=0 note=60 velocity=64 time=0`,
  ]);
  const sender = messages[2].split(" ")[0];
  assert.deepEqual(messages.slice(2), [
    `${sender} control_change channel=0 control=64 value=127 time=0`,
    `${sender} control_change channel=0 control=64 value=0 time=0`,
  ]);
  assert.ok(
    serve.stdout.includes(`# released 0 notes and 1 pedal for ${sender}`),
  );
});

const PYTHON_CLIENT = `
import socket, sys
import mido

messages = [
    mido.Message("note_on", note=60, velocity=100),
    mido.Message("control_change", channel=15, control=7, value=99),
    mido.Message("program_change", channel=9, program=5),
    mido.Message("pitchwheel", pitch=-8192),
    mido.Message("polytouch", note=61, value=3),
    mido.Message("aftertouch", channel=2, value=4),
    mido.Message("sysex", data=[0, 1, 127]),
    mido.Message("quarter_frame", frame_type=7, frame_value=15),
    mido.Message("songpos", pos=16383),
    mido.Message("song_select", song=3),
    mido.Message("tune_request"),
    mido.Message("clock"),
    mido.Message("start"),
    mido.Message("continue"),
    mido.Message("stop"),
    mido.Message("active_sensing"),
    mido.Message("reset"),
    mido.Message("note_off", note=60),
]
sock = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
print("port", sock.getsockname()[1])
for msg in messages:
    print(msg)
sock.sendall(b"".join(msg.bin() for msg in messages))
sock.shutdown(socket.SHUT_WR)
sock.close()
`;

MIDO.test("midisock serve prints a stream that Python mido encoded exactly as mido's str()", async () => {
  const { serve, port } = await startServe();
  await using _ = serve;

  await using client = new Child(PYTHON, [
    "-c",
    PYTHON_CLIENT,
    String(port),
  ]);
  const result = await client.result();
  assert.equal(result.code, 0, result.stderr);
  const [portLine, ...strs] = client.stdout;
  const name = `127.0.0.1:${portLine.split(" ")[1]}`;
  assert.equal(strs.length, 18);

  await serve.waitForCount(1, isDisconnect, "disconnect");
  serve.kill("SIGINT");
  assert.equal((await serve.result()).code, 0);
  assert.deepEqual(serve.stdout, [
    `# connect ${name}`,
    ...strs.map((str) => `${name} ${str}`),
    `# disconnect ${name}`,
  ]);
});

Deno.test("midisock serve on SIGINT closes every client and exits 0, and monitor --no-reconnect sees the end and exits 0", async () => {
  const { serve, port, address } = await startServe();
  await using _serve = serve;
  await using monitor = midisock(["monitor", "--no-reconnect", address]);
  await serve.waitForCount(1, isConnect, "connect");
  await monitor.waitForCount(1, isConnect, "connect");

  serve.kill("SIGINT");
  const served = await serve.result();
  assert.equal(served.code, 0);
  assert.equal(served.signal, null);
  const name = connectName(serve.stdout[0]);
  assert.equal(served.stdout, `# connect ${name}\n# disconnect ${name}\n`);
  assert.deepEqual(await monitor.result(), {
    code: 0,
    signal: null,
    stdout: `# connect 127.0.0.1:${port}\n# disconnect 127.0.0.1:${port}\n`,
    stderr: "",
  });
});

Deno.test("midisock serve on SIGTERM closes every client, prints their disconnect lines and exits 0, as on SIGINT", async () => {
  const { serve, port, address } = await startServe();
  await using _serve = serve;
  await using monitor = midisock(["monitor", "--no-reconnect", address]);
  await serve.waitForCount(1, isConnect, "connect");
  await monitor.waitForCount(1, isConnect, "connect");

  serve.kill("SIGTERM");
  const served = await serve.result();
  assert.equal(served.signal, null);
  assert.equal(served.code, 0);
  const name = connectName(serve.stdout[0]);
  assert.equal(served.stdout, `# connect ${name}\n# disconnect ${name}\n`);
  assert.equal(served.stderr, `midisock: listening on 127.0.0.1:${port}\n`);
  assert.deepEqual(await monitor.result(), {
    code: 0,
    signal: null,
    stdout: `# connect 127.0.0.1:${port}\n# disconnect 127.0.0.1:${port}\n`,
    stderr: "",
  });
});

Deno.test("midisock monitor on SIGTERM closes its connection, prints the disconnect line and exits 0, as on SIGINT", async () => {
  const { serve, port, address } = await startServe();
  await using _serve = serve;
  await using monitor = midisock(["monitor", address]);
  await serve.waitForCount(1, isConnect, "connect");
  await monitor.waitForCount(1, isConnect, "connect");

  monitor.kill("SIGTERM");
  assert.deepEqual(await monitor.result(), {
    code: 0,
    signal: null,
    stdout: `# connect 127.0.0.1:${port}\n# disconnect 127.0.0.1:${port}\n`,
    stderr: "",
  });
  // The server saw the monitor leave.
  await serve.waitForCount(1, isDisconnect, "disconnect");
  serve.kill("SIGTERM");
  const served = await serve.result();
  assert.equal(served.code, 0);
  const name = connectName(serve.stdout[0]);
  assert.equal(served.stdout, `# connect ${name}\n# disconnect ${name}\n`);
});

Deno.test("midisock monitor reconnects by default: across a server restart it prints # disconnect, # reconnecting and # reconnected lines, releases the notes it heard, and goes on", async () => {
  const first = await startServe("--relay");
  const { port, address } = first;
  await using monitor = midisock(["monitor", address]);
  await first.serve.waitForCount(1, isConnect, "connect");
  await monitor.waitForCount(1, isConnect, "connect");
  const sent = await runMidisock([
    "send",
    address,
    "note_on note=60 velocity=100",
    "note_off note=60",
    "note_on channel=1 note=67 velocity=90",
  ]);
  assert.equal(sent.code, 0);
  const server = `127.0.0.1:${port}`;
  // The sender left note 67 on: the server released it for the bus.
  await monitor.waitForCount(4, (line) => line.includes(" note_"), "notes");

  // The server restarts on the same port.
  first.serve.kill("SIGTERM");
  assert.equal((await first.serve.result()).code, 0);
  await first.serve[Symbol.asyncDispose]();
  await monitor.waitForCount(1, (l) => l.startsWith("# reconnecting"), "retry");
  await using second = midisock(["serve", "--relay", address]);
  await monitor.waitForCount(1, (l) => l.startsWith("# reconnected"), "back");
  await second.waitForCount(1, isConnect, "connect");
  const again = await runMidisock(["send", address, "stop"]);
  assert.equal(again.code, 0);
  await monitor.waitForCount(
    1,
    (line) => line.endsWith(" stop time=0"),
    "stop",
  );
  monitor.kill("SIGINT");
  const { code, stdout } = await monitor.result();
  assert.equal(code, 0);
  const lines = stdout.trimEnd().split("\n").map((line) =>
    line.replace(/attempt=\d+ delay=\d+ms$/, "attempt=N delay=Dms")
      .replace(/attempts=\d+ downtime=\d+ms$/, "attempts=N downtime=Tms")
  );
  const retries = lines.filter((l) => l.startsWith("# reconnecting")).length;
  assert.deepEqual(lines, [
    `# connect ${server}`,
    `${server} note_on channel=0 note=60 velocity=100 time=0`,
    `${server} note_off channel=0 note=60 velocity=64 time=0`,
    `${server} note_on channel=1 note=67 velocity=90 time=0`,
    `${server} note_off channel=1 note=67 velocity=64 time=0`,
    `# disconnect ${server}`,
    ...Array(retries).fill(`# reconnecting ${server} attempt=N delay=Dms`),
    `# reconnected ${server} attempts=N downtime=Tms`,
    `${server} stop time=0`,
    `# disconnect ${server}`,
  ]);
  second.kill("SIGINT");
  assert.equal((await second.result()).code, 0);
});

Deno.test("midisock send stops at a bad line on stdin, or a hex line that is not whole messages, after sending the lines before it", async () => {
  const { serve, address } = await startServe();
  await using _ = serve;

  const sent = await runMidisock(["send", address], {
    stdin: "note_on note=60\n\n# comment\ncontrol_change control=7 value=1\n" +
      "note_on note=300\nstart\n",
  });
  assert.deepEqual(sent, {
    code: 1,
    signal: null,
    stdout: "",
    stderr:
      'midisock: error: line 5: Cannot parse "note=300" in "note_on note=300": Invalid note_on note: expected an integer in 0..127, got 300\n',
  });
  const hex = await runMidisock(["send", "--hex", address], {
    stdin: "f8\nfa 9x\nfc\n",
  });
  assert.deepEqual(hex, {
    code: 1,
    signal: null,
    stdout: "",
    stderr:
      'midisock: error: line 2: Cannot parse "9x" in "fa 9x": expected hex bytes, such as 90 3c 64\n',
  });
  const partial = await runMidisock(["send", "--hex", address], {
    stdin: "f8\n\n# a cut note\nfa 90 3c\nfc\n",
  });
  assert.deepEqual(partial, {
    code: 1,
    signal: null,
    stdout: "",
    stderr:
      'midisock: error: line 4: "fa 90 3c" ends inside a note_on: expected 1 more data byte\n',
  });

  await serve.waitForCount(3, isDisconnect, "disconnect");
  serve.kill("SIGINT");
  assert.equal((await serve.result()).code, 0);
  const [a, b, c] = serve.stdout.filter(isConnect).map(connectName);
  assert.deepEqual(serve.stdout, [
    `# connect ${a}`,
    `${a} note_on channel=0 note=60 velocity=64 time=0`,
    `${a} control_change channel=0 control=7 value=1 time=0`,
    `${a} note_off channel=0 note=60 velocity=64 time=0`,
    `# released 1 note for ${a}`,
    `# disconnect ${a}`,
    `# connect ${b}`,
    `${b} clock time=0`,
    `# disconnect ${b}`,
    `# connect ${c}`,
    `${c} clock time=0`,
    `# disconnect ${c}`,
  ]);
});

Deno.test("midisock gives one error line and a non-zero status for bad input", async (t) => {
  const refused = closedPort();
  const cases: [string[], number, string][] = [
    [
      ["serve", "foo"],
      2,
      'Invalid address "foo": expected HOST:PORT, such as localhost:8080',
    ],
    [
      ["serve", ":99999"],
      2,
      'Invalid address ":99999": port must be in 0..65535, got 99999',
    ],
    [
      ["monitor", "host:"],
      2,
      'Invalid address "host:": missing port after the colon',
    ],
    [
      ["send", "host:", "start"],
      2,
      'Invalid address "host:": missing port after the colon',
    ],
    [
      ["send", "127.0.0.1:0", "start"],
      2,
      'Invalid address "127.0.0.1:0": cannot connect to port 0',
    ],
    [
      ["monitor", `127.0.0.1:${refused}`],
      1,
      `Cannot connect to 127.0.0.1:${refused}: connection refused`,
    ],
    [
      ["send", `127.0.0.1:${refused}`, "start"],
      1,
      `Cannot connect to 127.0.0.1:${refused}: connection refused`,
    ],
    [
      ["send", "--hex", `127.0.0.1:${refused}`, "f8"],
      1,
      `Cannot connect to 127.0.0.1:${refused}: connection refused`,
    ],
    // A bad message argument is found before connecting: nothing is sent.
    [
      ["send", `127.0.0.1:${refused}`, "start", "note_on velocity=x"],
      2,
      'message 2: Cannot parse "velocity=x" in "note_on velocity=x": velocity must be an integer',
    ],
    [
      ["send", `127.0.0.1:${refused}`, "note_of"],
      2,
      'message 1: Cannot parse "note_of" in "note_of": unknown message type, expected one of note_off, note_on, polytouch, control_change, program_change, aftertouch, pitchwheel, sysex, quarter_frame, songpos, song_select, tune_request, clock, start, continue, stop, active_sensing, reset',
    ],
    [
      ["send", "--hex", `127.0.0.1:${refused}`, "90 3c6"],
      2,
      'message 1: Cannot parse "3c6" in "90 3c6": expected two hex digits a byte',
    ],
    // Hex arguments must be whole messages, each with its own status byte.
    [
      ["send", "--hex", `127.0.0.1:${refused}`, "f8", "90 3c"],
      2,
      'message 2: "90 3c" ends inside a note_on: expected 1 more data byte',
    ],
    [
      ["send", "--hex", `127.0.0.1:${refused}`, "b0"],
      2,
      'message 1: "b0" ends inside a control_change: expected 2 more data bytes',
    ],
    [
      ["send", "--hex", `127.0.0.1:${refused}`, "f0 01 02"],
      2,
      'message 1: "f0 01 02" ends inside a sysex: no F7',
    ],
    [
      ["send", "--hex", `127.0.0.1:${refused}`, "90 3c 80 3c 40"],
      2,
      'message 1: "90 3c 80 3c 40": byte 3 (80) cuts short a note_on: expected 1 more data byte',
    ],
    [
      ["send", "--hex", `127.0.0.1:${refused}`, "F0 01 F1 02"],
      2,
      'message 1: "F0 01 F1 02": byte 3 (f1) cuts short a sysex: no F7',
    ],
    [
      ["send", "--hex", `127.0.0.1:${refused}`, "903c40 3e40"],
      2,
      'message 1: "903c40 3e40": byte 4 (3e) is a data byte with no status byte before it (each message needs its own status byte)',
    ],
    [
      ["send", "--hex", `127.0.0.1:${refused}`, "f4"],
      2,
      'message 1: "f4": byte 1 (f4) is undefined in MIDI 1.0',
    ],
    [
      ["send", "--hex", `127.0.0.1:${refused}`, "90 3c fd 40"],
      2,
      'message 1: "90 3c fd 40": byte 3 (fd) is undefined in MIDI 1.0',
    ],
    [
      ["send", "--hex", `127.0.0.1:${refused}`, "f0 01 f7 f7"],
      2,
      'message 1: "f0 01 f7 f7": byte 4 (f7) ends no sysex',
    ],
    [
      [],
      2,
      "Missing command: serve, monitor, send, record, play, ping, ports, connect or discover (see midisock --help)",
    ],
    [
      ["dance"],
      2,
      'Unknown command "dance": expected serve, monitor, send, record, play, ping, ports, connect or discover (see midisock --help)',
    ],
    [["--bogus"], 2, "Unknown option '--bogus' (see midisock --help)"],
    [
      ["serve", "--max-sysex", "1k", "127.0.0.1:0"],
      2,
      'Invalid --max-sysex "1k": expected a whole number of bytes (see midisock serve --help)',
    ],
    [
      ["serve", "--bogus"],
      2,
      "Unknown option '--bogus' for serve (see midisock serve --help)",
    ],
    [
      ["monitor", "-x", "localhost:1"],
      2,
      "Unknown option '-x' for monitor (see midisock monitor --help)",
    ],
    [
      ["send", "--json", "localhost:1"],
      2,
      "Unknown option '--json' for send (see midisock send --help)",
    ],
    [
      ["serve", "--json=yes"],
      2,
      "Option '--json' does not take an argument (see midisock serve --help)",
    ],
    [
      ["serve", "a:1", "b:2"],
      2,
      'serve takes one address, got 2 arguments: "a:1" "b:2" (see midisock serve --help)',
    ],
    [
      ["monitor"],
      2,
      "monitor needs an address, such as localhost:8080 (see midisock monitor --help)",
    ],
    [
      ["send"],
      2,
      "send needs an address, such as localhost:8080 (see midisock send --help)",
    ],
  ];
  for (const [args, code, error] of cases) {
    await t.step(`midisock ${args.join(" ")}`, async () => {
      assert.deepEqual(await runMidisock(args), {
        code,
        signal: null,
        stdout: "",
        stderr: `midisock: error: ${error}\n`,
      });
    });
  }

  await t.step("a port already in use", async () => {
    using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = listener.addr.port;
    let reason = "";
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
    } catch (error) {
      reason = (error as Error).message; // the system's words for it
    }
    assert.notEqual(reason, "");
    assert.deepEqual(await runMidisock(["serve", `127.0.0.1:${port}`]), {
      code: 1,
      signal: null,
      stdout: "",
      stderr:
        `midisock: error: Cannot listen on 127.0.0.1:${port}: ${reason}\n`,
    });
  });
});

Deno.test("midisock --help, COMMAND --help and --version", async () => {
  const version = await runMidisock(["--version"]);
  assert.deepEqual(version, {
    code: 0,
    signal: null,
    stdout: `midisock ${denoJson.version}\n`,
    stderr: "",
  });

  const help = await runMidisock(["--help"]);
  assert.equal(help.code, 0);
  assert.equal(help.stderr, "");
  const lines = help.stdout.split("\n");
  assert.equal(
    lines[0],
    `midisock ${denoJson.version}: MIDI over TCP, wire-compatible with Python mido's socket ports`,
  );
  for (
    const usage of [
      "  midisock serve [HOST:PORT] [--relay] [--json] [--quiet] [OPTION...]",
      "  midisock monitor HOST:PORT [--json] [--no-reconnect] [--tls] [--ca FILE]",
      "  midisock send HOST:PORT [--hex] [--tls] [--ca FILE] [MESSAGE...]",
      "  0  success; serve and monitor also exit 0 on Ctrl-C (SIGINT) or SIGTERM",
    ]
  ) assert.ok(lines.includes(usage), `--help lacks ${JSON.stringify(usage)}`);
  assert.ok(help.stdout.endsWith("argument\n"));
  assert.deepEqual(await runMidisock(["-h"]), help);

  for (const command of ["serve", "monitor", "send"]) {
    const commandHelp = await runMidisock([command, "--help"]);
    assert.equal(commandHelp.code, 0);
    assert.equal(commandHelp.stderr, "");
    assert.match(
      commandHelp.stdout,
      new RegExp(`^Usage: midisock ${command} `),
    );
    assert.match(commandHelp.stdout, /\nExit status: 0 .*/);
    assert.match(commandHelp.stdout, /\n {2}-h, --help +Print this help\n/);
    assert.deepEqual(await runMidisock([command, "-h"]), commandHelp);
  }
});

/** What `midisock ARGS...` prints on stdout, run in this process. */
async function helpText(args: string[]): Promise<string> {
  let text = "";
  const stdout = new WritableStream<Uint8Array>({
    write(chunk) {
      text += new TextDecoder().decode(chunk);
    },
  });
  assert.equal(await main(args, { stdout }), 0);
  return text;
}

const HELPS = [
  ["--help"],
  ...[
    "serve",
    "monitor",
    "send",
    "record",
    "play",
    "ping",
    "ports",
    "connect",
    "discover",
  ].map(
    (
      c,
    ) => [c, "--help"],
  ),
];

/**
 * The lists of a help text: each line that ends with ":" (and is not
 * indented), with the indented lines right after it.
 */
function helpLists(text: string): { heading: string; lines: string[] }[] {
  const lists: { heading: string; lines: string[] }[] = [];
  let current: { heading: string; lines: string[] } | undefined;
  for (const line of text.split("\n")) {
    if (current && line.startsWith("  ")) current.lines.push(line);
    else {
      current = /^\S.*:$/.test(line) ? { heading: line, lines: [] } : undefined;
      if (current) lists.push(current);
    }
  }
  return lists;
}

/** The terms of a list's lines (the options, events or commands). */
function terms(lines: string[]): string[] {
  return lines.filter((line) => /^ {2}\S/.test(line)).map((line) =>
    line.slice(2).split(/ {2,}/)[0]
  );
}

/**
 * What is out of line in a help text: a line over 79 columns, or in a
 * list, a description that does not start at the column of the list's
 * first one (a term too wide for its line may go on, indented by four,
 * before its description).
 */
function helpFaults(text: string): string[] {
  const faults: string[] = [];
  for (const line of text.split("\n")) {
    if (line.length > 79) faults.push(`${line.length} wide: ${line}`);
  }
  for (const { heading, lines } of helpLists(text)) {
    let column: number | undefined; // where the list's first description starts
    let waiting = false; // whether the last term waits for its description
    for (const line of lines) {
      const indent = line.length - line.trimStart().length;
      let at: number;
      if (indent === 2) {
        const described = /^ {2}\S(?:.*?\S)? {2,}(?=\S)/.exec(line);
        waiting = !described;
        if (!described) continue;
        at = described[0].length;
      } else if (waiting && indent === 4) {
        continue;
      } else {
        waiting = false;
        at = indent;
      }
      column ??= at;
      if (at !== column) {
        faults.push(`${heading} ${line}: at ${at}, not ${column}`);
      }
    }
  }
  return faults;
}

Deno.test("midisock's help texts are aligned: in each list, every description starts at the same column, and no line is over 79 columns", async () => {
  for (const args of HELPS) {
    assert.deepEqual(helpFaults(await helpText(args)), [], args.join(" "));
  }
  // The check finds each fault: connect --help's options as they were.
  assert.deepEqual(
    helpFaults(`Options:
  --no-reconnect  Exit when the connection ends, instead of connecting again
  --tls       Connect with TLS, trusting the system's certificate
              authorities; the server's certificate must carry HOST
  --token-file FILE
              Open with a hello line
  -h, --help      Print this help`),
    [
      "Options:   --tls       Connect with TLS, trusting the system's certificate: at 14, not 18",
      "Options:               authorities; the server's certificate must carry HOST: at 14, not 18",
      "Options:               Open with a hello line: at 14, not 18",
    ],
  );
});

Deno.test("midisock serve --help groups its options by what they are for, and every option of each command's usage is in a list", async () => {
  const serve = helpLists(await helpText(["serve", "--help"]));
  const options = serve.filter(({ heading }) => /options\b.*:$/i.test(heading));
  assert.deepEqual(
    options.map(({ heading, lines }) => [heading, terms(lines)]),
    [
      ["Options:", [
        "--relay",
        "--snapshot",
        "--no-release",
        "--max-sysex BYTES",
        "--json",
        "-q, --quiet",
        "--record FILE.mid",
        "-h, --help",
      ]],
      [
        "Access options (who may join the bus, and what they may send):",
        [
          "--allow CIDR",
          "--max-clients N",
          "--max-pending N",
          "--no-sysex",
          "--token-file FILE",
          "--tls-cert FILE",
          "--tls-key FILE",
        ],
      ],
      [
        "MIDI device options (they need --allow-ffi --allow-read --allow-env):",
        ["--out NAME", "--virtual NAME"],
      ],
      ["Browser options:", [
        "--web [HOST:]PORT",
        "--web-origin ORIGIN",
        "--web-host NAME",
      ]],
      ["RTP-MIDI options:", ["--rtp [HOST:]PORT", "--rtp-name NAME"]],
      ["NATS options:", [
        "--nats URL",
        "--bus NAME",
        "--hub ID",
        "--nats-token-file FILE",
        "--nats-user NAME",
        "--nats-pass-file FILE",
        "--nats-creds FILE",
        "--nats-ca FILE",
      ]],
      ["LAN options (see docs/lan.md):", [
        "--ipmidi [N]",
        "--ipmidi-interface ADDR",
        "--advertise [NAME]",
      ]],
      [
        "Network MIDI 2.0 options (Windows MIDI Services, UMP over UDP):",
        [
          "--midi2 [HOST:]PORT",
          "--midi2-name NAME",
          "--midi2-secret-file FILE",
          "--midi2-users FILE",
          "--midi2-protocol 1|2",
          "--midi2-group N",
          "--midi2-fec N",
        ],
      ],
    ],
  );
  for (const args of HELPS.slice(1)) {
    const text = await helpText(args);
    const usage = text.slice(0, text.indexOf("\n\n"));
    const listed = helpLists(text).filter(({ heading }) =>
      /options\b.*:$/i.test(heading)
    ).flatMap(({ lines }) => terms(lines)).flatMap((term) =>
      term.split(", ").map((flag) => flag.split(" ")[0])
    );
    for (const [flag] of usage.matchAll(/--[a-z0-9-]+/g)) {
      assert.ok(
        listed.includes(flag),
        `${args[0]} --help: ${flag} is in its usage and in none of its lists`,
      );
    }
  }
});

Deno.test("midisock serve prints a # drop line with the counts for an oversized sysex and a client that leaves mid-message", async () => {
  const { serve, port } = await startServe("--max-sysex", "4");
  await using _ = serve;
  const raw = await Deno.connect({ hostname: "127.0.0.1", port });
  await serve.waitForCount(1, isConnect, "connect");
  const name = connectName(serve.stdout.find(isConnect)!);
  // An oversized sysex (1 + 5 + 1 bytes), a note, then a cut note_on.
  await raw.write(new Uint8Array([0xf0, 1, 2, 3, 4, 5, 0xf7]));
  await serve.waitForCount(1, (l) => l.startsWith("# drop"), "a drop line");
  await raw.write(new Uint8Array([0x90, 60, 100, 0x90, 62]));
  await serve.waitForCount(1, (l) => l.includes(" note_on "), "the note");
  raw.close();
  await serve.waitForCount(1, isDisconnect, "disconnect");
  serve.kill("SIGTERM");
  assert.equal((await serve.result()).code, 0);
  assert.deepEqual(serve.stdout, [
    `# connect ${name}`,
    `# drop ${name} skipped=7 discarded=0 oversized=1`,
    `${name} note_on channel=0 note=60 velocity=100 time=0`,
    `# drop ${name} skipped=2 discarded=1 oversized=0`,
    `${name} note_off channel=0 note=60 velocity=64 time=0`,
    `# released 1 note for ${name}`,
    `# disconnect ${name}`,
  ]);
});

Deno.test("midisock serve prints one # drop line for one oversized sysex, however many reads it takes: 2 MB with its F7, then 2 MB cut by the end of the stream", async () => {
  const { serve, port } = await startServe("--max-sysex", "1024");
  await using _ = serve;
  const raw = await Deno.connect({ hostname: "127.0.0.1", port });
  await serve.waitForCount(1, isConnect, "connect");
  const name = connectName(serve.stdout.find(isConnect)!);
  const SIZE = 2_000_000; // data bytes: about 120 reads of 16 KiB
  const sysex = new Uint8Array(SIZE + 2).fill(0x55);
  sysex[0] = 0xf0;
  sysex[SIZE + 1] = 0xf7;
  for (let at = 0; at < sysex.length;) {
    at += await raw.write(sysex.subarray(at));
  }
  await raw.write(new Uint8Array([0x90, 60, 100]));
  await serve.waitForCount(1, (l) => l.includes(" note_on "), "the note");
  // The second has no F7: the end of the stream ends it.
  const cut = sysex.subarray(0, SIZE + 1);
  for (let at = 0; at < cut.length;) at += await raw.write(cut.subarray(at));
  raw.close();
  await serve.waitForCount(1, isDisconnect, "disconnect");
  serve.kill("SIGTERM");
  assert.equal((await serve.result()).code, 0);
  assert.deepEqual(serve.stdout, [
    `# connect ${name}`,
    `# drop ${name} skipped=${SIZE + 2} discarded=0 oversized=1`,
    `${name} note_on channel=0 note=60 velocity=100 time=0`,
    `# drop ${name} skipped=${SIZE + 1} discarded=0 oversized=1`,
    `${name} note_off channel=0 note=60 velocity=64 time=0`,
    `# released 1 note for ${name}`,
    `# disconnect ${name}`,
  ]);
});

Deno.test("midisock serve --relay prints a slow client's dropped bytes, the same count on its slowclient and disconnect lines", async () => {
  const { serve: loud, port: busPort } = await startServe("--relay");
  await using _loud = loud;
  // A client that never reads, and a player that floods the bus with 16 KiB
  // sysex messages until the slow client is cut off (bounded: 64 MiB).
  const slow = await Deno.connect({ hostname: "127.0.0.1", port: busPort });
  try {
    await loud.waitForCount(1, isConnect, "the slow client");
    await using player = await connect("127.0.0.1", busPort);
    await loud.waitForCount(2, isConnect, "the player");
    const isSlow = (line: string) => line.startsWith("# slowclient ");
    for (let i = 0; i < 4096 && !loud.stdout.some(isSlow); i++) {
      await player.send(
        message("sysex", { data: new Uint8Array(16 * 1024).fill(i & 127) }),
      );
      if (i % 64 === 63) await new Promise((r) => setTimeout(r, 1));
    }
    await loud.waitForCount(1, isSlow, "slowclient");
    const slowLine = loud.stdout.find(isSlow)!;
    const [, name, dropped] = slowLine.match(
      /^# slowclient (\S+) dropped=(\d+)$/,
    )!;
    assert.equal(name, `127.0.0.1:${slow.localAddr.port}`);
    assert.ok(Number(dropped) > 0);
    const isGone = (line: string) => line.startsWith(`# disconnect ${name}`);
    await loud.waitForCount(1, isGone, "its disconnect");
    assert.deepEqual(loud.stdout.filter(isGone), [
      `# disconnect ${name} dropped=${dropped}`,
    ]);
  } finally {
    slow.close();
  }
  loud.kill("SIGTERM");
  assert.equal((await loud.result()).code, 0);
});

Deno.test({
  name: "midisock serve on localhost listens on both loopbacks and says so",
  ignore: !HAS_IPV6_LOOPBACK,
  fn: async () => {
    await using serve = midisock(["serve", "localhost:0"]);
    const [, port] = await serve.waitForMatch(
      "stderr",
      /^midisock: listening on 127\.0\.0\.1:(\d+), \[::1\]:(\d+)$/,
    );
    for (const host of ["127.0.0.1", "::1"]) {
      const sent = await runMidisock([
        "send",
        host === "::1" ? `[::1]:${port}` : `${host}:${port}`,
        "start",
      ]);
      assert.equal(sent.code, 0, sent.stderr);
    }
    await serve.waitForCount(2, (line) => line.endsWith(" start time=0"), "2");
    serve.kill("SIGINT");
    assert.equal((await serve.result()).code, 0);
  },
});

PYTHON3.test("midisock serve --allow, --max-clients and --no-sysex print a line for each client turned away and each message held back", async () => {
  const { serve, port } = await startServe(
    "--allow",
    "127.0.0.1",
    "--max-clients",
    "1",
    "--no-sysex",
  );
  await using _ = serve;
  // From 127.0.0.2: not on the allow-list.
  const py = await new Deno.Command(PYTHON, {
    args: [
      "-c",
      `import socket
s = socket.socket(); s.bind(("127.0.0.2", 0)); s.connect(("127.0.0.1", ${port}))
print(s.getsockname()[1]); s.close()`,
    ],
  }).output();
  const from2 = new TextDecoder().decode(py.stdout).trim();
  await serve.waitForCount(1, (l) => l.startsWith("# reject"), "a reject");
  await using first = await connect("127.0.0.1", port);
  await serve.waitForCount(1, isConnect, "the first client");
  await using second = await connect("127.0.0.1", port);
  await serve.waitForCount(2, (l) => l.startsWith("# reject"), "2 rejects");
  await first.send(message("sysex", { data: [1, 2, 3] }));
  await first.send(message("start"));
  await serve.waitForCount(1, (l) => l.endsWith(" start time=0"), "start");
  serve.kill("SIGTERM");
  assert.equal((await serve.result()).code, 0);
  const name = `127.0.0.1:${first.localAddr.port}`;
  assert.deepEqual(serve.stdout.slice(0, 5), [
    `# reject 127.0.0.2:${from2} not on the allow-list`,
    `# connect ${name}`,
    `# reject 127.0.0.1:${second.localAddr.port} over maxClients (1)`,
    `# filtered ${name} sysex sysex`,
    `${name} start time=0`,
  ]);
});

Deno.test("midisock serve warns on stderr when it listens beyond loopback with no --allow, and a bad --allow is a usage error", async () => {
  await using serve = midisock(["serve", "0.0.0.0:0"]);
  await serve.waitForMatch("stderr", /^midisock: listening on 0\.0\.0\.0:\d+$/);
  await serve.waitForMatch(
    "stderr",
    /^midisock: warning: anyone who can reach this port can play on the bus; give --allow or a token to say who may$/,
  );
  serve.kill("SIGTERM");
  assert.equal((await serve.result()).code, 0);

  const bad = await runMidisock(["serve", "--allow", "10.0.0.0/40", ":0"]);
  assert.equal(bad.code, 2);
  assert.equal(
    bad.stderr,
    'midisock: error: Invalid allow entry "10.0.0.0/40": the prefix must be a whole number in 0..32 (see midisock serve --help)\n',
  );
});

Deno.test("midisock serve with a token (MIDISOCK_TOKEN) takes in send --token-file --name, and turns away a client without it", async () => {
  const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "midisock-" });
  try {
    const tokenFile = `${dir}/token`;
    await Deno.writeTextFile(tokenFile, "s3cr et\n");
    await using serve = midisock(["serve", "127.0.0.1:0"], {
      env: { MIDISOCK_TOKEN: "s3cr et" },
    });
    const [, port] = await serve.waitForMatch(
      "stderr",
      /^midisock: listening on 127\.0\.0\.1:(\d+)$/,
    );
    const address = `127.0.0.1:${port}`;
    const good = await runMidisock([
      "send",
      "--token-file",
      tokenFile,
      "--name",
      "keys",
      address,
      "start",
    ]);
    assert.equal(good.code, 0, good.stderr);
    await serve.waitForCount(1, (l) => l === "keys start time=0", "start");
    // No token: turned away, told why, and its message never printed.
    assert.deepEqual(await runMidisock(["send", address, "stop"]), {
      code: 1,
      signal: null,
      stdout: "",
      stderr: `midisock: error: Refused by ${address}: it asks for a token\n`,
    });
    await serve.waitForCount(1, (l) => l.startsWith("# reject "), "reject");
    serve.kill("SIGTERM");
    assert.equal((await serve.result()).code, 0);
    assert.deepEqual(serve.stdout.filter((l) => !l.startsWith("# reject")), [
      "# connect keys",
      "keys start time=0",
      "# disconnect keys",
    ]);
    assert.match(
      serve.stdout.find((l) => l.startsWith("# reject"))!,
      /^# reject 127\.0\.0\.1:\d+ no token in the hello line$/,
    );
    const empty = `${dir}/empty`;
    await Deno.writeTextFile(empty, "\n");
    const bad = await runMidisock(["send", "--token-file", empty, address]);
    assert.equal(bad.code, 1);
    assert.equal(
      bad.stderr,
      `midisock: error: Cannot use --token-file ${empty}: its first line is empty\n`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("midisock serve without a token prints a # hello line, and the client's name from then on", async () => {
  const { serve, address } = await startServe();
  await using _ = serve;
  const sent = await runMidisock(["send", "--name", "keys", address, "start"]);
  assert.equal(sent.code, 0, sent.stderr);
  await serve.waitForCount(1, isDisconnect, "disconnect");
  serve.kill("SIGTERM");
  await serve.result();
  const [connectLine, helloLine, ...rest] = serve.stdout;
  const name = connectName(connectLine);
  assert.equal(helloLine, `# hello ${name} keys`);
  assert.deepEqual(rest, ["keys start time=0", "# disconnect keys"]);
});

Deno.test("midisock send reading stdin reconnects across a server restart, says so on stderr, and counts what it dropped (exit 1)", async () => {
  let server = new PortServer("127.0.0.1", 0);
  const port = server.port;
  const stdin = new TransformStream<Uint8Array, Uint8Array>();
  const lines = stdin.writable.getWriter();
  const write = (text: string) =>
    lines.write(new TextEncoder().encode(text + "\n"));
  const errors: string[] = [];
  const decoder = new TextDecoder();
  const sending = main(["send", `127.0.0.1:${port}`], {
    stdin: stdin.readable,
    stdout: new WritableStream(),
    stderr: new WritableStream({
      write: (chunk) => {
        errors.push(...decoder.decode(chunk).split("\n").filter(Boolean));
      },
    }),
  });
  await write("note_on note=60");
  assert.deepEqual(await server.receive(), message("note_on", { note: 60 }));
  await server.close(); // the note is released for the bus by the server
  await waitFor(
    () => errors.some((line) => line.startsWith("# reconnecting")),
    "a # reconnecting line",
  );
  await write("note_on note=62"); // dropped
  await write("control_change control=7 value=50"); // dropped, then restored
  server = new PortServer("127.0.0.1", port);
  await waitFor(
    () => errors.some((line) => line.startsWith("# reconnected")),
    "a # reconnected line",
  );
  await write("note_on note=64");
  await lines.close();
  assert.equal(await sending, 1);
  assert.deepEqual(
    await server.receive(),
    message("control_change", {
      control: 7,
      value: 50,
    }),
  );
  assert.deepEqual(await server.receive(), message("note_on", { note: 64 }));
  const name = `127.0.0.1:${port}`;
  assert.equal(errors[0], `# disconnect ${name}`);
  assert.match(errors.at(-2)!, /^# reconnected /);
  assert.equal(
    errors.at(-1),
    `midisock: error: Cannot send 2 messages to ${name}: they came while it was disconnected, and were dropped`,
  );
  await server.close();
});
