// Copyright 2026 the midisock authors. MIT license.
// Private: the byte buffers that gather a burst of encoded messages.

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
