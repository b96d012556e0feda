// Copyright 2026 the midisock authors. MIT license.
// Test helper: MIDI devices with no sound card. A JACK server in user space
// (jackd's dummy driver), started by each test that needs it under a name of
// its own and stopped by its PID; RtMidi built with JACK (deno task
// build:jack), which MIDISOCK_RTMIDI selects; and JACK's example clients as
// a keyboard (jack_midiseq) and a synth (jack_midi_dump).
//
// Without the JACK build, the tests that need it are ignored, and the run
// says so once (tests/_peers.ts). Under CI (MIDISOCK_REQUIRE_PEERS=1, or
// MIDISOCK_REQUIRE_JACK=1) they run, and fail if it is missing.

import { Child, DENO, HANG_GUARD_MS } from "./_child.ts";
import { customPeer, ignoreWithout, onPath } from "./_peers.ts";

/** The folder of the JACK build: MIDISOCK_RTMIDI, or .cache/rtmidi-jack. */
export const JACK_BUILD: string = Deno.env.get("MIDISOCK_RTMIDI") ||
  new URL("../.cache/rtmidi-jack", import.meta.url).pathname;

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** What is missing to run the JACK tests, if anything. */
function missing(): string | undefined {
  return !exists(`${JACK_BUILD}/build/Release/midi.node`)
    ? `no JACK build of RtMidi at ${JACK_BUILD}`
    : !onPath("jackd")
    ? "no jackd on the PATH"
    : undefined;
}

/** JACK, with RtMidi built for it. */
const JACK = customPeer(
  "jackd2",
  "apt-get install jackd2 libjack-jackd2-dev, then deno task build:jack",
  missing,
  "MIDISOCK_REQUIRE_JACK",
);

/**
 * Ignore the JACK tests: only when the build or jackd is missing, and only
 * outside CI.
 */
export const IGNORE_JACK: boolean = ignoreWithout(JACK);

if (!IGNORE_JACK && JACK.missing === undefined) {
  // The device module reads this when it first loads RtMidi.
  Deno.env.set("MIDISOCK_RTMIDI", JACK_BUILD);
}

/**
 * Stops a child with SIGINT, on which JACK's clients close their client
 * and jackd stops at once (after a client killed otherwise, jackd takes
 * seconds to stop), and waits for it; SIGKILL if it is still there after
 * the hang guard.
 */
async function stop(child: Child): Promise<void> {
  try {
    child.kill("SIGINT");
  } catch {
    // It has exited already.
  }
  await child.result().catch(() => {});
  await child[Symbol.asyncDispose]();
}

let servers = 0;

/** A JACK server of the test's own; `await using` stops it. */
export class Jack implements AsyncDisposable {
  readonly name: string;
  readonly #jackd: Child;

  private constructor(name: string, jackd: Child) {
    this.name = name;
    this.#jackd = jackd;
  }

  /**
   * Starts `jackd --realtime -d dummy -r 48000 -p 256` under a name of
   * its own, makes it the default server of this process and its children
   * (JACK_DEFAULT_SERVER), and waits until it answers.
   *
   * Real-time scheduling, because without it a busy machine makes JACK's
   * clients miss their period, and JACK then loses their messages (a
   * test that closed 40 outputs lost 16 of 80 messages with three busy
   * loops beside it, and none with --realtime). Where it is not allowed,
   * jackd says so and runs without it.
   */
  static async start(): Promise<Jack> {
    const lacking = JACK.missing;
    if (lacking !== undefined) {
      throw new Error(`Cannot run the JACK device tests: ${lacking}`);
    }
    const name = `midisock-test-${Deno.pid}-${++servers}`;
    const jackd = new Child("jackd", [
      "-n",
      name,
      "--realtime",
      "-d",
      "dummy",
      "-r",
      "48000",
      "-p",
      "256",
    ], { env: { JACK_NO_AUDIO_RESERVATION: "1" } });
    const jack = new Jack(name, jackd);
    try {
      Deno.env.set("JACK_DEFAULT_SERVER", name);
      await using wait = new Child("jack_wait", ["-w", "-t", "10"]);
      const { code, stdout } = await wait.result();
      if (code !== 0) {
        throw new Error(
          `jackd ${name} did not start: jack_wait exited ${code}: ${stdout}; jackd said: ${
            jackd.stderr.join(" ")
          }`,
        );
      }
    } catch (error) {
      await jack[Symbol.asyncDispose]();
      throw error;
    }
    return jack;
  }

