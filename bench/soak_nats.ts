// Copyright 2026 the midisock authors. MIT license.
/**
 * Losses across NATS, counted: hub A streams to hub B through a real
 * nats-server, which is paused (SIGSTOP) for a few seconds, let go on
 * (SIGCONT), then killed (SIGKILL) and started again on its port after a
 * while. It prints how many messages did not arrive, and how many of those
 * the two bridges counted:
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 --allow-run=nats-server --allow-env --allow-read bench/soak_nats.ts [--messages=50000] [--pause=5000] [--down=2000]
 * ```
 *
 * ```
 * lost N of M messages, counted C (sender S + receiver R)
 * ```
 *
 * The sender's share is what hub A's bridge did not publish (the link was
 * down, or lost before NATS took it), and what hub A dropped for its bridge
 * when it cut it off as slow; the receiver's is what hub B's bridge found
 * lost on the way, and what it dropped because hub B fell behind. Every
 * message is a 3-byte polytouch, so that a count in bytes (of a version
 * that counted bytes) divides by 3 into messages. It is bounded: M messages
 * spread over the scenario (about 13 s with the defaults), then at most
 * 30 s for the last ones to arrive.
 *
 * @module
 */

import { connect, message, PortServer } from "../mod.ts";
import { joinNats } from "../nats.ts";
import { numberFlag } from "./_flags.ts";

const MESSAGES = numberFlag("messages", 50_000);
const PAUSE = numberFlag("pause", 5000);
const DOWN = numberFlag("down", 2000);

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A nats-server on a free loopback port, to pause, kill and start again. */
class Nats {
  readonly port: number;
  #child: Deno.ChildProcess | undefined;

  constructor() {
    const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.port = probe.addr.port;
    probe.close();
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.#child = new Deno.Command("nats-server", {
      args: ["-a", "127.0.0.1", "-p", String(this.port)],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    for (let i = 0; i < 200; i++) {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port: this.port }))
          .close();
        return;
      } catch {
        await delay(50);
      }
    }
    throw new Error("nats-server did not start");
  }

  signal(signal: Deno.Signal): void {
    this.#child?.kill(signal);
  }

  async kill(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    child?.kill("SIGKILL");
    await child?.status;
  }
}

const nats = new Nats();
await nats.start();
const a = new PortServer("127.0.0.1", 0, { relay: true });
const b = new PortServer("127.0.0.1", 0, { relay: true, slowClient: "wait" });
const bridgeA = await joinNats(a, { servers: nats.url, bus: "soak", hub: "a" });
const bridgeB = await joinNats(b, { servers: nats.url, bus: "soak", hub: "b" });
const sender = await connect("127.0.0.1", a.port);
const receiver = await connect("127.0.0.1", b.port);
while (
  a.ports.length < 2 || b.ports.length < 2 || !bridgeB.hubs.includes("a")
) {
  await delay(10);
}

let received = 0;
let lastArrival = performance.now();
const reading = (async () => {
  for await (const _ of receiver) {
    received++;
    lastArrival = performance.now();
  }
})();

// The scenario, in ms from the start: the sending goes on through all of it.
const pauseAt = 2000;
const resumeAt = pauseAt + PAUSE;
const killAt = resumeAt + 2000;
const restartAt = killAt + DOWN;
const end = restartAt + 2000;
const t0 = performance.now();
const scenario = (async () => {
  await delay(pauseAt);
  nats.signal("SIGSTOP");
  await delay(resumeAt - pauseAt);
  nats.signal("SIGCONT");
  await delay(killAt - resumeAt);
  await nats.kill();
  await delay(restartAt - killAt);
  await nats.start();
})();

let sent = 0;
while (sent < MESSAGES) {
  const due = Math.min(
    MESSAGES,
    Math.ceil(MESSAGES * (performance.now() - t0) / end),
  );
  for (; sent < due; sent++) {
    await sender.send(
      message("polytouch", { note: sent % 128, value: (sent >> 7) % 128 }),
    );
  }
  await delay(5);
}
await scenario;

// The last ones: both links up, B hears A, and nothing came for 3 s (three
// of A's heartbeats, which carry its last numbers), within 30 s.
const settled = performance.now();
while (performance.now() - settled < 30_000) {
  if (
    bridgeA.connected && bridgeB.connected && bridgeB.hubs.includes("a") &&
    performance.now() - lastArrival > 3000
  ) break;
  await delay(100);
}

const sa = bridgeA.stats as unknown as Record<string, number>;
const sb = bridgeB.stats as unknown as Record<string, number>;
// This version's counters, in MIDI messages; or those of a version that
// counted the sender's drops in bytes (its own, and the hub's for it).
const inMessages = "hubDropped" in sa;
const senderCounted = inMessages
  ? sa.dropped + sa.hubDropped
  : (sa.droppedBytes + a.stats.droppedBytes) / 3;
const receiverCounted = sb.lost + sb.overflowed;
const lost = sent - received;
const counted = senderCounted + receiverCounted;
console.log(
  `lost ${lost} of ${sent} messages, counted ${counted} (sender ${senderCounted} + receiver ${receiverCounted})`,
);
console.log(
  `  uncounted ${lost - counted}; after ${
    ((performance.now() - t0) / 1000).toFixed(1)
  } s`,
);
console.log(`  hub A's bridge: ${JSON.stringify(sa)}`);
console.log(`  hub B's bridge: ${JSON.stringify(sb)}`);
console.log(`  hub A dropped ${a.stats.droppedBytes} bytes for slow clients`);

await sender.close();
await receiver.close();
await reading;
await bridgeA.close();
await bridgeB.close();
await a.close();
await b.close();
await nats.kill();
