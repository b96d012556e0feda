// Copyright 2026 the midisock authors. MIT license.
// Private: a way for a SocketPort read with receive(), poll() or iteration to
// take each chunk's messages from its MidiDecoderStream at once, into its
// inbox, rather than one by one through the stream's readable.

/**
 * Takes the messages of one chunk. A promise it returns holds the decoder
 * (and so the reading of the socket) back until it settles.
 */
export type DecoderTap<T> = (messages: T[]) => Promise<void> | undefined;

/** The tap of each decoder, if one is set. */
export const DECODER_TAPS: WeakMap<object, { tap?: DecoderTap<unknown> }> =
  new WeakMap();
