// Copyright 2026 the midisock authors. MIT license.
// Bonjour against a peer someone else wrote: avahi (a private dbus-daemon
// and avahi-daemon with allow-interfaces=lo, each with config files of the
// test's own), in a private network namespace with only lo and a private
// /run (run by tests/lan_test.ts; it refuses to run anywhere else).

import assert from "node:assert/strict";
import { Child, DENO } from "../_child.ts";
import { delay } from "../_net.ts";
import { assertPrivateNetns } from "../_netns.ts";
import { discover } from "../../mdns.ts";

assertPrivateNetns();

const CLI = new URL("../../src/cli/main.ts", import.meta.url).pathname;

/** `midisock ARGS...` with the permissions that Bonjour needs. */
function midisock(args: string[]): Child {
  return new Child(DENO, [
    "run",
    "--allow-net",
    "--allow-read",
    "--allow-env",
    "--allow-sys=networkInterfaces,hostname",
    CLI,
    ...args,
  ]);
}

const DBUS_CONF = (socket: string) =>
  `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_type="method_return"/>
    <allow send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="signal"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
  </policy>
</busconfig>
`;

const AVAHI_CONF = `[server]
use-ipv4=yes
use-ipv6=no
allow-interfaces=lo
enable-dbus=yes
ratelimit-interval-usec=0
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
`;

/** A private dbus-daemon and avahi-daemon, on lo, for one test. */
async function avahi() {
  const dir = await Deno.makeTempDir({ prefix: "midisock-avahi-" });
  const socket = `${dir}/bus`;
  await Deno.writeTextFile(`${dir}/dbus.conf`, DBUS_CONF(socket));
  await Deno.writeTextFile(`${dir}/avahi.conf`, AVAHI_CONF);
  const bus = `unix:path=${socket}`;
  Deno.env.set("DBUS_SYSTEM_BUS_ADDRESS", bus);
  const children: Child[] = [];
  const stop = async () => {
    for (const child of children.reverse()) {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await child.result().catch(() => {});
      await child[Symbol.asyncDispose]();
    }
    await Deno.remove(dir, { recursive: true });
  };
  try {
    const dbus = new Child("dbus-daemon", [
      `--config-file=${dir}/dbus.conf`,
      "--nofork",
      "--nopidfile",
      "--print-address",
    ]);
    children.push(dbus);
    await dbus.waitForMatch("stdout", /^unix:/);
    const daemon = new Child("avahi-daemon", [
      "-f",
      `${dir}/avahi.conf`,
      "--no-drop-root",
      "--no-chroot",
      "--no-rlimits",
    ]);
    children.push(daemon);
    await daemon.waitForMatch("stderr", /Server startup complete/);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    /** `avahi-publish -s NAME TYPE PORT TXT...`, until the test ends. */
    async publish(name: string, type: string, port: number, txt: string[]) {
      const child = new Child("avahi-publish", [
        "-s",
        name,
        type,
        String(port),
        ...txt,
      ]);
      children.push(child);
      await child.waitForMatch("stderr", /^Established under name/);
    },
    /** `avahi-browse -rptk TYPE`: its resolved lines (`=;...`). */
    async browse(type: string): Promise<string[]> {
      await using child = new Child("avahi-browse", ["-rptk", type]);
      const { stdout } = await child.result();
      return stdout.split("\n").filter((l) => l.startsWith("="));
    },
    /** `avahi-browse -pk TYPE`, left running: its lines as they come. */
    watch(type: string): Child {
      const child = new Child("avahi-browse", ["-pk", type]);
      children.push(child);
      return child;
    },
    [Symbol.asyncDispose]: stop,
  };
}

Deno.test("midisock discover --json lists exactly what avahi-publish advertises, TXT included", async () => {
  await using peer = await avahi();
  await peer.publish("Studio Mac", "_apple-midi._udp", 5004, []);
  await peer.publish("Keys 2.0", "_midi2._udp", 5506, [
    "UMPEndpointName=Keys",
    "ProductInstanceId=K123",
  ]);
  // avahi has just announced them, and answers again only once a second
  // has passed since (RFC 6762 section 6): services that have been up a
  // while are what a user looks for.
  await delay(2500);
  await using child = midisock(["discover", "--json"]);
  const { code, stdout, stderr } = await child.result();
  assert.equal(code, 0, stderr);
  const lines = stdout.trim().split("\n").map((l) => JSON.parse(l));
  lines.sort((a, b) => a.kind.localeCompare(b.kind));
  assert.deepEqual(lines, [
    {
      kind: "apple-midi",
      name: "Studio Mac",
      host: "127.0.0.1",
      port: 5004,
      txt: {},
    },
    {
      kind: "midi2",
      name: "Keys 2.0",
      host: "127.0.0.1",
      port: 5506,
      txt: { UMPEndpointName: "Keys", ProductInstanceId: "K123" },
    },
  ]);
  // And as plain lines, only the kind asked for.
  await using plain = midisock([
    "discover",
    "--timeout",
    "2",
    "--kind",
    "midi2",
  ]);
  const text = await plain.result();
  assert.equal(
    text.stdout,
    'midi2 "Keys 2.0" 127.0.0.1 5506 UMPEndpointName=Keys ProductInstanceId=K123\n',
  );
});

