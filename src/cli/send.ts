// Copyright 2026 the midisock authors. MIT license.
// `midisock send`: sends messages, or bytes in hex, from the arguments or
// from stdin.

import { ReconnectingPort } from "../client/reconnecting_port.ts";
import { RefusedError } from "../client/refused_error.ts";
import { verdictError } from "../client/verdict.ts";
import type { Message } from "../midi/message.ts";
import { MidiParser } from "../midi/parser.ts";
import { parseMessage } from "../midi/text.ts";
import { PortClosedError } from "../port/errors.ts";
import type { SocketPort } from "../port/socket_port.ts";
import { checkClearToken, dial, dialName } from "../transport/dial.ts";
import {
  encodeHello,
  HelloReader,
  type HelloResult,
} from "../transport/hello.ts";
import { timeoutSignal, whenAborted } from "../util/abort.ts";
import { oneLine } from "../util/error_text.ts";
import { writeAll } from "../util/write_all.ts";
import {
  address,
  clientLink,
  type Link,
  parseCommand,
  TLS_CLIENT_OPTIONS,
  UsageError,
} from "./args.ts";
import { type BusAddress, busAddress, splitScheme } from "./dial.ts";
import { PROGRAM, SEND_HELP } from "./help.ts";
import { parseHex } from "./hex.ts";
import type { Lines } from "./lines.ts";
import { Printer } from "./printer.ts";

/**
 * Runs `midisock send` with its arguments (after the command word): sends
 * the messages that they give, or else those on `options.stdin`. Reading
 * stdin, it prints its reconnecting lines on `err`.
 *
 * @returns The exit status: 0.
 */
