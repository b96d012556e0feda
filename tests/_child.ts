// Copyright 2026 the midisock authors. MIT license.
// Test helper: a child process whose stdout and stderr are read line by line
// as they arrive, so a test can wait for a line (a server's port, a
// client's connect) and then check the whole output once the child exits.
// Every child is awaited and its pipes are read to the end, so the ops and
// resources sanitizers stay quiet; `await using` kills a child that is
// still running when the test ends.

/**
 * The Deno to run children with: the one running the tests, if the test may
 * run it. `--allow-run=deno` allows the `deno` found on PATH, whose path is
 * not always Deno.execPath() (a symlink to it, for example), so the test
 * falls back to `deno` in that case.
 */
export const DENO: string =
  Deno.permissions.querySync({ name: "run", command: Deno.execPath() })
      .state === "granted"
    ? Deno.execPath()
    : "deno";

/** How long a test waits for a line or an exit before it gives up. */
export const HANG_GUARD_MS = 20_000;

/** What a child printed, and how it ended. */
export interface ChildResult {
  code: number;
  signal: Deno.Signal | null;
  stdout: string;
  stderr: string;
}

/** Options for {@linkcode Child}. */
export interface ChildOptions {
  /** Text to write to the child's stdin, which is then closed. */
  stdin?: string;
  /** Environment variables to add to the child's. */
  env?: Record<string, string>;
  /** The directory to run it in: this process's, by default. */
  cwd?: string;
}

/** Rejects when the signal aborts; `clear` stops listening. */
function whenAborted(signal: AbortSignal, what: () => string) {
  let onAbort!: () => void;
  const promise = new Promise<never>((_, reject) => {
    onAbort = () => reject(new Error(`Timed out waiting for ${what()}`));
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  promise.catch(() => {});
  return {
    promise,
    clear: () => signal.removeEventListener("abort", onAbort),
  };
}

class Output {
  text = "";
  lines: string[] = [];
  ended = false;
  #partial = "";
  #changed = Promise.withResolvers<void>();

  /** Resolves at the next change (a line, or the end). */
  get changed(): Promise<void> {
    return this.#changed.promise;
  }

  async read(stream: ReadableStream<Uint8Array>): Promise<void> {
    try {
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        this.text += chunk;
        const parts = (this.#partial + chunk).split("\n");
        this.#partial = parts.pop()!;
        if (parts.length > 0) {
          this.lines.push(...parts);
          this.#notify();
        }
      }
    } finally {
      if (this.#partial !== "") this.lines.push(this.#partial);
      this.ended = true;
      this.#notify();
    }
  }

  #notify(): void {
    const changed = this.#changed;
    this.#changed = Promise.withResolvers<void>();
    changed.resolve();
  }
}

/** A child process, with its output read as it arrives. */
export class Child implements AsyncDisposable {
  readonly name: string;
  readonly #process: Deno.ChildProcess;
  readonly #out = new Output();
  readonly #err = new Output();
  readonly #done: Promise<unknown>;
  readonly #status: Promise<Deno.CommandStatus>;
  #exited = false;

  constructor(command: string, args: string[], options: ChildOptions = {}) {
    this.name = [command, ...args].join(" ");
    this.#process = new Deno.Command(command, {
      args,
      env: options.env,
      cwd: options.cwd,
      stdin: options.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const tasks: Promise<unknown>[] = [
      this.#out.read(this.#process.stdout),
      this.#err.read(this.#process.stderr),
    ];
    if (options.stdin !== undefined) {
      tasks.push(
        ReadableStream.from([new TextEncoder().encode(options.stdin)])
          .pipeTo(this.#process.stdin)
          .catch(() => {}), // the child may exit without reading it all
      );
    }
    this.#done = Promise.all(tasks);
    this.#status = this.#process.status.then((status) => {
      this.#exited = true;
      return status;
    });
  }

  /** Whether the child has exited (as far as this process has seen). */
  get exited(): boolean {
    return this.#exited;
  }

  /** The lines printed on stdout so far. */
  get stdout(): readonly string[] {
    return this.#out.lines;
  }

  /** The lines printed on stderr so far. */
  get stderr(): readonly string[] {
    return this.#err.lines;
  }

  /**
   * Waits until a line on stdout or stderr passes `test`, and returns its
   * result. Gives up after {@linkcode HANG_GUARD_MS}, or if the stream ends.
   */
  async waitFor<T>(
    stream: "stdout" | "stderr",
    test: (lines: readonly string[]) => T | undefined | null | false,
    what: string,
  ): Promise<T> {
    const output = stream === "stdout" ? this.#out : this.#err;
    const describe = () =>
      `${what} on the ${stream} of ${this.name}; it has: ${
        JSON.stringify(output.lines)
      }`;
    const guard = whenAborted(AbortSignal.timeout(HANG_GUARD_MS), describe);
    try {
      // Each turn waits for a new line; the guard bounds the turns.
      while (true) {
        const found = test(output.lines);
        if (found) return found;
        if (output.ended) throw new Error(`No ${describe()}`);
        await Promise.race([output.changed, guard.promise]);
      }
    } finally {
      guard.clear();
    }
  }

  /** Waits for a line on stdout or stderr that matches a pattern. */
  waitForMatch(
    stream: "stdout" | "stderr",
    pattern: RegExp,
  ): Promise<RegExpMatchArray> {
    return this.waitFor(stream, (lines) => {
      for (const line of lines) {
        const match = line.match(pattern);
        if (match) return match;
      }
    }, `a line like ${pattern}`);
  }

  /** Waits until stdout has `count` lines that pass `test`. */
  waitForCount(
    count: number,
    test: (line: string) => boolean,
    what: string,
  ): Promise<true> {
    return this.waitFor(
      "stdout",
      (lines) => lines.filter(test).length >= count,
      `${count} lines of ${what}`,
    );
  }

  /** Sends a signal to the child. */
  kill(signal: Deno.Signal): void {
    this.#process.kill(signal);
  }

  /**
   * Waits for the child to exit and for its output to end. Gives up (and
   * kills it) after {@linkcode HANG_GUARD_MS}.
   */
  async result(): Promise<ChildResult> {
    const guard = whenAborted(
      AbortSignal.timeout(HANG_GUARD_MS),
      () =>
        `${this.name} to exit; stdout: ${
          JSON.stringify(this.#out.text)
        }, stderr: ${JSON.stringify(this.#err.text)}`,
    );
    try {
      const status = await Promise.race([this.#status, guard.promise]);
      await Promise.race([this.#done, guard.promise]);
      return {
        code: status.code,
        signal: status.signal,
        stdout: this.#out.text,
        stderr: this.#err.text,
      };
    } finally {
      guard.clear();
    }
  }

  /** Kills the child if it still runs, and waits for it and its output. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#exited) {
      try {
        this.#process.kill("SIGKILL");
      } catch {
        // It has just exited.
      }
    }
    await this.#status;
    await this.#done;
  }
}

const CLI = new URL("../src/cli/main.ts", import.meta.url).pathname;

/** Runs `midisock ARGS...` (src/cli.ts) as a child process. */
export function midisock(args: string[], options?: ChildOptions): Child {
  return new Child(
    DENO,
    ["run", "--allow-net", "--allow-read", "--allow-env", CLI, ...args],
    options,
  );
}

/** Runs `midisock ARGS...` to its end and returns what it printed. */
export async function runMidisock(
  args: string[],
  options?: ChildOptions,
): Promise<ChildResult> {
  await using child = midisock(args, options);
  return await child.result();
}
