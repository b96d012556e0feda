// Copyright 2026 the midisock authors. MIT license.
// The program's output: lines of text on stdout or stderr.

import { asError, oneLine } from "../util/error_text.ts";

/**
 * Lines of text on a byte stream. Lines that are written while a write is
 * in flight are gathered into the next write. It never throws: a failed
 * write is kept in {@linkcode Lines.error} and reported to `onError`.
 */
export class Lines {
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #encoder = new TextEncoder();
  #pending: string[] = [];
  #size = 0;
  #flushing: Promise<void> | undefined;
  error: Error | undefined;
  onError: ((error: Error) => void) | undefined;

  constructor(stream: WritableStream<Uint8Array>) {
    this.#writer = stream.getWriter();
  }

  /** Queues a line. Resolves at once, or once the queue is short again. */
  write(line: string): Promise<void> {
    if (this.error) return Promise.resolve();
    this.#pending.push(line);
    this.#size += line.length + 1;
    this.#flushing ??= this.#flush();
    return this.#size > 64 * 1024 ? this.#flushing : Promise.resolve();
  }

  /** Writes what is queued and lets go of the stream. */
  async close(): Promise<void> {
    while (this.#flushing) await this.#flushing;
    this.#writer.releaseLock();
  }

  async #flush(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        const text = this.#pending.join("\n") + "\n";
        this.#pending = [];
        this.#size = 0;
        await this.#writer.write(this.#encoder.encode(text));
      }
    } catch (error) {
      this.error = asError(error);
      this.#pending = [];
      this.#size = 0;
      this.onError?.(this.error);
    } finally {
      this.#flushing = undefined;
    }
  }
}

/** 0, or 1 if stdout failed for a reason other than a closed pipe. */
export function stdoutStatus(out: Lines): number {
  if (out.error && !(out.error instanceof Deno.errors.BrokenPipe)) {
    throw new Error(`Cannot write to stdout: ${oneLine(out.error)}`);
  }
  return 0;
}
