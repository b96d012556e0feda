// Copyright 2026 the midisock authors. MIT license.
// Test helper: a nats-server (Debian's; .ci/run installs it) on a free
// loopback port, started and stopped by its PID.

import { delay, freePort } from "./_net.ts";

/** The nats-server program. */
export const NATS_SERVER = "nats-server";

/** A nats-server child process on 127.0.0.1. */
export class NatsServer implements AsyncDisposable {
  /** Its port. */
  readonly port: number;
  readonly #args: string[];
  #child: Deno.ChildProcess | undefined;

  private constructor(port: number, args: string[]) {
    this.port = port;
    this.#args = args;
  }

  /**
   * Starts nats-server on 127.0.0.1 and a free port, with `args` added
   * (such as `--auth TOKEN`), and waits until it takes connections.
   */
  static async start(args: string[] = []): Promise<NatsServer> {
    const server = new NatsServer(freePort(), args);
    await server.restart();
    return server;
  }

  /** Its URL. */
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Starts it again on the same port (after stop()). */
  async restart(): Promise<void> {
    if (this.#child) throw new Error("nats-server is running");
    this.#child = new Deno.Command(NATS_SERVER, {
      args: ["-a", "127.0.0.1", "-p", String(this.port), ...this.#args],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    // Ready once it takes a connection: at most 200 tries, 10 s.
    for (let i = 0;; i++) {
      try {
        const conn = await Deno.connect({
          hostname: "127.0.0.1",
          port: this.port,
        });
        conn.close();
        return;
      } catch (error) {
        if (i >= 200) {
          await this.stop();
          throw new Error(`nats-server did not start on port ${this.port}`, {
            cause: error,
          });
        }
        await delay(50);
      }
    }
  }

  /** Pauses it (SIGSTOP, by its PID): it holds its sockets, and reads none. */
  pause(): void {
    this.#child?.kill("SIGSTOP");
  }

  /** Lets it go on after pause() (SIGCONT). */
  resume(): void {
    this.#child?.kill("SIGCONT");
  }

  /** Stops it, by its PID, and waits for it to exit. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#child = undefined;
    try {
      child.kill(signal);
      child.kill("SIGCONT"); // a paused one takes SIGTERM only once it goes on
    } catch {
      // It has exited already.
    }
    await child.status;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop("SIGKILL");
  }
}
