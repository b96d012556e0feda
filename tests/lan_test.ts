// Copyright 2026 the midisock authors. MIT license.
// The LAN tests (ipMIDI multicast, Bonjour), each file of tests/netns/ run
// with `deno test` in a private network namespace whose only interface is
// lo, made here (tests/_netns.ts): no multicast leaves the machine.

import assert from "node:assert/strict";
import { Child, DENO } from "./_child.ts";
import { AVAHI, NETNS, QMIDINET, testInNetns } from "./_netns.ts";
import { MIDO, needs } from "./_peers.ts";

NETNS.test("ipMIDI multicast, in a private network namespace", async () => {
  await testInNetns("ipmidi.ts");
});

needs(NETNS, QMIDINET, MIDO).test(
  "ipMIDI against qmidinet, in a private network namespace",
  async () => {
    await testInNetns("qmidinet.ts");
  },
);

needs(NETNS, AVAHI).test(
  "Bonjour against avahi, in a private network namespace",
  async () => {
    await testInNetns("mdns.ts");
  },
);

Deno.test("A file of tests/netns/ refuses to run outside a private network namespace", async () => {
  const { stdout } = new Deno.Command("ip", { args: ["-o", "link"] })
    .outputSync();
  if (new TextDecoder().decode(stdout).trim().split("\n").length < 2) {
    return; // this machine has only lo: nothing to refuse
  }
  const path = new URL("./netns/ipmidi.ts", import.meta.url).pathname;
  await using child = new Child(DENO, ["test", "--allow-all", path], {
    env: { NO_COLOR: "1" },
  });
  const { code, stdout: out } = await child.result();
  assert.notEqual(code, 0);
  assert.match(
    out,
    /Refusing to send multicast: this is not a private network namespace/,
  );
});
