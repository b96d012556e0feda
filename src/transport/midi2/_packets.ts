// Copyright 2026 the midisock authors. MIT license.
// The Network MIDI 2.0 (UDP) datagram, encoded and decoded: the "MIDI"
// signature, then command packets, each a header word (command code, payload
// length in 32-bit words, two command-specific bytes) and its payload, every
// number big-endian. The commands themselves, their codes and reasons are in
// _commands.ts, re-exported here.

import {
  AMIDI2NET_NAK,
  CODE_OF,
  CommandCode,
  commandName,
  type DecodedCommand,
  type DecodedDatagram,
  DIGEST_BYTES,
  hex,
  type IdentityFields,
  type MalformedCommand,
  MAX_DATAGRAM_BYTES,
  MAX_NAME_BYTES,
  MAX_PAYLOAD_WORDS,
  MAX_PRODUCT_INSTANCE_ID_BYTES,
  MAX_UMP_DATA_WORDS,
  type Midi2Command,
  NONCE_BYTES,
  SIGNATURE,
  type UmpDataCommand,
  type UnknownCommand,
} from "./_commands.ts";

export * from "./_commands.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

/** A string's bytes, with a clear error when over `max`. */
function textBytes(
  text: string,
  field: string,
  max: number,
  ascii = false,
): Uint8Array {
  if (typeof text !== "string") {
    throw new TypeError(`${field} must be a string, got ${typeof text}`);
  }
  const bytes = encoder.encode(text);
  if (ascii && bytes.some((b) => b > 0x7f)) {
    throw new RangeError(`${field} must be ASCII, got ${JSON.stringify(text)}`);
  }
  if (bytes.length > max) {
    throw new RangeError(
      `${field} must be at most ${max} bytes, got ${bytes.length}`,
    );
  }
  return bytes;
}

function words(bytes: number): number {
  return Math.ceil(bytes / 4);
}

/** Reads a padded string: up to its first NUL (amidi2net ends with one). */
function readText(bytes: Uint8Array): string {
  const nul = bytes.indexOf(0);
  return decoder.decode(nul < 0 ? bytes : bytes.subarray(0, nul));
}

function checkBytes(
  value: Uint8Array,
  field: string,
  length: number,
): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== length) {
    throw new RangeError(
      `${field} must be ${length} bytes, got ${
        value instanceof Uint8Array ? value.length : typeof value
      }`,
    );
  }
  return value;
}

function checkInt(value: number, field: string, max: number): number {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(
      `${field} must be an integer in 0..${max}, got ${value}`,
    );
  }
  return value;
}

/** A command as its parts: code, the two specific bytes, payload pieces. */
interface Parts {
  code: number;
  csd1: number;
  csd2: number;
  payload: Uint8Array[];
}

function u32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n >>> 0);
  return out;
}

function u16pair(a: number, b: number): Uint8Array {
  const out = new Uint8Array(4);
  const view = new DataView(out.buffer);
  view.setUint16(0, a);
  view.setUint16(2, b);
  return out;
}

