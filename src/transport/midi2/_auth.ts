// Copyright 2026 the midisock authors. MIT license.
// The authentication digests of Network MIDI 2.0 (M2-124-UM 6.9 and 6.10):
// SHA-256 over the plain concatenation of the host's 16-byte crypto nonce and
// the shared secret, or the nonce, the user name and the password, with no
// separator and no terminator, each string as UTF-8. The specification's own
// examples are in tests/midi2_packets_test.ts.

import { concat } from "../../util/grow.ts";
import { NONCE_BYTES } from "./_commands.ts";

const encoder = new TextEncoder();

function bytesOf(value: string | Uint8Array): Uint8Array {
  return typeof value === "string" ? encoder.encode(value) : value;
}

async function sha256(parts: Uint8Array[]): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", concat(parts)));
}

function checkNonce(nonce: Uint8Array): void {
  if (!(nonce instanceof Uint8Array) || nonce.length !== NONCE_BYTES) {
    throw new RangeError(
      `The crypto nonce must be ${NONCE_BYTES} bytes, got ${
        nonce instanceof Uint8Array ? nonce.length : typeof nonce
      }`,
    );
  }
}

/**
 * The digest of Invitation with Authentication (0x02):
 * SHA-256(nonce ‖ secret).
 *
 * @param nonce The 16-byte crypto nonce of the host's challenge.
 * @param secret The shared secret (a string is hashed as UTF-8).
 * @returns The 32-byte digest.
 *
 * @example The specification's example
 * ```ts
 * import { secretDigest } from "./_auth.ts";
 * import assert from "node:assert/strict";
 *
 * const nonce = new TextEncoder().encode("nUWrn*@#$hjfwnkL");
 * const digest = await secretDigest(nonce, "5483");
 * assert.equal(digest[0], 0x67);
 * assert.equal(digest[31], 0x82);
 * ```
 */
export function secretDigest(
  nonce: Uint8Array,
  secret: string | Uint8Array,
): Promise<Uint8Array> {
  checkNonce(nonce);
  return sha256([nonce, bytesOf(secret)]);
}

/**
 * The digest of Invitation with User Authentication (0x03):
 * SHA-256(nonce ‖ user ‖ password).
 *
 * @param nonce The 16-byte crypto nonce of the host's challenge.
 * @param user The user name, hashed as UTF-8.
 * @param password The password (a string is hashed as UTF-8).
 * @returns The 32-byte digest.
 */
export function userDigest(
  nonce: Uint8Array,
  user: string,
  password: string | Uint8Array,
): Promise<Uint8Array> {
  checkNonce(nonce);
  return sha256([nonce, bytesOf(user), bytesOf(password)]);
}

/**
 * A fresh 16-byte crypto nonce, of printable ASCII (0x21..0x7E) as the
 * specification's examples and amidi2net's nonces are, so that a peer that
 * treats it as a string is not surprised.
 */
export function randomNonce(): Uint8Array {
  const nonce = new Uint8Array(NONCE_BYTES);
  const pool = new Uint8Array(64);
  let filled = 0;
  while (filled < NONCE_BYTES) {
    crypto.getRandomValues(pool);
    for (const byte of pool) {
      // 94 printable characters; take bytes below 188 (2 × 94), no bias.
      if (byte < 188 && filled < NONCE_BYTES) {
        nonce[filled++] = 0x21 + byte % 94;
      }
    }
  }
  return nonce;
}

/** Compares two digests in time that does not depend on where they differ. */
export function digestsEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}
