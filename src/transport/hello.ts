// Copyright 2026 the midisock authors. MIT license.
// Private: the hello line, `MIDISOCK/1 name=keys token=s3cr%20et\n`, which a
// client may send before any MIDI byte. It is 7-bit ASCII, so a mido peer
// reads it as data bytes with no status, and ignores it.

import { asksEcho, ECHO_FIELD } from "./echo.ts";

/** The fields of a hello line: name, token, and any others. */
export type HelloFields = Readonly<Record<string, string>>;

/** What a hello line starts with. */
export const HELLO_MAGIC = "MIDISOCK/1";
/** The longest hello line, its LF included. */
export const MAX_HELLO = 512;
/**
 * How long a server waits for a client's hello line by default, in ms (its
 * `helloTimeout`); a client waits as long for the server's verdict.
 */
export const HELLO_TIMEOUT = 2000;

const SAFE = /^[A-Za-z0-9._~-]$/;
const UTF8 = new TextEncoder();

function percentEncode(value: string): string {
  let out = "";
  for (const byte of UTF8.encode(value)) {
    const ch = String.fromCharCode(byte);
    out += SAFE.test(ch)
      ? ch
      : "%" + byte.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

/**
 * The bytes of a hello line. Throws a RangeError if it would be longer
 * than MAX_HELLO bytes, naming the length.
 */
export function encodeHello(
  fields: Record<string, string | undefined>,
): Uint8Array {
  let line = HELLO_MAGIC;
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    if (!/^[a-z][a-z0-9_]*$/.test(key)) {
      throw new TypeError(
        `Invalid hello field ${JSON.stringify(key)}: expected a lowercase name`,
      );
    }
    if (typeof value !== "string") {
      throw new TypeError(
        `Invalid hello ${key}: expected a string, got ${typeof value}`,
      );
    }
    // deno-lint-ignore no-control-regex
    if (/[\x00-\x1f\x7f-\x9f]/.test(value)) {
      throw new TypeError(`Invalid hello ${key}: it has a control character`);
    }
    line += ` ${key}=${percentEncode(value)}`;
  }
  line += "\n";
  if (line.length > MAX_HELLO) {
    throw new RangeError(
      `Invalid hello: the line would be ${line.length} bytes, over the limit of ${MAX_HELLO}`,
    );
  }
  return new TextEncoder().encode(line);
}

/**
 * What a connection's first bytes are, when they are not MIDI and not a
 * hello line: `"tls"` for a TLS record header (content type 0x14..0x17,
 * version 03 00..03 04), `"http"` for an HTTP request line (`GET `,
 * `POST `, `PRI * HTTP/2`, ...) or status line (`HTTP/`), `"more"` while
 * they could still become one (at most 12 bytes), or undefined. A MIDI
 * stream never opens this way: its first byte is a status byte, and 0x14
 * to 0x17 and ASCII letters are data bytes.
 */
export type Opening = "tls" | "http" | "more" | undefined;

const HTTP_OPENINGS = [
  "GET ",
  "HEAD ",
  "POST ",
  "PUT ",
  "DELETE ",
  "CONNECT ",
  "OPTIONS ",
  "TRACE ",
  "PATCH ",
  "PRI * HTTP/2",
  "HTTP/",
];

/** The most bytes that {@linkcode opening} needs to decide. */
export const MAX_OPENING = 12;

/** What a connection's first bytes are (see {@linkcode Opening}). */
export function opening(bytes: Uint8Array): Opening {
  if (bytes.length === 0) return "more";
  const first = bytes[0];
  if (first >= 0x80) return undefined; // a status byte: MIDI
  if (first >= 0x14 && first <= 0x17) {
    if (bytes.length < 2) return "more";
    if (bytes[1] !== 0x03) return undefined;
    if (bytes.length < 3) return "more";
    return bytes[2] <= 0x04 ? "tls" : undefined;
  }
  let more = false;
  for (const line of HTTP_OPENINGS) {
    const n = Math.min(bytes.length, line.length);
    let i = 0;
    while (i < n && bytes[i] === line.charCodeAt(i)) i++;
    if (i < n) continue;
    if (n === line.length) return "http";
    more = true;
  }
  return more ? "more" : undefined;
}

/** Why a stream that opens with a TLS record is no hello line. */
export const TLS_OPENING = "a TLS record, not MIDI";
/** Why a stream that opens with HTTP is no hello line. */
export const HTTP_OPENING = "HTTP, not MIDI";

/**
 * The line that answers a hello line that asks for it (`verdict=1`): the
 * server took the client in, `MIDISOCK/1 verdict=ok`, or turned it away
 * for `reason`, `MIDISOCK/1 verdict=refused reason=token`. A client taken
 * in whose hello line (`hello`) asks for the echo (`echo=1`, see echo.ts)
 * is told that the server answers it: `MIDISOCK/1 verdict=ok echo=1`.
 */
export function verdictLine(
  reason?: string,
  hello?: HelloFields | null,
): Uint8Array {
  if (reason !== undefined) return encodeHello({ verdict: "refused", reason });
  return encodeHello({
    verdict: "ok",
    [ECHO_FIELD]: asksEcho(hello) ? "1" : undefined,
  });
}

/** How far a HelloReader has got. */
export type HelloResult =
  | { state: "more" } // a hello line may be coming: feed more bytes
  | { state: "none"; rest: Uint8Array } // no hello line: every byte is MIDI
  | { state: "hello"; fields: HelloFields; rest: Uint8Array }
  | { state: "bad"; reason: string; rest: Uint8Array }; // rest: every byte

/**
 * Reads a hello line at the start of a stream. Feed it chunks until it
 * says more than "more"; `rest` is what follows the line (or, with no line,
 * everything), all MIDI.
 */
export class HelloReader {
  #buf = new Uint8Array(0);

  feed(chunk: Uint8Array): HelloResult {
    const buf = new Uint8Array(this.#buf.length + chunk.length);
    buf.set(this.#buf);
    buf.set(chunk, this.#buf.length);
    this.#buf = buf;
    // Does it open with the magic (or as much of it as has come)?
    const n = Math.min(buf.length, HELLO_MAGIC.length);
    for (let i = 0; i < n; i++) {
      if (buf[i] !== HELLO_MAGIC.charCodeAt(i)) return this.#other(buf);
    }
    const lf = buf.indexOf(0x0a);
    const over = lf < 0 ? buf.length >= MAX_HELLO : lf + 1 > MAX_HELLO;
    // A bad line is no hello line: every byte goes on as MIDI (rest).
    if (over) {
      return {
        state: "bad",
        reason: `hello line over ${MAX_HELLO} bytes`,
        rest: buf,
      };
    }
    if (lf < 0) return { state: "more" };
    const parsed = parseHello(buf.subarray(0, lf));
    return typeof parsed === "string"
      ? { state: "bad", reason: parsed, rest: buf }
      : { state: "hello", fields: parsed, rest: buf.subarray(lf + 1) };
  }

  // No hello line: MIDI, or a TLS record or HTTP, whose bytes are no MIDI
  // and are dropped (a client reads a TLS server's alert this way).
  #other(buf: Uint8Array): HelloResult {
    const kind = opening(buf);
    if (kind === "more") return { state: "more" };
    if (kind === undefined) return { state: "none", rest: buf };
    const reason = kind === "tls" ? TLS_OPENING : HTTP_OPENING;
    return { state: "bad", reason, rest: new Uint8Array(0) };
  }
}

/** The fields of a hello line (no LF), or why it is bad. */
function parseHello(line: Uint8Array): HelloFields | string {
  for (const byte of line) {
    if (byte < 0x20 || byte > 0x7e) {
      return "bad hello line: not printable ASCII";
    }
  }
  const [magic, ...pairs] = new TextDecoder().decode(line).split(" ");
  if (magic !== HELLO_MAGIC) return `bad hello line: expected ${HELLO_MAGIC}`;
  const fields: Record<string, string> = {};
  for (const pair of pairs) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    if (eq <= 0) return `bad hello line: expected key=value, got ${pair}`;
    const key = pair.slice(0, eq);
    let value: string;
    try {
      value = decodeURIComponent(pair.slice(eq + 1));
    } catch {
      return `bad hello line: bad percent-encoding in ${key}`;
    }
    // A name is printed and logged: no line feed or escape may hide in it.
    // deno-lint-ignore no-control-regex
    if (/[\x00-\x1f\x7f-\x9f]/.test(value)) {
      return `bad hello line: a control character in ${key}`;
    }
    fields[key] = value;
  }
  return Object.freeze(fields);
}

/** The most bytes of a sender's name, percent-encoded, in a sender line. */
export const MAX_SENDER = 64;
// Sender lines made, by name: a name's line is made once, not once for each
// client that shows it. Cleared when full.
const senderLines = new Map<string, string>();

/**
 * The line that names the sender of the messages that follow it, for a
 * peer that asked for the senders' names (Transport.senders), sent on the
 * transport's channel beside the bytes (a WebSocket text frame):
 * `MIDISOCK/1 from=keys`. With no name, the messages are the server's own:
 * `MIDISOCK/1` alone, which no client can forge, since every client has a
 * name. A name is cut to MAX_SENDER bytes, percent-encoded, at a whole
 * character, so that a long name cannot make each change of sender cost
 * the bus much (a line is at most 80 bytes, all ASCII).
 */
export function senderLine(name: string | undefined): string {
  if (name === undefined) return HELLO_MAGIC;
  let line = senderLines.get(name);
  if (line === undefined) {
    let value = "";
    for (const ch of name) {
      const piece = percentEncode(ch);
      if (value.length + piece.length > MAX_SENDER) break;
      value += piece;
    }
    line = `${HELLO_MAGIC} from=${value}`;
    if (senderLines.size >= 1024) senderLines.clear();
    senderLines.set(name, line);
  }
  return line;
}

/** The fields of a line such as a sender line (no LF), or why it is bad. */
export function parseLine(text: string): HelloFields | string {
  return parseHello(new TextEncoder().encode(text));
}

/** Whether two tokens are equal, in time that does not depend on where they differ. */
export async function sameToken(a: string, b: string): Promise<boolean> {
  const encoder = new TextEncoder();
  const [x, y] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(a)),
    crypto.subtle.digest("SHA-256", encoder.encode(b)),
  ]);
  const p = new Uint8Array(x);
  const q = new Uint8Array(y);
  let diff = 0;
  for (let i = 0; i < p.length; i++) diff |= p[i] ^ q[i];
  return diff === 0;
}
