// Copyright 2026 the midisock authors. MIT license.
// RTP-MIDI in the CLI: serve --rtp admits each participant to the bus and
// prints its lines; connect, monitor and send dial rtp://HOST[:PORT] and
// reconnect after a BY.

import assert from "node:assert/strict";
import dgram from "node:dgram";
import { message, SocketPort } from "../mod.ts";
import { connectRtp, RtpListener, type RtpSession } from "../rtp.ts";
import { UsageError } from "../src/cli/args.ts";
import { busAddress } from "../src/cli/dial.ts";
import { exchange } from "../src/transport/rtp/_control.ts";
import { RtpMidiSender } from "../src/transport/rtp/rtp_midi.ts";
import { midisock } from "./_child.ts";

Deno.test("rtp:// addresses: the default port 5004, a name, and no TLS or token", () => {
  const link = { hello: {} };
  assert.equal(
    busAddress("rtp://127.0.0.1", link).name,
    "rtp://127.0.0.1:5004",
  );
  assert.equal(busAddress("rtp://[::1]:5006", link).name, "rtp://[::1]:5006");
  assert.equal(
    busAddress("RTP://localhost:5008/", link).name,
    "rtp://localhost:5008",
  );
  for (
    const [text, l, pattern] of [
      ["rtp://h:65535", link, /at most 65534/],
      ["rtp://h:0", link, /port 0/],
      ["rtp://h:5004", { hello: { token: "x" } }, /rtp:\/\/ has no token/],
      [
        "rtp://h:5004",
        { hello: {}, tls: true as const },
        /rtp:\/\/ has no TLS/,
      ],
    ] as const
  ) {
    assert.throws(
      () => busAddress(text, l),
      (e) => e instanceof UsageError && pattern.test(e.message),
      text,
    );
  }
});