function partsOf(command: Midi2Command): Parts {
  const code = CODE_OF[command.type];
  if (code === undefined) {
    throw new TypeError(
      `Cannot encode a Network MIDI 2.0 command of type ${
        JSON.stringify((command as { type?: unknown }).type)
      }`,
    );
  }
  const what = `${command.type}`;
  switch (command.type) {
    case "invitation":
    case "invitation_accepted":
    case "invitation_pending": {
      const name = textBytes(command.name, `${what} name`, MAX_NAME_BYTES);
      const piid = textBytes(
        command.productInstanceId,
        `${what} productInstanceId`,
        MAX_PRODUCT_INSTANCE_ID_BYTES,
        true,
      );
      if (command.type === "invitation" && (!name.length || !piid.length)) {
        // Windows MIDI Services refuses an Invitation without them, and
        // amidi2net one of less than two words.
        throw new RangeError(
          `invitation ${
            name.length ? "productInstanceId" : "name"
          } must not be empty`,
        );
      }
      const caps = command.type === "invitation"
        ? checkInt(command.capabilities, `${what} capabilities`, 0xff)
        : 0;
      return {
        code,
        csd1: words(name.length),
        csd2: caps,
        payload: [name, pad(name), piid, pad(piid)],
      };
    }
    case "authentication_required":
    case "user_authentication_required": {
      const nonce = checkBytes(command.nonce, `${what} nonce`, NONCE_BYTES);
      const name = textBytes(command.name, `${what} name`, MAX_NAME_BYTES);
      const piid = textBytes(
        command.productInstanceId,
        `${what} productInstanceId`,
        MAX_PRODUCT_INSTANCE_ID_BYTES,
        true,
      );
      return {
        code,
        csd1: words(name.length),
        csd2: checkInt(command.state, `${what} state`, 0xff),
        payload: [nonce, name, pad(name), piid, pad(piid)],
      };
    }
    case "invitation_with_auth":
      return {
        code,
        csd1: 0,
        csd2: 0,
        payload: [checkBytes(command.digest, `${what} digest`, DIGEST_BYTES)],
      };
    case "invitation_with_user_auth": {
      const digest = checkBytes(command.digest, `${what} digest`, DIGEST_BYTES);
      const user = textBytes(
        command.user,
        `${what} user`,
        (MAX_PAYLOAD_WORDS - DIGEST_BYTES / 4) * 4,
      );
      return { code, csd1: 0, csd2: 0, payload: [digest, user, pad(user)] };
    }
    case "ping":
    case "ping_reply":
      return {
        code,
        csd1: 0,
        csd2: 0,
        payload: [u32(checkInt(command.id, `${what} id`, 0xffffffff))],
      };
    case "retransmit_request": {
      const sequence = checkInt(command.sequence, `${what} sequence`, 0xffff);
      return {
        code,
        csd1: sequence >> 8,
        csd2: sequence & 0xff,
        payload: [u16pair(checkInt(command.count, `${what} count`, 0xffff), 0)],
      };
    }
    case "retransmit_error":
      return {
        code,
        csd1: checkInt(command.reason, `${what} reason`, 0xff),
        csd2: 0,
        payload: [
          u16pair(checkInt(command.sequence, `${what} sequence`, 0xffff), 0),
        ],
      };
    case "session_reset":
    case "session_reset_reply":
    case "bye_reply":
      return { code, csd1: 0, csd2: 0, payload: [] };
    case "nak": {
      const text = textBytes(
        command.text,
        `${what} text`,
        (MAX_PAYLOAD_WORDS - 1) * 4,
      );
      return {
        code,
        csd1: checkInt(command.reason, `${what} reason`, 0xff),
        csd2: 0,
        payload: [
          u32(
            checkInt(
              command.refusedHeader,
              `${what} refusedHeader`,
              0xffffffff,
            ),
          ),
          text,
          pad(text),
        ],
      };
    }
    case "bye": {
      const text = textBytes(
        command.text,
        `${what} text`,
        MAX_PAYLOAD_WORDS * 4,
      );
      return {
        code,
        csd1: checkInt(command.reason, `${what} reason`, 0xff),
        csd2: 0,
        payload: [text, pad(text)],
      };
    }
    case "ump_data": {
      const bytes = new Uint8Array(4 + command.words.length * 4);
      writeUmpData(new DataView(bytes.buffer), 0, command);
      return {
        code,
        csd1: bytes[2],
        csd2: bytes[3],
        payload: [bytes.subarray(4)],
      };
    }
  }
}

const outOf = (value: number, max: number) =>
  !Number.isInteger(value) || value < 0 || value > max;

/**
 * Writes a UMP Data command at `at`: the hot path of a sender, with no
 * allocation (its field names are built only for an error).
 */
