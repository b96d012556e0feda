// Copyright 2026 the midisock authors. MIT license.
// Private: what a SocketPort needs to see inside the MidiEncoderStream that
// feeds its connection: how many chunks it has let go, and a way to let its
// pending chunk go now (when the port closes) rather than after a few turns.

/** A handle on one encoder's batch. */
export interface EncoderHandle {
  /** Chunks enqueued so far. */
  readonly chunks: number;
  /** Messages taken so far. */
  readonly messages: number;
  /** Called when the stream is cancelled or its writable aborted. */
  onCancel: ((reason: unknown) => void) | undefined;
  /** Enqueues the pending chunk, if any, at once. */
  flush(): void;
  /** Errors the stream, so that later writes reject with `reason`. */
  error(reason: unknown): void;
  /** Takes the pending chunk's bytes out of the encoder, if any. */
  take(): Uint8Array | undefined;
}

/** The handle of each MidiEncoderStream. */
export const ENCODERS: WeakMap<object, EncoderHandle> = new WeakMap();
