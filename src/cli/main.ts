// Copyright 2026 the midisock authors. MIT license.
/**
 * The `midisock` command-line program: a socket-port server that prints (and
 * can relay) what its clients send, a monitor that prints what a server
 * sends, and a sender of messages. It speaks mido's wire protocol, so its
 * peers can be mido programs (`mido-serve`, `mido-connect`) too.
 *
 * ```sh
 * deno install -g -n midisock --allow-net --allow-read --allow-env jsr:@x/midisock/cli
 * midisock serve --relay :8080         # a shared MIDI bus on localhost:8080
 * midisock monitor localhost:8080      # print what the bus carries
 * midisock send localhost:8080 "note_on note=60 velocity=100" "note_off note=60"
 * ```
 *
 * Without installing: `deno run --allow-net jsr:@x/midisock/cli serve :8080`.
 * Run `midisock --help` for every command and option.
 *
 * The program is also a function, {@linkcode main}, which takes the arguments
 * and returns the exit status.
 *
 * @example Sending a message with the program's main function
 * ```ts
 * import { main } from "@x/midisock/cli";
 * import { message, PortServer } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * await using server = new PortServer("127.0.0.1", 0);
 * const address = `127.0.0.1:${server.port}`;
 * assert.equal(await main(["send", address, "note_on note=60 velocity=100"]), 0);
 * assert.deepEqual(
 *   await server.receive(),
 *   message("note_on", { note: 60, velocity: 100 }),
 * );
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { oneLine } from "../util/error_text.ts";
import { usage, UsageError } from "./args.ts";
import { connectDevices } from "./connect.ts";
import { discoverCommand } from "./discover.ts";
import { HELP, PROGRAM, VERSION } from "./help.ts";
import { Lines } from "./lines.ts";
import { monitor } from "./monitor.ts";
import { record } from "./record.ts";
import { play } from "./play.ts";
import { ping } from "./ping.ts";
import { ports } from "./ports.ts";
import { send } from "./send.ts";
import { serve } from "./serve.ts";

/** Options for {@linkcode main}: where it reads and writes, and when to stop. */
export interface MainOptions {
  /**
   * Where `send` reads messages when it is given none as arguments.
   *
   * @default {Deno.stdin.readable}
   */
  stdin?: ReadableStream<Uint8Array>;
  /**
   * Where messages and events are printed. It is not closed.
   *
   * @default {Deno.stdout.writable}
   */
  stdout?: WritableStream<Uint8Array>;
  /**
   * Where errors and the address that `serve` listens on are printed. It is
   * not closed.
   *
   * @default {Deno.stderr.writable}
   */
  stderr?: WritableStream<Uint8Array>;
  /**
   * Stops `serve`, `monitor`, `record`, `play` and `ping` when it aborts,
   * as Ctrl-C (SIGINT) or SIGTERM does.
   */
  signal?: AbortSignal;
}

/**
 * Takes --help and --version before the command word, and runs the command
 * with the arguments after it.
 */