Deno.test("discover() finds an avahi service that has been up a second, and the time is printed", async () => {
  await using peer = await avahi();
  await peer.publish("Timing", "_apple-midi._udp", 5004, []);
  const times: number[] = [];
  await delay(3000); // avahi announces a new service for its first seconds
  for (let i = 0; i < 5; i++) {
    // A responder multicasts a record at most once a second (RFC 6762
    // section 6), and avahi has just announced it: a service that has been
    // up for a while is what a user looks for.
    await delay(1100);
    const start = performance.now();
    await discover({
      kinds: ["apple-midi"],
      timeout: 3000,
      name: "Timing",
      onService: () => times.push(performance.now() - start),
    });
  }
  assert.equal(times.length, 5);
  console.log(
    `discovery of an avahi service: ${
      times.map((t) => t.toFixed(0)).join(", ")
    } ms`,
  );
});

Deno.test("serve --advertise: avahi sees _midisock._tcp, _http._tcp and _apple-midi._udp with their ports and TXT, and their goodbyes", async () => {
  await using peer = await avahi();
  const watch = peer.watch("_midisock._tcp");
  await using serve = midisock([
    "serve",
    "--relay",
    "--advertise",
    "bus one",
    "--web",
    "127.0.0.1:0",
    "--rtp",
    "127.0.0.1:0",
    "127.0.0.1:0",
  ]);
  const [, port] = await serve.waitForMatch(
    "stderr",
    /^midisock: listening on 127\.0\.0\.1:(\d+)$/,
  );
  const [, rtp] = await serve.waitForMatch(
    "stderr",
    /^midisock: RTP-MIDI sessions on 127\.0\.0\.1:(\d+) /,
  );
  const [, web] = await serve.waitForMatch(
    "stderr",
    /^midisock: web page at http:\/\/127\.0\.0\.1:(\d+)\/$/,
  );
  await serve.waitForMatch(
    "stderr",
    /^midisock: advertised "bus one" as _http\._tcp on port \d+ path=\/$/,
  );
  await serve.waitForMatch(
    "stderr",
    new RegExp(
      `^midisock: advertised "bus one" as _midisock\\._tcp on port ${port} relay=1$`,
    ),
  );
  const bus = await peer.browse("_midisock._tcp");
  assert.equal(bus.length, 1, JSON.stringify(bus));
  const [, iface, proto, name, type, domain, , address, busPort, txt] = bus[0]
    .split(";");
  assert.deepEqual(
    [iface, proto, name, type, domain, address, busPort, txt],
    [
      "lo",
      "IPv4",
      "bus\\032one",
      "_midisock._tcp",
      "local",
      "127.0.0.1",
      port,
      '"relay=1"',
    ],
  );
  const page = await peer.browse("_http._tcp");
  assert.equal(page.length, 1, JSON.stringify(page));
  const fields = page[0].split(";");
  assert.deepEqual(
    [fields[3], fields[4], fields[8], fields[9]],
    ["bus\\032one", "_http._tcp", web, '"path=/"'],
  );
  // A Mac's MIDI Network Setup lists it in its Directory: the session's
  // control port, as _apple-midi._udp.
  const session = await peer.browse("_apple-midi._udp");
  assert.equal(session.length, 1, JSON.stringify(session));
  const rtpFields = session[0].split(";");
  assert.deepEqual(
    [rtpFields[3], rtpFields[4], rtpFields[8]],
    ["bus\\032one", "_apple-midi._udp", rtp],
  );
  await watch.waitForMatch(
    "stdout",
    /^\+;lo;IPv4;bus\\032one;_midisock\._tcp;local$/,
  );
  // Stopped: its goodbye removes it at once (its records' TTL is 75 min).
  serve.kill("SIGINT");
  const stopped = await serve.result();
  assert.equal(stopped.code, 0, stopped.stderr);
  const goodbye = performance.now();
  await watch.waitForMatch(
    "stdout",
    /^-;lo;IPv4;bus\\032one;_midisock\._tcp;local$/,
  );
  assert.ok(performance.now() - goodbye < 5000);
  assert.deepEqual(await peer.browse("_http._tcp"), []);
  assert.deepEqual(await peer.browse("_apple-midi._udp"), []);
});

Deno.test("monitor NAME and send mdns:NAME find an advertised midisock server, and deliver", async () => {
  await using serve = midisock([
    "serve",
    "--relay",
    "--advertise=Studio Bus",
    "127.0.0.1:0",
  ]);
  await serve.waitForMatch("stderr", /^midisock: advertised "Studio Bus"/);
  // Named as given (a monitor that reconnects finds the name again).
  await using monitor = midisock(["monitor", "studio bus"]);
  await monitor.waitForMatch("stdout", /^# connect studio bus$/);
  await serve.waitForMatch("stdout", /^# connect /);
  await using send = midisock([
    "send",
    "mdns:Studio Bus",
    "note_on channel=1 note=62 velocity=90",
  ]);
  const sent = await send.result();
  assert.equal(sent.code, 0, sent.stderr);
  await monitor.waitForMatch(
    "stdout",
    /^studio bus note_on channel=1 note=62 velocity=90 time=0$/,
  );
  // A name that nothing answers to: the error says what was tried.
  await using lost = midisock(["send", "nowhere", "start"]);
  const failed = await lost.result();
  assert.equal(failed.code, 1);
  assert.match(
    failed.stderr,
    /Cannot reach "nowhere": it is neither HOST:PORT nor the name of a service that answered on the LAN within 3 s/,
  );
});
