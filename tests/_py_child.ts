// Copyright 2026 the midisock authors. MIT license.
// Python children for tests: the mido peer (fixtures/py_net_peer.py) and the
// fault-injecting proxy (fixtures/fault_proxy.py).

import assert from "node:assert/strict";
import { PYTHON, within } from "./_net.ts";

const PEER = new URL("./fixtures/py_net_peer.py", import.meta.url).pathname;
const PROXY = new URL("./fixtures/fault_proxy.py", import.meta.url).pathname;

/** Splits text into lines (without the newlines). */
class LineStream extends TransformStream<string, string> {
  constructor() {
    let rest = "";
    super({
      transform(chunk, controller) {
        const parts = (rest + chunk).split("\n");
        rest = parts.pop()!;
        for (const line of parts) controller.enqueue(line);
      },
      flush(controller) {
        if (rest !== "") controller.enqueue(rest);
      },
    });
  }
}

/**
 * A Python script (for /usr/bin/python3, with mido) as a child process. Its
 * stdout is read line by line, its stderr collected, and lines can be
 * written to its stdin; dispose kills it if it is still running, and always
 * waits for it and drains its pipes, so the sanitizers stay quiet.
 */
export class PyChild implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  readonly #lines: ReadableStreamDefaultReader<string>;
  readonly #stderr: Promise<string>;
  readonly #args: string[];
  #status: Deno.CommandStatus | undefined;

  readonly #stdin: WritableStreamDefaultWriter<Uint8Array> | undefined;
  readonly #script: string;

  constructor(
    script: string,
    args: string[],
    options: { stdin?: boolean } = {},
  ) {
    this.#args = args;
    this.#script = script.split("/").pop()!;
    this.#child = new Deno.Command(PYTHON, {
      args: [script, ...args],
      stdin: options.stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
      // A hang guard: the peer has its own alarm, well before this.
      signal: AbortSignal.timeout(60_000),
    }).spawn();
    this.#lines = this.#child.stdout
      .pipeThrough(new TextDecoderStream())
      .pipeThrough(new LineStream())
      .getReader();
    this.#stderr = new Response(this.#child.stderr).text();
    this.#stdin = options.stdin ? this.#child.stdin.getWriter() : undefined;
  }

  /** Writes a line to the child's stdin (made with `stdin: true`). */
  async write(line: string): Promise<void> {
    await this.#stdin!.write(new TextEncoder().encode(line + "\n"));
  }

  /** The next line that the peer prints. */
  async line(): Promise<string> {
    const { done, value } = await within(
      this.#lines.read(),
      `a line from ${this.#script} ${this.#args.join(" ")}`,
    );
    if (done) {
      await this.#wait();
      throw new Error(
        `${this.#script} ${this.#args.join(" ")} ended early: ${await this
          .#stderr}`,
      );
    }
    return value;
  }

  /** Every line until the peer exits, which must be with status 0. */
  async rest(): Promise<string[]> {
    const lines: string[] = [];
    while (true) {
      const { done, value } = await within(
        this.#lines.read(),
        `the output of ${this.#script} ${this.#args.join(" ")}`,
      );
      if (done) break;
      lines.push(value);
    }
    const status = await this.#wait();
    assert.equal(
      status.code,
      0,
      `${this.#script} ${
        this.#args.join(" ")
      } exited with ${status.code}: ${await this
        .#stderr}`,
    );
    return lines;
  }

  async #wait(): Promise<Deno.CommandStatus> {
    this.#status ??= await this.#child.status;
    return this.#status;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#stdin?.close().catch(() => {});
    if (this.#status === undefined) {
      try {
        this.#child.kill("SIGKILL");
      } catch {
        // It has just exited.
      }
    }
    await this.#lines.cancel().catch(() => {});
    await this.#stderr;
    await this.#wait();
  }
}

/** The mido peer on a plain socket (see fixtures/py_net_peer.py). */
export class PyPeer extends PyChild {
  constructor(args: string[], options: { stdin?: boolean } = {}) {
    super(PEER, args, options);
  }
}

/**
 * A TCP proxy on 127.0.0.1 in front of a server, which cuts, resets,
 * stalls or delays its connections on cue (see fixtures/fault_proxy.py).
 */
export class FaultProxy extends PyChild {
  /** The proxy's port, once {@linkcode FaultProxy.start} has resolved. */
  port = 0;

  private constructor(port: number) {
    super(PROXY, ["127.0.0.1", String(port)], { stdin: true });
  }

  /** Starts a proxy in front of 127.0.0.1:`port`. */
  static async start(port: number): Promise<FaultProxy> {
    const proxy = new FaultProxy(port);
    const line = await proxy.line();
    const match = /^port (\d+)$/.exec(line);
    if (!match) throw new Error(`fault_proxy.py said ${JSON.stringify(line)}`);
    proxy.port = Number(match[1]);
    return proxy;
  }

  /**
   * Gives a command (cut, reset, stall, resume, delay MS, count) and waits
   * until it is done; returns the number it answers with, if any.
   */
  async command(command: string): Promise<number | undefined> {
    await this.write(command);
    const answer = await this.line();
    const match = /^ok(?: (\d+))?$/.exec(answer);
    if (!match) {
      throw new Error(
        `fault_proxy.py answered ${JSON.stringify(answer)} to ${command}`,
      );
    }
    return match[1] === undefined ? undefined : Number(match[1]);
  }
}
