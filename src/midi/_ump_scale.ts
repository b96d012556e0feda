// Copyright 2026 the midisock authors. MIT license.
// Value scaling between MIDI 1.0 and MIDI 2.0 resolutions, as the UMP and
// MIDI 2.0 Protocol specification (M2-104-UM) sets it: down by dropping the
// low bits, up by the min-center-max rule (0 stays 0, the center maps to the
// center, the maximum to the maximum, and the upper half repeats its low bits
// into the new ones).

/**
 * Scales `value` of `from` bits up to `to` bits, min-center-max
 * (7 → 16: 0 → 0x0000, 64 → 0x8000, 127 → 0xFFFF).
 */
export function scaleUp(value: number, from: number, to: number): number {
  const shift = to - from;
  let out = (value << shift) >>> 0;
  if (value <= 1 << (from - 1)) return out;
  const repeatBits = from - 1;
  let repeat = value & ((1 << repeatBits) - 1);
  repeat = shift > repeatBits
    ? (repeat << (shift - repeatBits)) >>> 0
    : repeat >>> (repeatBits - shift);
  while (repeat !== 0) {
    out = (out | repeat) >>> 0;
    repeat >>>= repeatBits;
  }
  return out;
}

/** Scales `value` of `from` bits down to `to` bits, dropping the low bits. */
export function scaleDown(value: number, from: number, to: number): number {
  return Math.floor((value >>> 0) / 2 ** (from - to));
}
