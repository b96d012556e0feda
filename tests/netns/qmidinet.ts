// Copyright 2026 the midisock authors. MIT license.
// ipMIDI against a peer someone else wrote: qmidinet (-g, on JACK's dummy
// driver, -i lo), in a private network namespace with only lo (run by
// tests/lan_test.ts; it refuses to run anywhere else). JACK's example
// clients are the keyboard (jack_midiseq) and the synth (jack_midi_dump).

import assert from "node:assert/strict";
import { Child, midisock } from "../_child.ts";
import { jackConnect, MidiDump, MidiSeq, waitForPort } from "../_jack.ts";
import { waitFor } from "../_net.ts";
import { assertPrivateNetns } from "../_netns.ts";
import { PYTHON } from "../_peers.ts";

assertPrivateNetns();

const PEER = new URL("../fixtures/py_net_peer.py", import.meta.url).pathname;

/** jack_midiseq's loop (see MidiSeq), as monitor prints it. */
const LOOP = [
  "note_on channel=0 note=60 velocity=64 time=0",
  "note_off channel=0 note=60 velocity=64 time=0",
  "note_on channel=0 note=63 velocity=64 time=0",
  "note_off channel=0 note=63 velocity=64 time=0",
];

let servers = 0;

/**
 * jackd on the dummy driver, synchronous, 1024 frames a period (with
 * async mode and 256, qmidinet lost 1 event in 20), and qmidinet on it:
 * JACK MIDI only, on lo, port QmidiNet:in_1 and QmidiNet:out_1.
 */
async function qmidinet(): Promise<AsyncDisposable> {
  const name = `midisock-lan-${Deno.pid}-${++servers}`;
  Deno.env.set("JACK_DEFAULT_SERVER", name);
  const env = { JACK_NO_AUDIO_RESERVATION: "1" };
  const jackd = new Child("jackd", [
    "-n",
    name,
    "-S",
    "-d",
    "dummy",
    "-r",
    "48000",
    "-p",
    "1024",
  ], { env });
  const children: Child[] = [jackd];
  const stop = async () => {
    for (const child of children.reverse()) {
      try {
        child.kill("SIGINT");
      } catch { /* gone */ }
      await child.result().catch(() => {});
      await child[Symbol.asyncDispose]();
    }
  };
  try {
    await using wait = new Child("jack_wait", ["-w", "-t", "10"]);
    const { code } = await wait.result();
    if (code !== 0) throw new Error(`jackd ${name} did not start`);
    children.push(
      new Child("qmidinet", ["-g", "-a", "0", "-j", "1", "-i", "lo"], {
        env: { QT_QPA_PLATFORM: "offscreen" },
      }),
    );
    await waitForPort("QmidiNet:in_1");
    await waitForPort("QmidiNet:out_1");
  } catch (error) {
    await stop();
    throw error;
  }
  return { [Symbol.asyncDispose]: stop };
}

Deno.test("jack_midiseq -> qmidinet -> monitor ipmidi://1 prints the notes", async () => {
  await using _q = await qmidinet();
  await using monitor = midisock(["monitor", "ipmidi://1"]);
  await monitor.waitForMatch("stdout", /^# connect ipmidi:1$/);
  await using seq = await MidiSeq.start("keys");
  await jackConnect(seq.port, "QmidiNet:in_1");
  const lines = await monitor.waitFor("stdout", (lines) => {
    const notes = lines.filter((l) => !l.startsWith("#"));
    const start = notes.indexOf(`ipmidi:1 ${LOOP[0]}`);
    return start >= 0 && notes.length >= start + 8 &&
      notes.slice(start, start + 8);
  }, "two loops of jack_midiseq");
  assert.deepEqual(lines, [...LOOP, ...LOOP].map((l) => `ipmidi:1 ${l}`));
});

Deno.test("send ipmidi://1 -> qmidinet -> jack_midi_dump: the bytes, sysex included", async () => {
  await using _q = await qmidinet();
  await using dump = await MidiDump.start("synth");
  await jackConnect("QmidiNet:out_1", dump.port);
  await using send = midisock([
    "send",
    "ipmidi://1",
    "note_on channel=2 note=64 velocity=100",
    "sysex data=(67,16,76,0,0,126,0)",
    "control_change channel=2 control=7 value=90",
    "note_off channel=2 note=64 velocity=0",
  ]);
  const { code, stderr } = await send.result();
  assert.equal(code, 0, stderr);
  assert.deepEqual(await dump.waitForEvents(4), [
    [0x92, 64, 100],
    [0xf0, 67, 16, 76, 0, 0, 126, 0, 0xf7],
    [0xb2, 7, 90],
    [0x82, 64, 0],
  ]);
});

Deno.test("A mido client of serve --ipmidi 1 hears qmidinet's notes, and qmidinet hears it", async () => {
  await using _q = await qmidinet();
  await using dump = await MidiDump.start("synth");
  await jackConnect("QmidiNet:out_1", dump.port);
  await using serve = midisock(["serve", "--ipmidi", "1", "127.0.0.1:0"]);
  const [, port] = await serve.waitForMatch(
    "stderr",
    /^midisock: listening on 127\.0\.0\.1:(\d+)$/,
  );
  await serve.waitForMatch("stderr", /^midisock: on ipMIDI port 1 /);
  // mido: reads 8 messages (two loops) while it sends 3 polytouch on
  // channel 5, once told to on stdin.
  await using mido = new Child(PYTHON, [
    PEER,
    "chat",
    "127.0.0.1",
    port,
    "5",
    "3",
    "8",
  ], { stdin: "go\n" });
  await mido.waitForMatch("stdout", /^connected$/);
  await using seq = await MidiSeq.start("keys");
  await jackConnect(seq.port, "QmidiNet:in_1");
  const { code, stdout, stderr } = await mido.result();
  assert.equal(code, 0, stderr);
  const heard = stdout.split("\n").filter((l) => l && l !== "connected");
  // From the loop's first note on: jack_midiseq may have begun mid-loop.
  const start = heard.indexOf(LOOP[0]);
  assert.ok(start >= 0, JSON.stringify(heard));
  assert.deepEqual(
    heard.slice(start, start + 4),
    LOOP,
  );
  // On lo, qmidinet hears its own datagrams too (IP_MULTICAST_LOOP off
  // does not stop local delivery there), so the dump has its loop as well.
  const touch = (events: number[][]) => events.filter((e) => e[0] === 0xa5);
  await waitFor(() => touch(dump.events).length >= 3, "3 polytouch");
  assert.deepEqual(touch(dump.events), [
    [0xa5, 0, 0],
    [0xa5, 1, 0],
    [0xa5, 2, 0],
  ]);
});