async function run(
  args: string[],
  options: MainOptions,
  out: Lines,
  err: Lines,
): Promise<number> {
  const { tokens } = parseArgs({
    args,
    options: {},
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  const first = tokens.find((token) => token.kind === "positional");
  const end = first?.index ?? args.length;
  let values;
  try {
    ({ values } = parseArgs({
      args: args.slice(0, end),
      options: {
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "V" },
      },
      strict: true,
    }));
  } catch (error) {
    throw usage(error);
  }
  if (values.help) {
    await out.write(HELP);
    return 0;
  }
  if (values.version) {
    await out.write(`${PROGRAM} ${VERSION}`);
    return 0;
  }
  if (first === undefined) {
    throw new UsageError(
      `Missing command: serve, monitor, send, record, play, ping, ports, connect or discover (see ${PROGRAM} --help)`,
    );
  }
  const rest = args.slice(end + 1);
  switch (first.value) {
    case "serve":
      return await serve(rest, options, out, err);
    case "monitor":
      return await monitor(rest, options, out);
    case "send":
      return await send(rest, options, out, err);
    case "record":
      return await record(rest, options, out);
    case "play":
      return await play(rest, options, out);
    case "ping":
      return await ping(rest, options, out);
    case "ports":
      return await ports(rest, out);
    case "connect":
      return await connectDevices(rest, options, out, err);
    case "discover":
      return await discoverCommand(rest, options, out);
    default:
      throw new UsageError(
        `Unknown command ${
          JSON.stringify(first.value)
        }: expected serve, monitor, send, record, play, ping, ports, connect or discover (see ${PROGRAM} --help)`,
      );
  }
}

/**
 * Runs the `midisock` program: `serve`, `monitor` or `send`, with `--help`
 * and `--version`. Errors are printed as one line on stderr, starting with
 * `midisock: error: `, and give a non-zero status: 2 for a usage error (a
 * bad command, option, address or message argument), 1 for a runtime error
 * (a refused connection, an address in use, a bad line on stdin).
 *
 * `serve` and `monitor` run until Ctrl-C (SIGINT), SIGTERM, or until
 * `options.signal` aborts; `monitor` also ends when the server closes the
 * connection.
 *
 * @param args The arguments, without the program's name (as `Deno.args`).
 * @param options Where to read and write, and a signal to stop.
 * @returns The exit status: 0, 1 or 2.
 *
 * @example Printing the version
 * ```ts
 * import { main } from "@x/midisock/cli";
 * import assert from "node:assert/strict";
 *
 * let text = "";
 * const stdout = new WritableStream<Uint8Array>({
 *   write(chunk) {
 *     text += new TextDecoder().decode(chunk);
 *   },
 * });
 * assert.equal(await main(["--version"], { stdout }), 0);
 * assert.match(text, /^midisock \d+\.\d+\.\d+\n$/);
 * ```
 *
 * @example Running a server until a signal stops it
 * ```ts
 * import { main } from "@x/midisock/cli";
 * import { connect, message } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * // Each write of main() is whole lines.
 * const collect = (each: (line: string) => void) =>
 *   new WritableStream<Uint8Array>({
 *     write(chunk) {
 *       new TextDecoder().decode(chunk).trimEnd().split("\n").forEach(each);
 *     },
 *   });
 * const listening = Promise.withResolvers<number>();
 * const disconnected = Promise.withResolvers<void>();
 * const lines: string[] = [];
 * const stop = new AbortController();
 * const serving = main(["serve", "127.0.0.1:0"], {
 *   stdout: collect((line) => {
 *     lines.push(line);
 *     if (line.startsWith("# disconnect")) disconnected.resolve();
 *   }),
 *   stderr: collect((line) => {
 *     const port = line.match(/listening on .*:(\d+)$/)?.[1];
 *     if (port) listening.resolve(Number(port));
 *   }),
 *   signal: stop.signal,
 * });
 *
 * const client = await connect("127.0.0.1", await listening.promise);
 * const name = `127.0.0.1:${client.localAddr.port}`;
 * await client.send(message("note_on", { note: 60, velocity: 100 }));
 * await client.close(); // with the note still on
 * await disconnected.promise;
 * stop.abort();
 * assert.equal(await serving, 0);
 * assert.deepEqual(lines, [
 *   `# connect ${name}`,
 *   `${name} note_on channel=0 note=60 velocity=100 time=0`,
 *   `${name} note_off channel=0 note=60 velocity=64 time=0`,
 *   `# released 1 note for ${name}`,
 *   `# disconnect ${name}`,
 * ]);
 * ```
 */
export async function main(
  args: string[],
  options: MainOptions = {},
): Promise<number> {
  const out = new Lines(options.stdout ?? Deno.stdout.writable);
  const err = new Lines(options.stderr ?? Deno.stderr.writable);
  try {
    return await run(args, options, out, err);
  } catch (error) {
    await err.write(`${PROGRAM}: error: ${oneLine(error)}`);
    return error instanceof UsageError ? 2 : 1;
  } finally {
    await out.close();
    await err.close();
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
