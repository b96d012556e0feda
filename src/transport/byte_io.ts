// Copyright 2026 the midisock authors. MIT license.
// Private: how a port reads and writes its transport. Through the
// transport's own read() and write() where it has them (no stream machinery
// on the path of each message), and through its readable and writable
// otherwise.

import type { Transport } from "./transport.ts";

// A read buffer starts small, so an idle connection costs little, and
// doubles each time a read fills it, up to MAX_READ.
const MIN_READ = 2 * 1024;
const MAX_READ = 16 * 1024;

/** A buffer to read into, which grows while reads fill it. */
export class ReadBuffer {
  #buf = new Uint8Array(MIN_READ);

  /** The buffer for the next read. */
  get buffer(): Uint8Array {
    return this.#buf;
  }

  /** Notes that a read got `n` bytes: a full read grows the buffer. */
  got(n: number): void {
    if (n === this.#buf.length && n < MAX_READ) {
      this.#buf = new Uint8Array(Math.min(MAX_READ, n * 2));
    }
  }
}

/** The bytes that come in, a chunk at a time. */
export interface ByteSource {
  /**
   * The next chunk, valid until the next call, or null at the end. Throws
   * if the transport fails.
   */
  read(): Promise<Uint8Array | null>;
  /** Stops reading: a read in flight ends with null. */
  cancel(): void;
}

/** Where the bytes go out. */
export interface ByteSink {
  /**
   * Whether the sink is done with the bytes of a write once it resolves
   * (so that the writer may use their buffer again). A stream's sink may
   * keep them (a pipe in memory hands the very chunk on), so only a
   * transport's own write() says so.
   */
  readonly copies: boolean;
  /** Writes all of `bytes`. */
  write(bytes: Uint8Array): Promise<void>;
  /** Ends the stream after what was written. */
  close(): Promise<void>;
  /** Gives up: a write in flight ends. */
  abort(): void;
  /** Sends a line of text beside the bytes, where the transport can. */
  writeText?: (text: string) => Promise<void>;
}

/** Reads a transport: with its read() if it has one, else its readable. */
export function sourceOf(transport: Transport): ByteSource {
  const read = transport.read?.bind(transport);
  if (read) {
    const buffer = new ReadBuffer();
    let cancelled = false;
    // A plain function and one .then(), not an async function: one
    // promise turn less on the path of each message.
    return {
      read() {
        if (cancelled) return Promise.resolve(null);
        const buf = buffer.buffer;
        return read(buf).then((n) => {
          if (n === null || cancelled) return null;
          buffer.got(n);
          return buf.subarray(0, n);
        });
      },
      cancel() {
        cancelled = true;
        transport.close();
      },
    };
  }
  const reader = transport.readable.getReader();
  return {
    async read() {
      const { done, value } = await reader.read();
      return done ? null : value;
    },
    cancel() {
      reader.cancel().catch(() => {});
    },
  };
}

/** Writes a transport: with its write() if it has one, else its writable. */
export function sinkOf(transport: Transport): ByteSink {
  const write = transport.write?.bind(transport);
  const closeWrite = transport.closeWrite?.bind(transport);
  // Called only once the write before it has resolved: in order.
  const writeText = transport.writeText?.bind(transport);
  if (write && closeWrite) {
    return {
      copies: true,
      write,
      close: closeWrite,
      abort: () => transport.close(),
      writeText,
    };
  }
  const writer = transport.writable.getWriter();
  writer.closed.catch(() => {}); // a failure is reported through write()
  return {
    copies: false,
    write: (bytes) => writer.write(bytes),
    close: () => writer.close(),
    abort: () => {
      writer.abort().catch(() => {});
    },
    writeText,
  };
}