function writeUmpData(view: DataView, at: number, command: UmpDataCommand) {
  const { sequence, words } = command;
  if (outOf(sequence, 0xffff)) checkInt(sequence, "ump_data sequence", 0xffff);
  if (words.length > MAX_UMP_DATA_WORDS) {
    throw new RangeError(
      `ump_data words must be at most ${MAX_UMP_DATA_WORDS}, got ${words.length}`,
    );
  }
  view.setUint32(
    at,
    ((CommandCode.UMPData << 24) | (words.length << 16) | sequence) >>> 0,
  );
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    if (outOf(word, 0xffffffff)) {
      checkInt(word, `ump_data words[${i}]`, 0xffffffff);
    }
    view.setUint32(at + 4 + i * 4, word);
  }
}

function pad(bytes: Uint8Array): Uint8Array {
  return new Uint8Array((4 - (bytes.length % 4)) % 4);
}

/**
 * Encodes one command packet: its header word and its payload.
 *
 * @param command The command.
 * @returns Its bytes, a multiple of 4.
 * @throws {RangeError} A field out of range, naming the command and field.
 */
export function encodeCommand(command: Midi2Command): Uint8Array {
  const { code, csd1, csd2, payload } = partsOf(command);
  let length = 0;
  for (const piece of payload) length += piece.length;
  if (length % 4 !== 0 || length / 4 > MAX_PAYLOAD_WORDS) {
    throw new RangeError(
      `${command.type} payload must be at most ${MAX_PAYLOAD_WORDS} words, got ${
        length / 4
      }`,
    );
  }
  const out = new Uint8Array(4 + length);
  out[0] = code;
  out[1] = length / 4;
  out[2] = csd1;
  out[3] = csd2;
  let at = 4;
  for (const piece of payload) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}

/**
 * Encodes a datagram: the signature, then each command packet in order.
 *
 * @example A ping
 * ```ts
 * import { encodeDatagram } from "./_packets.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(
 *   encodeDatagram([{ type: "ping", id: 1 }]),
 *   new Uint8Array([0x4d, 0x49, 0x44, 0x49, 0x20, 1, 0, 0, 0, 0, 0, 1]),
 * );
 * ```
 *
 * @param commands The commands, maybe none.
 * @returns The datagram's bytes.
 * @throws {RangeError} A field out of range, or a datagram over
 * {@linkcode MAX_DATAGRAM_BYTES}, naming its size.
 */
export function encodeDatagram(
  commands: readonly Midi2Command[],
): Uint8Array {
  // UMP Data is written in place; the rest is encoded first.
  const packets: (Uint8Array | undefined)[] = new Array(commands.length);
  let length = 4;
  for (let i = 0; i < commands.length; i++) {
    const command = commands[i];
    if (command.type === "ump_data") {
      length += 4 + command.words.length * 4;
    } else {
      length += (packets[i] = encodeCommand(command)).length;
    }
  }
  if (length > MAX_DATAGRAM_BYTES) {
    throw new RangeError(
      `A Network MIDI 2.0 datagram must be at most ${MAX_DATAGRAM_BYTES} bytes, got ${length} (${commands.length} commands)`,
    );
  }
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  view.setUint32(0, SIGNATURE);
  let at = 4;
  for (let i = 0; i < commands.length; i++) {
    const packet = packets[i];
    if (packet === undefined) {
      const command = commands[i] as UmpDataCommand;
      writeUmpData(view, at, command);
      at += 4 + command.words.length * 4;
    } else {
      out.set(packet, at);
      at += packet.length;
    }
  }
  return out;
}

/**
 * The bytes that a command takes in a datagram (header and payload), so that
 * a sender can tell what still fits under {@linkcode MAX_DATAGRAM_BYTES}.
 */
export function commandLength(command: Midi2Command): number {
  if (command.type === "ump_data") return 4 + command.words.length * 4;
  return encodeCommand(command).length;
}