Deno.test("serve --rtp: a participant joins the bus by its session name, its messages are printed and relayed, a bad packet and its end are printed, and its notes released", async () => {
  await using serve = midisock([
    "serve",
    "127.0.0.1:0",
    "--relay",
    "--rtp",
    "127.0.0.1:0",
    "--rtp-name",
    "studio",
  ]);
  const [, port] = await serve.waitForMatch(
    "stderr",
    /RTP-MIDI sessions on 127\.0\.0\.1:(\d+) \(data port \d+\), named "studio"/,
  );
  const tcp = await serve.waitForMatch(
    "stderr",
    /listening on 127\.0\.0\.1:(\d+)/,
  );
  const session = await connectRtp("127.0.0.1", Number(port), { name: "keys" });
  assert.equal(session.name, "rtp:studio");
  await using keys = new SocketPort(session);
  await serve.waitForMatch("stdout", /^# connect rtp:keys$/);
  // A mido-protocol client on the same bus hears the participant.
  const { connect } = await import("../mod.ts");
  await using listener = await connect("127.0.0.1", Number(tcp[1]));
  await serve.waitForMatch("stdout", /^# connect 127\.0\.0\.1:\d+$/);
  await keys.send(message("note_on", { note: 60, velocity: 90 }));
  await serve.waitForMatch(
    "stdout",
    /^rtp:keys note_on channel=0 note=60 velocity=90 time=0$/,
  );
  assert.deepEqual(
    await listener.receive(),
    message("note_on", { note: 60, velocity: 90 }),
  );
  // A bad packet is counted and printed, and the session goes on.
  const junk = dgram.createSocket("udp4");
  await new Promise<void>((r) => junk.bind(0, "127.0.0.1", () => r()));
  junk.send(
    new Uint8Array([0xff, 0xff, 0x43, 0x4b, 1]),
    Number(port),
    "127.0.0.1",
  );
  await serve.waitForMatch(
    "stdout",
    /^# badpacket 127\.0\.0\.1:\d+ truncated CK packet \(5 bytes, expected 36\)$/,
  );
  junk.close();
  await keys.send(message("control_change", { control: 64, value: 127 }));
  await serve.waitForMatch(
    "stdout",
    /^rtp:keys control_change channel=0 control=64 value=127 time=0$/,
  );
  await keys.close();
  await serve.waitForMatch(
    "stdout",
    /^# rtpend rtp:keys reason=bye packets=2 lost=0 recovered=0 bad=0 late=0$/,
  );
  await serve.waitForMatch(
    "stdout",
    /^# released 1 note and 1 pedal for rtp:keys$/,
  );
  await serve.waitForMatch("stdout", /^# disconnect rtp:keys$/);
});

Deno.test("serve --rtp with a token says that RTP participants are admitted by the allow-list only, and an invitation from off the list is answered NO", async () => {
  const file = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(file, "s3cret\n");
    await using serve = midisock([
      "serve",
      "127.0.0.1:0",
      "--token-file",
      file,
      "--allow",
      "10.0.0.0/8",
      "--rtp",
      "127.0.0.1:0",
    ]);
    const [, port] = await serve.waitForMatch(
      "stderr",
      /RTP-MIDI sessions on 127\.0\.0\.1:(\d+)/,
    );
    await serve.waitForMatch(
      "stderr",
      /RTP participants are admitted by the allow-list only \(RTP-MIDI has no token\)/,
    );
    // Refused in RTP-MIDI's own terms, before any session: NO, not OK then BY.
    await assert.rejects(
      connectRtp("127.0.0.1", Number(port), { name: "far" }),
      Deno.errors.ConnectionRefused,
    );
    await serve.waitForMatch(
      "stdout",
      /^# rtprefused 127\.0\.0\.1:\d+ far: not on the allow-list$/,
    );
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("monitor rtp://: prints what the session sends, and after a BY reconnects with backoff", async () => {
  const sessions: RtpSession[] = [];
  await using listener = await RtpListener.listen({
    hostname: "127.0.0.1",
    port: 0,
    name: "hub",
  }, (s) => sessions.push(s));
  await using monitor = midisock([
    "monitor",
    `rtp://127.0.0.1:${listener.port}`,
  ]);
  const name = `rtp://127.0.0.1:${listener.port}`;
  await monitor.waitForMatch(
    "stdout",
    new RegExp(`^# connect ${name.replace(/\./g, "\\.")}$`),
  );
  while (sessions.length < 1) await new Promise((r) => setTimeout(r, 10));
  assert.equal(sessions.length, 1);
  assert.equal(sessions[0].name, "rtp:midisock");
  {
    await using port = new SocketPort(sessions[0]);
    await port.send(message("program_change", { channel: 3, program: 42 }));
    await monitor.waitForMatch(
      "stdout",
      /program_change channel=3 program=42 time=0$/,
    );
  } // closing the port says BY
  await monitor.waitForMatch(
    "stdout",
    /^# disconnect rtp:\/\/127\.0\.0\.1:\d+/,
  );
  await monitor.waitForMatch(
    "stdout",
    /^# reconnecting rtp:\/\/127\.0\.0\.1:\d+ attempt=1/,
  );
  await monitor.waitForMatch(
    "stdout",
    /^# reconnected rtp:\/\/127\.0\.0\.1:\d+ attempts=1/,
  );
  while (sessions.length < 2) await new Promise((r) => setTimeout(r, 10));
  await using again = new SocketPort(sessions[1]);
  await again.send(message("start"));
  await monitor.waitForMatch("stdout", /start time=0$/);
});

Deno.test("serve --rtp prints a # recovery line when a packet's journal gives back a lost note_off, and the note_off itself", async () => {
  await using serve = midisock([
    "serve",
    "127.0.0.1:0",
    "--rtp",
    "127.0.0.1:0",
  ]);
  const [, text] = await serve.waitForMatch(
    "stderr",
    /RTP-MIDI sessions on 127\.0\.0\.1:(\d+)/,
  );
  const port = Number(text);
  // A participant played by hand, whose second packet is never sent.
  const control = dgram.createSocket("udp4");
  const data = dgram.createSocket("udp4");
  try {
    await new Promise<void>((r) => control.bind(0, "127.0.0.1", () => r()));
    await new Promise<void>((r) => data.bind(0, "127.0.0.1", () => r()));
    control.send(exchange("IN", 1, 77, "lossy"), port, "127.0.0.1");
    await new Promise((r) => control.once("message", r));
    data.send(exchange("IN", 1, 77, "lossy"), port + 1, "127.0.0.1");
    await serve.waitForMatch("stdout", /^# connect rtp:lossy$/);
    const sender = new RtpMidiSender({ ssrc: 77 });
    const [on] = sender.packets([new Uint8Array([0x90, 60, 100])], 0);
    sender.packets([new Uint8Array([0x80, 60, 0])], 10); // lost
    const [next] = sender.packets([new Uint8Array([0x90, 62, 100])], 20);
    data.send(on, port + 1, "127.0.0.1");
    await serve.waitForMatch(
      "stdout",
      /^rtp:lossy note_on channel=0 note=60 velocity=100 time=0$/,
    );
    data.send(next, port + 1, "127.0.0.1");
    await serve.waitForMatch(
      "stdout",
      /^# recovery rtp:lossy recovered=1 lost=1 total=1$/,
    );
    await serve.waitForMatch(
      "stdout",
      /^rtp:lossy note_off channel=0 note=60 velocity=64 time=0$/,
    );
    await serve.waitForMatch(
      "stdout",
      /^rtp:lossy note_on channel=0 note=62 velocity=100 time=0$/,
    );
  } finally {
    control.close();
    data.close();
  }
});

Deno.test("serve --rtp prints a # rtprefused line for each invitation answered NO", async () => {
  await using serve = midisock([
    "serve",
    "127.0.0.1:0",
    "--rtp",
    "127.0.0.1:0",
  ]);
  const [, port] = await serve.waitForMatch(
    "stderr",
    /RTP-MIDI sessions on 127\.0\.0\.1:(\d+)/,
  );
  const peer = dgram.createSocket("udp4");
  await new Promise<void>((r) => peer.bind(0, "127.0.0.1", () => r()));
  try {
    // An IN on the data port with none on the control port first.
    peer.send(exchange("IN", 7, 8, "odd"), Number(port) + 1, "127.0.0.1");
    await serve.waitForMatch(
      "stdout",
      new RegExp(
        `^# rtprefused 127\\.0\\.0\\.1:${peer.address().port} odd: an IN on the data port with no invitation on the control port$`,
      ),
    );
  } finally {
    peer.close();
  }
});

Deno.test("serve --rtp: a sysex as long as --max-sysex crosses from an RTP participant to a TCP client and back, exactly", async () => {
  await using serve = midisock([
    "serve",
    "127.0.0.1:0",
    "--relay",
    "--quiet",
    "--max-sysex",
    "1200000",
    "--rtp",
    "127.0.0.1:0",
  ]);
  const [, port] = await serve.waitForMatch(
    "stderr",
    /RTP-MIDI sessions on 127\.0\.0\.1:(\d+)/,
  );
  const [, tcpPort] = await serve.waitForMatch(
    "stderr",
    /listening on 127\.0\.0\.1:(\d+)/,
  );
  const session = await connectRtp("127.0.0.1", Number(port), {
    maxSysexBytes: 1200000,
  });
  await using rtp = new SocketPort(session, { maxSysexBytes: 1200000 });
  const { connect } = await import("../mod.ts");
  await using tcp = await connect("127.0.0.1", Number(tcpPort), {
    maxSysexBytes: 1200000,
  });
  // Each has joined once it hears the other.
  await until(async () => {
    await tcp.send(message("clock"));
    return (await rtp.receive({ signal: AbortSignal.timeout(200) })
      .catch(() => undefined))?.type === "clock";
  });
  await until(async () => {
    await rtp.send(message("clock"));
    return (await tcp.receive({ signal: AbortSignal.timeout(200) })
      .catch(() => undefined))?.type === "clock";
  });
  while (tcp.poll() || rtp.poll());
  // Above the 1 MiB that RTP sessions take by default: serve's limit holds.
  const data = new Uint8Array(1_100_000).map((_, i) => (i * 7) % 128);
  await rtp.send(message("sysex", { data }));
  await rtp.send(message("note_on", { note: 1, velocity: 1 }));
  const signal = AbortSignal.timeout(20_000);
  assert.deepEqual(await tcp.receive({ signal }), message("sysex", { data }));
  assert.deepEqual(
    await tcp.receive({ signal }),
    message("note_on", { note: 1, velocity: 1 }),
  );
  await tcp.send(message("sysex", { data: data.subarray(1) }));
  await tcp.send(message("note_on", { note: 2, velocity: 2 }));
  assert.deepEqual(
    await rtp.receive({ signal }),
    message("sysex", { data: data.subarray(1) }),
  );
  assert.deepEqual(
    await rtp.receive({ signal }),
    message("note_on", { note: 2, velocity: 2 }),
  );
  assert.equal(session.stats.lost, 0);
});

async function until(check: () => Promise<boolean>): Promise<void> {
  const deadline = AbortSignal.timeout(5000);
  while (!await check()) deadline.throwIfAborted();
}

Deno.test("send rtp:// with messages on stdin delivers every one, in order, a long sysex and the last message included, then says BY", async () => {
  const got: string[] = [];
  const done = Promise.withResolvers<string>();
  await using listener = await RtpListener.listen(
    { hostname: "127.0.0.1", port: 0 },
    (session) => {
      const port = new SocketPort(session);
      (async () => {
        for await (const msg of port) {
          got.push(
            msg.type === "sysex" ? `sysex ${msg.data.length}` : `${msg.type}`,
          );
        }
        await port.close();
        done.resolve(await session.ended);
      })();
    },
  );
  const sysex = `sysex data=(${
    Array.from({ length: 100_000 }, (_, i) => i % 128).join(",")
  })`;
  const lines = [
    ...Array.from({ length: 20 }, (_, i) => `note_on note=${i} velocity=1`),
    sysex,
    "stop",
  ];
  await using send = midisock(
    ["send", `rtp://127.0.0.1:${listener.port}`],
    { stdin: lines.join("\n") + "\n" },
  );
  const result = await send.result();
  assert.equal(result.code, 0, result.stderr);
  assert.equal(await done.promise, "bye");
  assert.deepEqual(got, [
    ...Array.from({ length: 20 }, () => "note_on"),
    "sysex 100000",
    "stop",
  ]);
});

Deno.test("serve --rtp: while stdout is behind, a flood of bad datagrams is counted, not queued as lines; one line says how many were left out", async () => {
  const { PortServer } = await import("../mod.ts");
  const { startRtp } = await import("../src/cli/rtp.ts");
  await using bus = new PortServer("127.0.0.1", 0);
  // stdout, stuck until `release`.
  const release = Promise.withResolvers<void>();
  const lines: string[] = [];
  const line = (_json: Record<string, unknown>, text: string) => {
    lines.push(text);
    return release.promise;
  };
  await using listener = await startRtp(
    bus,
    { host: "127.0.0.1", port: 0 },
    line,
  );
  const junk = dgram.createSocket("udp4");
  await new Promise<void>((r) => junk.bind(0, "127.0.0.1", () => r()));
  try {
    for (let i = 0; i < 200; i++) {
      junk.send(
        new Uint8Array([0xff, 0xff, 0x58, 0x58]),
        listener.port,
        "127.0.0.1",
      );
      if (i % 20 === 19) await new Promise((r) => setTimeout(r, 5));
    }
    const deadline = AbortSignal.timeout(5000);
    while (listener.stats.badPackets < 200) {
      deadline.throwIfAborted();
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(lines.length, 1);
    release.resolve();
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(lines.slice(1), [
      "# unprinted 199 lines of RTP events: stdout was behind (the counts have them)",
    ]);
  } finally {
    junk.close();
  }
});
