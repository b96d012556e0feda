// Copyright 2026 the midisock authors. MIT license.
// Private: the little of HTTP/1.1 that the browser gateway speaks, over a
// connection that the gateway accepted itself (Deno.serve owns its accept
// loop, which dies when the process runs out of descriptors, and shows a
// connection to no one before its first request). It reads a request's
// head, bounded in size, and writes a whole response; a request with a
// body has its body read and dropped (a small one) or is answered and
// closed. Nothing here times out: the gateway closes a connection that
// takes too long, which ends any read or write of it.

/** The most bytes of a request's head: its line and its headers. */
export const MAX_HEAD_BYTES = 16 * 1024;

/** The most bytes of a request body that is read (and dropped). */
const MAX_DROPPED_BODY = 64 * 1024;

const LATIN1 = new TextDecoder("latin1");
const ASCII = new TextEncoder();

const REASONS: Record<number, string> = {
  101: "Switching Protocols",
  200: "OK",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  413: "Content Too Large",
  426: "Upgrade Required",
  431: "Request Header Fields Too Large",
  501: "Not Implemented",
  503: "Service Unavailable",
  505: "HTTP Version Not Supported",
};

/** A request's line and headers. */
export interface RequestHead {
  /** The method, such as `GET`. */
  method: string;
  /** The request target: `/ws?senders=1`, or a whole URL. */
  target: string;
  /** `HTTP/1.1` or `HTTP/1.0`. */
  version: string;
  /** The headers. */
  headers: Headers;
}

/** An answer: a status, headers and a body (none for 101). */
export interface Answer {
  /** The status code. */
  status: number;
  /** The headers, besides content-length and connection. */
  headers?: Record<string, string>;
  /** The body. */
  body?: Uint8Array | string;
}

/**
 * A request that cannot be served: the status to answer with, and the
 * connection closes after it.
 */
export class HttpError extends Error {
  /** The status to answer with. */
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** A header's name: a token (RFC 9110). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Parses a request's head (without its blank line) or throws HttpError. */
export function parseHead(text: string): RequestHead {
  const lines = text.split(/\r?\n/);
  const line = lines.shift()!;
  const parts = line.split(" ");
  if (parts.length !== 3 || !TOKEN.test(parts[0]) || parts[1] === "") {
    throw new HttpError(400, "Malformed request line");
  }
  const [method, target, version] = parts;
  if (version !== "HTTP/1.1" && version !== "HTTP/1.0") {
    throw new HttpError(
      /^HTTP\/\d\.\d$/.test(version) ? 505 : 400,
      `Unsupported version ${JSON.stringify(version)}`,
    );
  }
  const headers = new Headers();
  for (const field of lines) {
    const colon = field.indexOf(":");
    const name = field.slice(0, colon);
    // No obsolete line folding, no space before the colon.
    if (colon <= 0 || !TOKEN.test(name)) {
      throw new HttpError(400, "Malformed header");
    }
    try {
      headers.append(name, field.slice(colon + 1).trim());
    } catch {
      throw new HttpError(400, `Malformed ${name} header`);
    }
  }
  return { method, target, version, headers };
}

/** A response's bytes: its head, then its body unless `head` is true. */
export function answerBytes(
  answer: Answer,
  options: { head?: boolean; close?: boolean } = {},
): Uint8Array {
  const body = typeof answer.body === "string"
    ? ASCII.encode(answer.body)
    : answer.body ?? new Uint8Array(0);
  const lines = [
    `HTTP/1.1 ${answer.status} ${REASONS[answer.status] ?? "Unknown"}`,
  ];
  for (const [name, value] of Object.entries(answer.headers ?? {})) {
    lines.push(`${name}: ${value}`);
  }
  if (answer.status !== 101) {
    lines.push(`content-length: ${body.length}`);
    if (options.close) lines.push("connection: close");
  }
  const head = ASCII.encode(lines.join("\r\n") + "\r\n\r\n");
  if (options.head || body.length === 0) return head;
  const bytes = new Uint8Array(head.length + body.length);
  bytes.set(head);
  bytes.set(body, head.length);
  return bytes;
}

/**
 * The reading side of one HTTP connection: request heads, bodies to drop,
 * and the bytes read past the last head (a WebSocket's first frames).
 */
export class HttpReader {
  #conn: Deno.Conn;
  #buf = new Uint8Array(4096);
  #start = 0;
  #end = 0;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** Whether bytes of a request are held, not yet taken. */
  get holding(): boolean {
    return this.#end > this.#start;
  }

