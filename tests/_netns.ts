// Copyright 2026 the midisock authors. MIT license.
// Test helper: multicast (ipMIDI) and mDNS tests run only inside a private
// network namespace whose only interface is loopback, which the test makes
// itself: `unshare --net` (as root), `ip link set lo up`, and a route for
// multicast on lo. No datagram of theirs can leave the machine.
//
// A test file tests/lan_test.ts runs each file of tests/netns/ with `deno
// test` in such a namespace. Each of those files calls
// assertPrivateNetns() first, and refuses to run anywhere else. The
// namespace has no network, so every module is cached (`deno cache`) before
// it is entered.

import { Child, DENO } from "./_child.ts";
import { customPeer, onPath, type Peer } from "./_peers.ts";

/** The interfaces this process sees, by name. */
function interfaceNames(): string[] {
  return [...new Set(Deno.networkInterfaces().map((i) => i.name))];
}

/**
 * Throws unless this process is in a network namespace whose only interface
 * is `lo` (checked on `ip -o link` and on Deno's list of interfaces): what
 * every test that sends multicast checks before it sends.
 */
export function assertPrivateNetns(): void {
  const names = interfaceNames();
  const { stdout } = new Deno.Command("ip", { args: ["-o", "link"] })
    .outputSync();
  const links = new TextDecoder().decode(stdout).split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => l.split(":")[1]?.trim().split("@")[0]);
  if (
    links.length !== 1 || links[0] !== "lo" ||
    names.some((name) => name !== "lo")
  ) {
    throw new Error(
      `Refusing to send multicast: this is not a private network namespace with only lo (links: ${
        links.join(", ")
      }; interfaces: ${names.join(", ")}); run it through tests/lan_test.ts`,
    );
  }
}

/** What a private network namespace needs: root, unshare and ip. */
export const NETNS: Peer = customPeer(
  "util-linux",
  "apt-get install util-linux iproute2 (and run the tests as root)",
  () => {
    if (!onPath("unshare")) return "no unshare on the PATH";
    if (!onPath("ip")) return "no ip on the PATH (iproute2)";
    const { success } = new Deno.Command("unshare", {
      args: ["--net", "true"],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).outputSync();
    if (!success) return "unshare --net fails here (it needs root)";
    return undefined;
  },
);

/** How long a file of tests in the namespace may run. */
const RUN_MS = 180_000;

/** The permissions of a test file run in the namespace. */
const PERMISSIONS = [
  "--allow-net",
  "--allow-run",
  "--allow-sys",
  "--allow-read",
  "--allow-write=/tmp,/dev/shm",
  "--allow-env",
];

/**
 * Runs `deno test FILE` in a new private network namespace (lo, up, with a
 * route for 224.0.0.0/4) with a private /run, after caching its modules outside, and throws
 * with its output unless every test passed.
 */
export async function testInNetns(file: string): Promise<void> {
  const path = new URL(`./netns/${file}`, import.meta.url).pathname;
  const cli = new URL("../src/cli/main.ts", import.meta.url).pathname;
  // The namespace has no network: fetch every module first.
  await using cache = new Child(DENO, ["cache", path, cli]);
  const cached = await cache.result();
  if (cached.code !== 0) {
    throw new Error(`deno cache ${path} failed: ${cached.stderr}`);
  }
  // A /run of its own too (a mount namespace), for avahi-daemon's pid
  // file and socket.
  const script = `ip link set lo up && ip link set lo multicast on && ` +
    `ip route add 224.0.0.0/4 dev lo && mount -t tmpfs tmpfs /run && ` +
    `exec "$0" test ${PERMISSIONS.join(" ")} "$1"`;
  const child = new Deno.Command("unshare", {
    args: ["--net", "--mount", "--", "sh", "-c", script, DENO, path],
    env: { NO_COLOR: "1" },
    stdin: "null",
    signal: AbortSignal.timeout(RUN_MS),
  });
  const output = await child.output();
  const stdout = new TextDecoder().decode(output.stdout);
  const stderr = new TextDecoder().decode(output.stderr);
  if (!output.success) {
    throw new Error(
      `deno test ${file} in a private network namespace exited ${output.code}${
        output.signal ? ` (${output.signal}, after at most ${RUN_MS} ms)` : ""
      }:\n${stdout}\n${stderr}`,
    );
  }
  console.log(
    stdout.split("\n").filter((l) => / \.\.\. ok|passed|^discovery of/.test(l))
      .join("\n"),
  );
}

/** qmidinet, and the JACK it runs on, with JACK's example clients. */
export const QMIDINET: Peer = customPeer(
  "qmidinet",
  "apt-get install qmidinet jackd2",
  () => {
    for (const command of ["qmidinet", "jackd", "jack_midiseq"]) {
      if (!onPath(command)) return `no ${command} on the PATH`;
    }
    return onPath("jack_midi_dump") ? undefined : "no jack_midi_dump";
  },
);

/** avahi-daemon, avahi-utils and dbus: the mDNS peer. */
export const AVAHI: Peer = customPeer(
  "avahi-daemon",
  "apt-get install avahi-daemon avahi-utils dbus",
  () => {
    for (const command of ["avahi-daemon", "avahi-publish", "avahi-browse"]) {
      if (!onPath(command)) return `no ${command} on the PATH`;
    }
    return onPath("dbus-daemon") ? undefined : "no dbus-daemon on the PATH";
  },
);