/**
 * Decodes a datagram. It never throws: a bad signature, a truncated header
 * or a payload length that runs past the end is an error that names its
 * offset; an unknown command code is returned as an `unknown` command and a
 * known one with a bad layout as a `malformed` one (with its header, for the
 * NAK), and the rest of the datagram is still read.
 *
 * @example An unknown command is kept for its NAK
 * ```ts
 * import { decodeDatagram } from "./_packets.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new Uint8Array([0x4d, 0x49, 0x44, 0x49, 0x77, 0, 0, 0, 0xf1, 0, 0, 0]);
 * const { commands, errors } = decodeDatagram(bytes);
 * assert.deepEqual(errors, []);
 * assert.deepEqual(commands, [
 *   { type: "unknown", unknown: true, code: 0x77, header: 0x77000000, offset: 4 },
 *   { type: "bye_reply", header: 0xf1000000, offset: 8 },
 * ]);
 * ```
 *
 * @param bytes The UDP payload.
 * @returns The commands and the errors.
 */
export function decodeDatagram(bytes: Uint8Array): DecodedDatagram {
  const commands: DecodedCommand[] = [];
  const errors: string[] = [];
  if (bytes.length < 4) {
    errors.push(
      `Datagram of ${bytes.length} bytes is too short for the "MIDI" signature`,
    );
    return { commands, errors };
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const signature = view.getUint32(0);
  if (signature !== SIGNATURE) {
    errors.push(
      `Bad signature at offset 0: ${
        hex(signature, 8)
      }, not 0x4D494449 ("MIDI")`,
    );
    return { commands, errors };
  }
  let at = 4;
  while (at < bytes.length) {
    if (bytes.length - at < 4) {
      errors.push(
        `Truncated command header at offset ${at}: ${
          bytes.length - at
        } bytes left of 4`,
      );
      break;
    }
    const header = view.getUint32(at);
    const code = header >>> 24;
    const length = ((header >>> 16) & 0xff) * 4;
    if (at + 4 + length > bytes.length) {
      errors.push(
        `${commandName(code)} at offset ${at} says ${
          length / 4
        } payload words, but ${bytes.length - at - 4} bytes are left`,
      );
      break;
    }
    if (code === CommandCode.UMPData) {
      // The hot path: read the words from the datagram's own view.
      const words: number[] = new Array(length / 4);
      for (let i = 0; i < words.length; i++) {
        words[i] = view.getUint32(at + 4 + i * 4);
      }
      commands.push({
        type: "ump_data",
        sequence: header & 0xffff,
        words,
        header,
        offset: at,
      });
      at += 4 + length;
      continue;
    }
    const payload = bytes.subarray(at + 4, at + 4 + length);
    const decoded = decodeCommand(
      code,
      (header >>> 8) & 0xff,
      header & 0xff,
      payload,
    );
    if (decoded.type === "malformed") {
      errors.push(`${commandName(code)} at offset ${at}: ${decoded.error}`);
    }
    commands.push({ ...decoded, header, offset: at });
    at += 4 + length;
  }
  return { commands, errors };
}

/**
 * Whether a datagram holds a command with the code `code`, read from the
 * headers alone, with nothing decoded: true for every datagram in which
 * {@linkcode decodeDatagram} finds one (and for one whose payload it finds
 * malformed), so that a datagram it says false of need not be decoded to
 * look for it.
 *
 * @param bytes The UDP payload.
 * @param code The command code.
 */
export function hasCommand(bytes: Uint8Array, code: number): boolean {
  if (bytes.length < 4) return false;
  const signature = (bytes[0] << 24 | bytes[1] << 16 | bytes[2] << 8 |
    bytes[3]) >>> 0;
  if (signature !== SIGNATURE) return false;
  let at = 4;
  while (bytes.length - at >= 4) {
    const next = at + 4 + bytes[at + 1] * 4;
    if (next > bytes.length) return false;
    if (bytes[at] === code) return true;
    at = next;
  }
  return false;
}

function decodeCommand(
  code: number,
  csd1: number,
  csd2: number,
  payload: Uint8Array,
): Midi2Command | UnknownCommand | MalformedCommand {
  const view = new DataView(
    payload.buffer,
    payload.byteOffset,
    payload.byteLength,
  );
  const malformed = (error: string): MalformedCommand => ({
    type: "malformed",
    code,
    error,
  });
  const identity = (from: number): IdentityFields | string => {
    const nameEnd = from + csd1 * 4;
    if (nameEnd > payload.length) {
      return `the name's ${csd1} words run past the payload's ${
        (payload.length - from) / 4
      }`;
    }
    return {
      name: readText(payload.subarray(from, nameEnd)),
      productInstanceId: readText(payload.subarray(nameEnd)),
    };
  };
  switch (code) {
    case CommandCode.Invitation:
    case CommandCode.InvitationReplyAccepted:
    case CommandCode.InvitationReplyPending: {
      const fields = identity(0);
      if (typeof fields === "string") return malformed(fields);
      if (code === CommandCode.Invitation) {
        return { type: "invitation", ...fields, capabilities: csd2 };
      }
      return {
        type: code === CommandCode.InvitationReplyAccepted
          ? "invitation_accepted"
          : "invitation_pending",
        ...fields,
      };
    }
    case CommandCode.InvitationReplyAuthenticationRequired:
    case CommandCode.InvitationReplyUserAuthenticationRequired: {
      if (payload.length < NONCE_BYTES) {
        return malformed(
          `the payload of ${payload.length} bytes has no ${NONCE_BYTES}-byte nonce`,
        );
      }
      const fields = identity(NONCE_BYTES);
      if (typeof fields === "string") return malformed(fields);
      return {
        type: code === CommandCode.InvitationReplyAuthenticationRequired
          ? "authentication_required"
          : "user_authentication_required",
        nonce: payload.slice(0, NONCE_BYTES),
        state: csd2,
        ...fields,
      };
    }
    case CommandCode.InvitationWithAuthentication:
    case CommandCode.InvitationWithUserAuthentication: {
      if (payload.length < DIGEST_BYTES) {
        return malformed(
          `the payload of ${payload.length} bytes has no ${DIGEST_BYTES}-byte digest`,
        );
      }
      const digest = payload.slice(0, DIGEST_BYTES);
      if (code === CommandCode.InvitationWithAuthentication) {
        return { type: "invitation_with_auth", digest };
      }
      return {
        type: "invitation_with_user_auth",
        digest,
        user: readText(payload.subarray(DIGEST_BYTES)),
      };
    }
    case CommandCode.Ping:
    case CommandCode.PingReply:
      if (payload.length < 4) return malformed("no ping id in the payload");
      return {
        type: code === CommandCode.Ping ? "ping" : "ping_reply",
        id: view.getUint32(0),
      };
    case CommandCode.RetransmitRequest:
      if (payload.length < 4) {
        return malformed("no number of UMP commands in the payload");
      }
      return {
        type: "retransmit_request",
        sequence: (csd1 << 8) | csd2,
        count: view.getUint16(0),
      };
    case CommandCode.RetransmitError:
      if (payload.length < 4) {
        return malformed("no sequence number in the payload");
      }
      return {
        type: "retransmit_error",
        sequence: view.getUint16(0),
        reason: csd1,
      };
    case CommandCode.SessionReset:
      return { type: "session_reset" };
    case CommandCode.SessionResetReply:
      return { type: "session_reset_reply" };
    case CommandCode.ByeReply:
      return { type: "bye_reply" };
    case CommandCode.NAK:
    case AMIDI2NET_NAK:
      if (payload.length < 4) {
        return malformed("no header of the command refused in the payload");
      }
      return {
        type: "nak",
        reason: csd1,
        refusedHeader: view.getUint32(0),
        text: readText(payload.subarray(4)),
      };
    case CommandCode.Bye:
      return { type: "bye", reason: csd1, text: readText(payload) };
    default:
      return { type: "unknown", unknown: true, code };
  }
}
