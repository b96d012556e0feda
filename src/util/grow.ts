// Copyright 2026 the midisock authors. MIT license.
// Private: the byte buffers that gather a burst of encoded messages, and
// the joining of byte arrays end to end.

/**
 * Returns `buf` if it has room for `extra` more bytes after the `used` ones,
 * or else a buffer twice as large (at least `min` bytes, or as large as
 * needed; at most `max` bytes) that starts with the same `used` bytes.
 */
export function grow(
  buf: Uint8Array,
  used: number,
  extra: number,
  min: number,
  max: number,
): Uint8Array {
  const need = used + extra;
  if (need <= buf.length) return buf;
  const size = Math.min(max, Math.max(min, buf.length * 2, need));
  const grown = new Uint8Array(size);
  grown.set(buf.subarray(0, used));
  return grown;
}

/** The bytes of `parts` end to end, in one new array. */
export function concat(
  parts: readonly Uint8Array[],
): Uint8Array<ArrayBuffer> {
  let length = 0;
  for (const part of parts) length += part.length;
  const all = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.length;
  }
  return all;
}
