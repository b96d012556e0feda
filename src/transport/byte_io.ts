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

/**
 * The connection under a transport, for a port to read with no wrapper
 * between: a transport registers it in {@linkcode directIo} (a
 * TcpTransport does). Each wrapper's `.then()` would be one promise turn
 * more, and garbage, on the path of every message.
 */
export interface DirectIo {
  /** The connection's own read (it may throw for a local close). */
  read(buf: Uint8Array): Promise<number | null>;
  /** Whether a read's error means the end (this end closed), not a failure. */
  ended(error: unknown): boolean;
}

/** Transports that let a port use their connection directly. */
export const directIo: WeakMap<Transport, DirectIo> = new WeakMap();

/**
 * The bytes that come in, a chunk at a time, handed to the functions that
 * the source was made with: one read at a time.
 */
export interface ByteSource {
  /**
   * Reads the next chunk: the source calls `got` with it (valid until the
   * next read), or with null at the end, or `failed` if the transport
   * fails. Exactly one of them, once, and never before read() returns.
   */
  read(): void;
  /** Stops reading: a read in flight ends with null. */
  cancel(): void;
}

/**
 * Reads a transport: with its connection's read() if it registered one,
 * else its read(), else its readable. The chunk is handed on in the
 * promise turn of the read itself: one turn from a read to the port.
 *
 * @param transport The transport.
 * @param got Takes each chunk, or null at the end.
 * @param failed Takes the error of a failed read.
 */
export function sourceOf(
  transport: Transport,
  got: (chunk: Uint8Array | null) => void,
  failed: (error: unknown) => void,
): ByteSource {
  const direct = directIo.get(transport);
  const read = direct ? direct.read : transport.read?.bind(transport);
  if (read) {
    const buffer = new ReadBuffer();
    let cancelled = false;
    let buf = buffer.buffer;
    // The last chunk's view, given again for a read of the same size (a
    // chunk is valid until the next read): no new view a message.
    let view = buf.subarray(0, 0);
    let viewOf = buf;
    const onRead = (n: number | null): void => {
      if (n === null || cancelled) return got(null);
      if (view.length !== n || viewOf !== buf) {
        view = buf.subarray(0, n);
        viewOf = buf;
      }
      buffer.got(n);
      got(view);
    };
    const onError = (error: unknown): void => {
      if (cancelled || direct?.ended(error)) got(null);
      else failed(error);
    };
    return {
      read() {
        if (cancelled) {
          Promise.resolve(null).then(onRead);
          return;
        }
        buf = buffer.buffer;
        read(buf).then(onRead, onError);
      },
      cancel() {
        cancelled = true;
        transport.close();
      },
    };
  }
  const reader = transport.readable.getReader();
  const onResult = (
    result: ReadableStreamReadResult<Uint8Array>,
  ): void => got(result.done ? null : result.value);
  return {
    read() {
      reader.read().then(onResult, failed);
    },
    cancel() {
      reader.cancel().catch(() => {});
    },
  };
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