export async function send(
  args: string[],
  options: { stdin?: ReadableStream<Uint8Array> },
  out: Lines,
  err: Lines,
): Promise<number> {
  const { values, positionals } = parseCommand("send", args, {
    options: {
      hex: { type: "boolean" },
      "no-reconnect": { type: "boolean" },
      ...TLS_CLIENT_OPTIONS,
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    await out.write(SEND_HELP);
    return 0;
  }
  if (positionals.length === 0) {
    throw new UsageError(
      `send needs an address, such as localhost:8080 (see ${PROGRAM} send --help)`,
    );
  }
  const where = positionals[0];
  const hex = !!values.hex;
  // Arguments are checked before anything is sent.
  const items = positionals.slice(1).map((text, i) => {
    try {
      return hex ? parseHex(text) : parseMessage(text);
    } catch (error) {
      throw new UsageError(`message ${i + 1}: ${oneLine(error)}`);
    }
  });
  const stdin = items.length === 0
    ? options.stdin ?? Deno.stdin.readable
    : undefined;
  const link = await clientLink(values);
  if (hex && splitScheme(where) === undefined) {
    const { host, port } = address(where, true);
    return await sendBytes(host, port, items as Uint8Array[], stdin, link);
  }
  // Bytes for a transport that carries messages: parsed as MIDI, with one
  // parser, so a message may go on from one argument or line to the next.
  const parser = new MidiParser();
  const parseLine = hex
    ? (line: string) => parser.feed(parseHex(line))
    : (line: string) => [parseMessage(line)];
  const messages = hex
    ? (items as Uint8Array[]).flatMap((bytes) => parser.feed(bytes))
    : items as Message[];
  return await sendMessages(busAddress(where, link), messages, stdin, {
    parseLine,
    hello: link.hello,
    // Reading stdin, it stays connected: it reconnects, and says so on
    // stderr.
    reconnect: stdin !== undefined && !values["no-reconnect"]
      ? new Printer(err, false)
      : undefined,
  });
}

/**
 * Sends messages through a socket port (a reconnecting one, with
 * `link.reconnect`, which prints its lines), then those read from stdin.
 */
async function sendMessages(
  bus: BusAddress,
  messages: Message[],
  stdin: ReadableStream<Uint8Array> | undefined,
  options: {
    parseLine: (line: string) => Message[];
    hello: Link["hello"];
    reconnect?: Printer;
  },
): Promise<number> {
  const { reconnect: printer, parseLine } = options;
  const server = await bus.open({ reconnect: printer !== undefined });
  if (printer && server instanceof ReconnectingPort) {
    printer.watch(server, false);
  }
  const discarding = discard(server);
  let failure: unknown;
  try {
    for (const msg of messages) await server.send(msg);
    if (stdin) {
      for await (const [n, line] of readLines(stdin)) {
        if (!isContent(line)) continue;
        let parsed: Message[];
        try {
          parsed = parseLine(line);
        } catch (error) {
          throw new Error(`line ${n}: ${oneLine(error)}`);
        }
        for (const msg of parsed) await server.send(msg);
      }
    }
  } catch (error) {
    failure = error;
  }
  await server.close(); // writes what is queued first
  await discarding;
  // The server turned it away, and said why (its reply comes while the
  // port closes): nothing was delivered.
  if (!(server instanceof ReconnectingPort)) {
    const tokenSent = options.hello.token !== undefined;
    const refused = verdictError(server, server.name, tokenSent);
    if (refused) throw refused;
  }
  // A reconnecting port that was turned away for good.
  if (
    failure instanceof PortClosedError && failure.cause instanceof RefusedError
  ) {
    throw failure.cause;
  }
  if (failure === undefined && server instanceof ReconnectingPort) {
    const { dropped } = server.stats;
    if (dropped > 0) {
      failure = new Error(
        `Cannot send ${dropped} message${
          dropped === 1 ? "" : "s"
        } to ${server.name}: they came while it was disconnected, and were dropped`,
      );
    }
  }
  const { droppedBytes } = server.stats;
  if (failure === undefined && droppedBytes > 0) {
    failure = new Error(
      `Cannot send to ${server.name}: ${droppedBytes} bytes were not written before the connection closed`,
    );
  }
  if (failure !== undefined) throw failure;
  return 0;
}

/**
 * Sends bytes as they are, on a bare connection: the hello line, the
 * chunks, then the lines of stdin in hex.
 */
async function sendBytes(
  host: string,
  port: number,
  chunks: Uint8Array[],
  stdin: ReadableStream<Uint8Array> | undefined,
  link: Link,
): Promise<number> {
  const name = dialName(host, port);
  // Raw bytes: a hello line only for a name or a token. Checked before
  // anything is opened, and sent before the first byte; it asks for the
  // server's verdict.
  const { name: helloName, token } = link.hello;
  if (token !== undefined) {
    checkClearToken(host, name, link.tls, link.insecureToken);
  }
  const says = helloName !== undefined || token !== undefined;
  const hello = says
    ? encodeHello({ name: helloName, token, verdict: "1" })
    : undefined;
  const conn = await dial(host, port, name, undefined, link.tls);
  if ("setNoDelay" in conn) conn.setNoDelay(true);
  // What the server sends is dropped, but for its reply to the hello line.
  const reader = says ? new HelloReader() : undefined;
  let reply: HelloResult | undefined;
  const discarding = (async () => {
    const buf = new Uint8Array(16 * 1024);
    try {
      for (let n; (n = await conn.read(buf)) !== null;) {
        if (reader && (reply === undefined || reply.state === "more")) {
          reply = reader.feed(buf.subarray(0, n));
        }
      }
    } catch {
      // Closed here, or reset: either way there is nothing more to read.
    }
  })();
  const write = async (bytes: Uint8Array) => {
    try {
      await writeAll(conn, bytes);
    } catch (error) {
      throw new Error(`Cannot send to ${name}: ${oneLine(error)}`);
    }
  };
  let failure: unknown;
  try {
    if (hello) await write(hello);
    for (const bytes of chunks) await write(bytes);
    if (stdin) {
      for await (const [n, line] of readLines(stdin)) {
        if (!isContent(line)) continue;
        let bytes: Uint8Array;
        try {
          bytes = parseHex(line);
        } catch (error) {
          throw new Error(`line ${n}: ${oneLine(error)}`);
        }
        await write(bytes);
      }
    }
    await conn.closeWrite();
    if (says) {
      // The server's reply comes before its end of the stream.
      using timeout = timeoutSignal(REPLY_TIMEOUT);
      await Promise.race([discarding, whenAborted(timeout.signal)]);
    }
  } catch (error) {
    failure = error;
  }
  try {
    conn.close();
  } catch {
    // Already closed.
  }
  await discarding;
  if (reply?.state === "hello" && reply.fields.verdict === "refused") {
    const reason = reply.fields.reason ?? "unknown";
    throw new RefusedError(name, reason, { tokenSent: token !== undefined });
  }
  if (failure !== undefined) throw failure;
  return 0;
}

/**
 * How long `send --hex` waits, once it has sent everything, for the server
 * to end the stream (and so for its reply to a hello line), in ms: a
 * port's default closeTimeout.
 */
const REPLY_TIMEOUT = 2000;

/** Reads and discards what a server sends, so that it never piles up. */
async function discard(port: SocketPort | ReconnectingPort): Promise<void> {
  for await (const _ of port) {
    // Nothing: send only sends.
  }
}

/** Lines of text from a byte stream, with their line numbers (from 1). */
async function* readLines(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<[number, string]> {
  let rest = "";
  let n = 0;
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop()!;
    for (const part of parts) yield [++n, part.replace(/\r$/, "")];
  }
  if (rest !== "") yield [++n, rest];
}

/** The lines to send: skips blank lines and # comments. */
function isContent(line: string): boolean {
  const text = line.trim();
  return text !== "" && !text.startsWith("#");
}