  /**
   * Reads the next request's head. Blank lines before it are skipped.
   *
   * @param onBytes Called as the first byte of it arrives.
   * @returns The head, or null if the peer closed before one began.
   * @throws {HttpError} For a malformed head, one over MAX_HEAD_BYTES, or
   * a connection closed part-way through one.
   */
  async readHead(onBytes?: () => void): Promise<RequestHead | null> {
    let scanned = 0;
    while (true) {
      // Blank lines between requests are allowed (RFC 9112, 2.2).
      while (
        this.#start < this.#end &&
        (this.#buf[this.#start] === 13 || this.#buf[this.#start] === 10)
      ) this.#start++;
      if (this.#end > this.#start) onBytes?.();
      const end = this.#headEnd(scanned);
      if (end !== undefined) {
        const text = LATIN1.decode(this.#buf.subarray(this.#start, end.text));
        this.#start = end.next;
        return parseHead(text);
      }
      scanned = Math.max(0, this.#end - this.#start - 3);
      if (this.#end - this.#start >= MAX_HEAD_BYTES) {
        throw new HttpError(431, `A request head over ${MAX_HEAD_BYTES} bytes`);
      }
      if (!await this.#fill()) {
        if (this.#end > this.#start) {
          throw new HttpError(400, "Connection closed within a request head");
        }
        return null;
      }
    }
  }

  /**
   * Reads and drops a request's body of `length` bytes, if it is small
   * (MAX_DROPPED_BODY).
   *
   * @returns Whether it was dropped (else the connection must close).
   */
  async dropBody(length: number): Promise<boolean> {
    if (length > MAX_DROPPED_BODY) return false;
    let left = length;
    while (left > 0) {
      if (this.#end === this.#start && !await this.#fill()) return false;
      const n = Math.min(left, this.#end - this.#start);
      this.#start += n;
      left -= n;
    }
    return true;
  }

  /** The bytes read and not yet taken (after an upgrade: frames). */
  rest(): Uint8Array {
    const rest = this.#buf.slice(this.#start, this.#end);
    this.#start = this.#end = 0;
    return rest;
  }

  // Where the head ends ("\r\n\r\n", or "\n\n"), looking from `from`.
  #headEnd(from: number): { text: number; next: number } | undefined {
    const buf = this.#buf;
    for (let i = this.#start + from; i < this.#end; i++) {
      if (buf[i] !== 10) continue;
      // The line's end, without its CR.
      const text = buf[i - 1] === 13 ? i - 1 : i;
      if (i + 1 < this.#end && buf[i + 1] === 10) return { text, next: i + 2 };
      if (i + 2 < this.#end && buf[i + 1] === 13 && buf[i + 2] === 10) {
        return { text, next: i + 3 };
      }
    }
    return undefined;
  }

  // Reads more bytes into the buffer; false at the end of the stream.
  async #fill(): Promise<boolean> {
    if (this.#start > 0 && this.#start === this.#end) {
      this.#start = this.#end = 0;
    }
    if (this.#end === this.#buf.length) {
      const held = this.#end - this.#start;
      const buf = held * 2 > this.#buf.length
        ? new Uint8Array(this.#buf.length * 2)
        : this.#buf;
      buf.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = buf;
      this.#start = 0;
      this.#end = held;
    }
    const n = await this.#conn.read(this.#buf.subarray(this.#end));
    if (n === null) return false;
    this.#end += n;
    return true;
  }
}
