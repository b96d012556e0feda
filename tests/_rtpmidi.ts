// Copyright 2026 the midisock authors. MIT license.
// Test helper: node-rtpmidi (npm rtpmidi@1.0.0, a participant that someone
// else wrote) as a child process of the machine's node, through
// tests/fixtures/rtpmidi_peer.cjs. .ci/run installs the package into
// .cache/node-rtpmidi.

import dgram from "node:dgram";
import { customPeer, onPath, type Peer } from "./_peers.ts";

const FIXTURE = new URL("./fixtures/rtpmidi_peer.cjs", import.meta.url)
  .pathname;

/** The node_modules folder with rtpmidi in it. */
export const RTPMIDI_MODULES = new URL(
  "../.cache/node-rtpmidi/node_modules",
  import.meta.url,
).pathname;

/** node-rtpmidi, run with node: the RTP-MIDI peer of the interop tests. */
export const NODE_RTPMIDI: Peer = customPeer(
  "rtpmidi (npm, for node)",
  "npm install --prefix .cache/node-rtpmidi rtpmidi@1.0.0 (and apt-get install nodejs)",
  () => {
    if (!onPath("node")) return "no node on the PATH";
    const run = Deno.permissions.querySync({ name: "run", command: "node" });
    if (run.state !== "granted") return "no permission to run node";
    try {
      Deno.statSync(`${RTPMIDI_MODULES}/rtpmidi/src/Session.js`);
    } catch {
      return `no ${RTPMIDI_MODULES}/rtpmidi`;
    }
    return undefined;
  },
);

/** An even UDP port P with P and P+1 free on 127.0.0.1 (as node-rtpmidi needs). */
export async function freeEvenPair(): Promise<number> {
  const bind = (port: number) =>
    new Promise<dgram.Socket | undefined>((resolve) => {
      const socket = dgram.createSocket("udp4");
      socket.once("error", () => {
        socket.close();
        resolve(undefined);
      });
      socket.bind(port, "127.0.0.1", () => resolve(socket));
    });
  for (let i = 0; i < 50; i++) {
    const p = 20000 + 2 * Math.floor(Math.random() * 20000);
    const a = await bind(p);
    const b = a && await bind(p + 1);
    a?.close();
    b?.close();
    if (a && b) return p;
  }
  throw new Error("No free even UDP port pair on 127.0.0.1");
}

type Line = {
  ready?: number;
  stream?: string;
  removed?: string;
  message?: number[];
  error?: string;
};

/** A node-rtpmidi session in a child process. */
export class RtpMidiPeer implements AsyncDisposable {
  readonly port: number;
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #lines: Line[] = [];
  readonly #stderr: Promise<string>;
  readonly #reading: Promise<void>;
  #changed = Promise.withResolvers<void>();
  #done = false;

  /**
   * Starts node-rtpmidi on `port` (even) and `port`+1; with `invite`, it
   * invites that session.
   */
  constructor(
    port: number,
    name: string,
    invite?: { host: string; port: number },
  ) {
    this.port = port;
    const args = [FIXTURE, RTPMIDI_MODULES, String(port), name];
    if (invite) args.push(invite.host, String(invite.port));
    this.#child = new Deno.Command("node", {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(60_000),
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    this.#stderr = new Response(this.#child.stderr).text();
    const stdout = this.#child.stdout;
    this.#reading = (async () => {
      let rest = "";
      for await (const chunk of stdout.pipeThrough(new TextDecoderStream())) {
        const parts = (rest + chunk).split("\n");
        rest = parts.pop()!;
        for (const part of parts) {
          if (part.startsWith("{")) this.#lines.push(JSON.parse(part));
        }
        this.#notify();
      }
      this.#done = true;
      this.#notify();
    })();
  }

  #notify(): void {
    const c = this.#changed;
    this.#changed = Promise.withResolvers<void>();
    c.resolve();
  }

  /** Waits for a line that `match` picks, and returns it. */
  async wait(
    what: string,
    match: (line: Line) => boolean,
    ms = 15_000,
  ): Promise<Line> {
    const deadline = AbortSignal.timeout(ms);
    let from = 0;
    while (true) {
      for (; from < this.#lines.length; from++) {
        if (match(this.#lines[from])) return this.#lines.splice(from, 1)[0];
      }
      if (this.#done) {
        throw new Error(
          `node-rtpmidi ended before ${what}: ${await this.#stderr}`,
        );
      }
      if (deadline.aborted) {
        throw new Error(`Timed out waiting for node-rtpmidi's ${what}`);
      }
      await Promise.race([
        this.#changed.promise,
        new Promise((r) => {
          const t = setTimeout(r, 100);
          this.#changed.promise.then(() => clearTimeout(t));
        }),
      ]);
    }
  }

  /** The next `n` MIDI messages it received, as bytes. */
  async messages(n: number, ms = 15_000): Promise<number[][]> {
    const out: number[][] = [];
    while (out.length < n) {
      out.push(
        (await this.wait(
          `message ${out.length + 1} of ${n}`,
          (l) => l.message !== undefined,
          ms,
        )).message!,
      );
    }
    return out;
  }

  /** Sends MIDI messages, each in a tick of its own. */
  send(messages: readonly (readonly number[])[]): Promise<void> {
    return this.#write({ send: messages });
  }

  /** Sends back every message it receives from now on. */
  echo(): Promise<void> {
    return this.#write({ echo: true });
  }

  /** Ends its session (BY) and exits. */
  end(): Promise<void> {
    return this.#write({ end: true });
  }

  #write(command: unknown): Promise<void> {
    return this.#writer.write(
      new TextEncoder().encode(JSON.stringify(command) + "\n"),
    );
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#writer.close().catch(() => {});
    const timer = setTimeout(() => {
      try {
        this.#child.kill();
      } catch { /* gone */ }
    }, 2000);
    await this.#child.status;
    clearTimeout(timer);
    await this.#reading.catch(() => {});
    await this.#stderr.catch(() => {});
  }
}
