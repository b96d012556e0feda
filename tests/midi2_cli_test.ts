// Copyright 2026 the midisock authors. MIT license.
// `midisock serve --midi2` and `midi2://` addresses, run as a user runs
// them: serve in a child process, send and monitor in others, on loopback.

import assert from "node:assert/strict";
import { connect, message } from "../mod.ts";
import { midisock, runMidisock } from "./_child.ts";

const isConnect = (line: string) => line.startsWith("# connect ");

/** Writes a file in a fresh temporary folder, and returns its path. */
async function file(name: string, text: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "midisock-midi2-" });
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(path, text);
  return path;
}

/** Starts `midisock serve --relay --midi2 127.0.0.1:0 ARGS...`. */
async function startServe(...args: string[]) {
  const serve = midisock([
    "serve",
    "--relay",
    "--midi2",
    "127.0.0.1:0",
    ...args,
    "127.0.0.1:0",
  ]);
  try {
    const [, tcp] = await serve.waitForMatch(
      "stderr",
      /^midisock: listening on 127\.0\.0\.1:(\d+)$/,
    );
    const [, udp] = await serve.waitForMatch(
      "stderr",
      /^midisock: Network MIDI 2\.0 host "[^"]+" on UDP 127\.0\.0\.1:(\d+)$/,
    );
    return { serve, tcp: Number(tcp), midi2: `midi2://127.0.0.1:${udp}` };
  } catch (error) {
    await serve[Symbol.asyncDispose]();
    throw error;
  }
}

Deno.test("serve --midi2 with a secret file: a wrong secret is refused and said so on both sides; the right one plays on the bus", async () => {
  const secret = await file("secret", "s3cr3t\n"); // the newline is not in it
  const wrong = await file("wrong", "s3cr3t!\n");
  const { serve, tcp, midi2 } = await startServe(
    "--midi2-secret-file",
    secret,
  );
  await using _serve = serve;
  await using listener = await connect("127.0.0.1", tcp);

  const refused = await runMidisock([
    "send",
    midi2,
    "--secret-file",
    wrong,
    "note_on note=61",
  ]);
  assert.equal(refused.code, 1);
  assert.match(
    refused.stderr,
    /^midisock: error: Refused by 127\.0\.0\.1:\d+: wrong shared secret: the host asks again \(authentication state 0x01, incorrect digest\)\n$/,
  );
  await serve.waitForMatch(
    "stdout",
    /^# midi2 refused 127\.0\.0\.1:\d+ wrong shared secret/,
  );
  const none = await runMidisock(["send", midi2, "note_on note=62"]);
  assert.equal(none.code, 1);
  assert.match(
    none.stderr,
    /no matching authentication method \(Bye reason 0x45\)/,
  );

  const sent = await runMidisock([
    "send",
    midi2,
    "--secret-file",
    secret,
    "--name",
    "keys",
    "note_on note=60 velocity=100",
  ]);
  assert.equal(sent.code, 0, sent.stderr);
  // Nothing of the refused clients reached the bus: the first message the
  // TCP client hears is the one of the client that got in.
  assert.deepEqual(
    await listener.receive({ signal: AbortSignal.timeout(10_000) }),
    message("note_on", { note: 60, velocity: 100 }),
  );
  await serve.waitForMatch(
    "stdout",
    /^keys@127\.0\.0\.1:\d+ note_on channel=0 note=60 velocity=100 time=0$/,
  );
  // It left with the note on: the bus released it.
  assert.deepEqual(
    await listener.receive({ signal: AbortSignal.timeout(10_000) }),
    message("note_off", { note: 60, velocity: 64 }),
  );
  await serve.waitForMatch("stdout", /^# midi2 end keys@127\.0\.0\.1:\d+ /);
  // ping midi2:// measures with Ping and Ping Reply.
  const pinged = await runMidisock([
    "ping",
    midi2,
    "--secret-file",
    secret,
    "--count",
    "3",
    "--interval",
    "20",
  ]);
  assert.equal(pinged.code, 0, pinged.stderr);
  assert.match(pinged.stdout, /rtt p50=[\d.]+ ms .*lost=0\/3\n$/);
});

Deno.test("serve --midi2-users, and monitor midi2:// with --user and --password-file", async () => {
  const users = await file(
    "users",
    "# who may play\nada:lovelace\n\nbob:pass:with:colons\n",
  );
  const password = await file("password", "pass:with:colons\n");
  const { serve, tcp, midi2 } = await startServe(
    "--midi2-users",
    users,
    "--midi2-name",
    "Studio Bus",
  );
  await using _serve = serve;
  await using monitor = midisock([
    "monitor",
    "--no-reconnect",
    midi2,
    "--user",
    "bob",
    "--password-file",
    password,
  ]);
  await monitor.waitForCount(1, isConnect, "connect");
  await serve.waitForMatch("stdout", /^# midi2 session midisock@/);
  await using player = await connect("127.0.0.1", tcp);
  await player.send(message("control_change", { control: 7, value: 99 }));
  await monitor.waitForCount(
    1,
    (line) =>
      line.endsWith("control_change channel=0 control=7 value=99 time=0"),
    "the controller",
  );
  assert.match(monitor.stdout[0], /^# connect midi2:\/\/127\.0\.0\.1:\d+$/);
  assert.ok(
    serve.stderr.some((line) => line.includes('host "Studio Bus" on UDP')),
  );
  serve.kill("SIGTERM");
  const served = await serve.result();
  assert.equal(served.code, 0);
  assert.match(
    served.stdout,
    /# midi2 stats datagrams=\d+ malformed=0 sessions=1 refused=0/,
  );
});

Deno.test("--midi2 options and midi2:// addresses: a usage error names what is wrong", async () => {
  const group = await runMidisock([
    "serve",
    "--midi2",
    "127.0.0.1:0",
    "--midi2-group",
    "16",
    "127.0.0.1:0",
  ]);
  assert.equal(group.code, 2);
  assert.match(
    group.stderr,
    /Invalid --midi2-group "16": expected an integer in 0\.\.15/,
  );
  const alone = await runMidisock([
    "serve",
    "--midi2-protocol",
    "2",
    "127.0.0.1:0",
  ]);
  assert.equal(alone.code, 2);
  assert.match(alone.stderr, /--midi2-protocol needs --midi2/);
  const users = await file("users", "no colon here\n");
  const badUsers = await runMidisock([
    "serve",
    "--midi2",
    "127.0.0.1:0",
    "--midi2-users",
    users,
    "127.0.0.1:0",
  ]);
  assert.equal(badUsers.code, 1);
  assert.match(
    badUsers.stderr,
    /--midi2-users .* line 1: expected user:password/,
  );
  const noPort = await runMidisock(["send", "midi2://127.0.0.1", "start"]);
  assert.equal(noPort.code, 2);
  assert.match(
    noPort.stderr,
    /Invalid address "midi2:\/\/127\.0\.0\.1": .*give midi2:\/\/HOST:PORT, with the host's UDP port/,
  );
  const half = await runMidisock([
    "send",
    "midi2://127.0.0.1:9",
    "--user",
    "ada",
    "start",
  ]);
  assert.equal(half.code, 2);
  assert.match(half.stderr, /--user and --password-file go together/);
});