  /**
   * Stops jackd by its PID, waits for it, and removes the semaphores that
   * JACK leaves in /dev/shm for its clients (`jack_sem.UID_SERVER_CLIENT`)
   * when one was not closed cleanly.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await stop(this.#jackd);
    try {
      for (const entry of Deno.readDirSync("/dev/shm")) {
        if (
          /^jack_sem\.\d+_(.*)$/.exec(entry.name)?.[1].startsWith(
            `${this.name}_`,
          )
        ) {
          Deno.removeSync(`/dev/shm/${entry.name}`);
        }
      }
    } catch {
      // No /dev/shm, or not ours to clean: nothing to do.
    }
  }
}

/**
 * Waits for a JACK port to exist, by jack_lsp: the port of that name, or
 * the one whose name ends with `:` and that name (a client's port whose
 * client name JACK chose, such as "RtMidi Output Client-01:bus").
 *
 * @returns The port's whole name.
 */
export async function waitForPort(port: string): Promise<string> {
  const deadline = Date.now() + HANG_GUARD_MS;
  let listed: string[] = [];
  // Bounded by the deadline; each turn runs jack_lsp once.
  while (Date.now() < deadline) {
    await using lsp = new Child("jack_lsp", []);
    listed = (await lsp.result()).stdout.split("\n");
    const found = listed.find((name) =>
      name === port || name.endsWith(`:${port}`)
    );
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`No JACK port ${port}; jack_lsp lists ${listed.join(", ")}`);
}

/** Waits until a client's port is listed; stops the client if it never is. */
async function whenListed<T extends AsyncDisposable & { port: string }>(
  client: T,
): Promise<T> {
  try {
    await waitForPort(client.port);
  } catch (error) {
    await client[Symbol.asyncDispose]();
    throw error;
  }
  return client;
}

/** Connects two JACK ports, by jack_connect. */
export async function jackConnect(from: string, to: string): Promise<void> {
  await using connect = new Child("jack_connect", [from, to]);
  const { code, stderr } = await connect.result();
  if (code !== 0) {
    throw new Error(`jack_connect ${from} ${to} exited ${code}: ${stderr}`);
  }
}

/**
 * A MIDI sink: `jack_midi_dump CLIENT`, whose port is `CLIENT:input`. Each
 * event it prints is a line such as "   0: 90 3c 64 note on ...".
 */
export class MidiDump implements AsyncDisposable {
  readonly client: string;
  readonly port: string;
  readonly #child: Child;

  private constructor(client: string, child: Child) {
    this.client = client;
    this.port = `${client}:input`;
    this.#child = child;
  }

  /** Starts it, and waits for its port. */
  static async start(client: string): Promise<MidiDump> {
    // stdbuf: a line at a time, not a block at exit.
    return await whenListed(
      new MidiDump(
        client,
        new Child("stdbuf", ["-oL", "jack_midi_dump", client]),
      ),
    );
  }

  /** The events so far, each as its bytes. */
  get events(): number[][] {
    const events: number[][] = [];
    for (const line of this.#child.stdout) {
      const match = line.match(/^\s*\d+:\s+(.*)$/);
      if (!match) continue;
      const bytes: number[] = [];
      for (const word of match[1].split(/\s+/)) {
        if (!/^[0-9a-f]{2}$/.test(word)) break;
        bytes.push(parseInt(word, 16));
      }
      events.push(bytes);
    }
    return events;
  }

  /** Waits until it has printed `count` events, and returns them all. */
  async waitForEvents(count: number): Promise<number[][]> {
    await this.#child.waitFor(
      "stdout",
      () => this.events.length >= count,
      `${count} MIDI events`,
    );
    return this.events;
  }

  /** Stops it by its PID. */
  async [Symbol.asyncDispose](): Promise<void> {
    await stop(this.#child);
  }
}

/**
 * A MIDI source: `jack_midiseq CLIENT`, whose port is `CLIENT:out`. It
 * plays a loop of 24000 samples (half a second at 48 kHz): note 60 from
 * sample 0 for 8000 samples, note 63 from sample 12000 for 8000, each as
 * note_on velocity 64 and note_off velocity 64, on channel 0.
 */
export class MidiSeq implements AsyncDisposable {
  readonly port: string;
  readonly #child: Child;

  private constructor(client: string, child: Child) {
    this.port = `${client}:out`;
    this.#child = child;
  }

  /** Starts it, and waits for its port. */
  static async start(client: string): Promise<MidiSeq> {
    return await whenListed(
      new MidiSeq(
        client,
        new Child("jack_midiseq", [
          client,
          "24000",
          "0",
          "60",
          "8000",
          "12000",
          "63",
          "8000",
        ]),
      ),
    );
  }

  /** Stops it by its PID. */
  async [Symbol.asyncDispose](): Promise<void> {
    await stop(this.#child);
  }
}

const CLI = new URL("../src/cli/main.ts", import.meta.url).pathname;

/** Runs `midisock ARGS...` with the permissions that MIDI ports need. */
export function midisockWithDevices(args: string[]): Child {
  return new Child(DENO, [
    "run",
    "--allow-net",
    "--allow-read",
    "--allow-env",
    "--allow-ffi",
    CLI,
    ...args,
  ]);
}
