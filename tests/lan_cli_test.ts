// Copyright 2026 the midisock authors. MIT license.
// The LAN options and addresses of the CLI (ipMIDI, Bonjour), checked
// before anything is opened: the multicast itself is tested in
// tests/netns/, through tests/lan_test.ts.

import assert from "node:assert/strict";
import { optionalValue, UsageError } from "../src/cli/args.ts";
import { busAddress } from "../src/cli/dial.ts";
import { runMidisock } from "./_child.ts";

const link = { hello: {} };

Deno.test("serve --ipmidi outside 1 to 20 is a usage error that names the range", async () => {
  for (const args of [["--ipmidi", "21"], ["--ipmidi=0"], ["--ipmidi=x"]]) {
    const { code, stderr } = await runMidisock(["serve", ...args, ":0"]);
    assert.equal(code, 2, stderr);
    assert.match(stderr, /expected an ipMIDI port from 1 to 20/);
  }
  const { code, stderr } = await runMidisock([
    "serve",
    "--ipmidi-interface",
    "127.0.0.1",
    ":0",
  ]);
  assert.equal(code, 2);
  assert.match(stderr, /--ipmidi-interface needs --ipmidi/);
});

Deno.test("serve --ipmidi-interface must be an IPv4 address", async () => {
  const { code, stderr } = await runMidisock([
    "serve",
    "--ipmidi",
    "--ipmidi-interface",
    "eth0",
    "127.0.0.1:0",
  ]);
  assert.equal(code, 2, stderr);
  assert.match(stderr, /Invalid ipMIDI interface "eth0": expected the IPv4/);
});

Deno.test("ipmidi://N is an address of monitor and send, N from 1 to 20", () => {
  assert.equal(busAddress("ipmidi://1", link).name, "ipmidi:1");
  assert.equal(busAddress("IPMIDI://20", link).name, "ipmidi:20");
  assert.equal(
    busAddress("ipmidi://2?interface=127.0.0.1", link).name,
    "ipmidi:2",
  );
  for (const text of ["ipmidi://0", "ipmidi://21", "ipmidi://", "ipmidi://a"]) {
    assert.throws(
      () => busAddress(text, link),
      (e) => e instanceof UsageError && /from 1 to 20/.test(e.message),
      text,
    );
  }
  assert.throws(
    () => busAddress("ipmidi://1?iface=x", link),
    (e) =>
      e instanceof UsageError && /ipmidi:\/\/N\?interface=ADDR/.test(e.message),
  );
});

Deno.test("An option whose value may be left out takes the next word only when it fits", () => {
  const digits = (w: string) => /^\d+$/.test(w);
  assert.deepEqual(optionalValue(["--ipmidi"], "--ipmidi", digits, "1"), [
    "--ipmidi=1",
  ]);
  assert.deepEqual(
    optionalValue(["--ipmidi", "3", ":0"], "--ipmidi", digits, "1"),
    ["--ipmidi=3", ":0"],
  );
  assert.deepEqual(
    optionalValue(["--ipmidi", "--relay", ":0"], "--ipmidi", digits, "1"),
    ["--ipmidi=1", "--relay", ":0"],
  );
  assert.deepEqual(
    optionalValue(["--ipmidi=4", "--", "--ipmidi"], "--ipmidi", digits, "1"),
    ["--ipmidi=4", "--", "--ipmidi"],
  );
});

Deno.test("discover's bad options are usage errors that name the option", async () => {
  for (
    const [args, pattern] of [
      [
        ["--timeout", "0"],
        /Invalid --timeout "0": expected a number of seconds above 0/,
      ],
      [["--timeout", "x"], /Invalid --timeout "x"/],
      [
        ["--kind", "rtp"],
        /Invalid --kind "rtp": expected midisock, apple-midi, midi2, http/,
      ],
      [["studio"], /discover takes no arguments, got "studio"/],
    ] as const
  ) {
    const { code, stderr } = await runMidisock(["discover", ...args]);
    assert.equal(code, 2, stderr);
    assert.match(stderr, pattern);
  }
});

Deno.test("mdns:NAME and a bare NAME are addresses; mdns: alone is a usage error", () => {
  assert.equal(busAddress("mdns:Studio Mac", link).name, "Studio Mac");
  assert.equal(busAddress("studio", link).name, "studio");
  assert.throws(
    () => busAddress("mdns:", link),
    (e) =>
      e instanceof UsageError && /give the name of a service/.test(e.message),
  );
  // Still HOST:PORT's errors where there is a colon.
  assert.throws(
    () => busAddress("host:", link),
    (e) => e instanceof UsageError && /missing port/.test(e.message),
  );
});
