// Copyright 2026 the midisock authors. MIT license.
// The Network MIDI 2.0 (UDP) datagram: the "MIDI" signature, then command
// packets. Each command packet is a header word (command code, payload length
// in 32-bit words, two command-specific bytes) and its payload. Every number
// is big-endian.
//
// The layouts are those of the MIDI Association's M2-124-UM v1.0, "User
// Datagram Protocol for Universal MIDI Packets", read through three public
// implementations that agree on them: Zephyr's subsys/net/lib/midi2, tiwai's
// amidi2net (packet.h, packet.c) and Microsoft's Windows MIDI Services network
// transport (MidiNetworkDataWriter). Where they differ, the choice is noted.

/** The signature that opens every datagram: "MIDI", 0x4D494449. */
export const SIGNATURE = 0x4d494449;

/** The most bytes in one datagram (the UDP payload, signature included). */
export const MAX_DATAGRAM_BYTES = 1400;

/** The most bytes of a UMP endpoint name (as UMP Stream messages carry it). */
export const MAX_NAME_BYTES = 98;

/** The most bytes of a Product Instance Id. */
export const MAX_PRODUCT_INSTANCE_ID_BYTES = 42;

/** The bytes of the crypto nonce of an authentication challenge. */
export const NONCE_BYTES = 16;

/** The bytes of an authentication digest (SHA-256). */
export const DIGEST_BYTES = 32;

/** The most 32-bit words of one command's payload (its length is one byte). */
export const MAX_PAYLOAD_WORDS = 255;

/** The command codes (M2-124-UM 5.5, Command Codes and Packet Types). */
export const CommandCode = {
  Invitation: 0x01,
  InvitationWithAuthentication: 0x02,
  InvitationWithUserAuthentication: 0x03,
  InvitationReplyAccepted: 0x10,
  InvitationReplyPending: 0x11,
  InvitationReplyAuthenticationRequired: 0x12,
  InvitationReplyUserAuthenticationRequired: 0x13,
  Ping: 0x20,
  PingReply: 0x21,
  RetransmitRequest: 0x80,
  RetransmitError: 0x81,
  SessionReset: 0x82,
  SessionResetReply: 0x83,
  NAK: 0x8f,
  Bye: 0xf0,
  ByeReply: 0xf1,
  UMPData: 0xff,
} as const;

/** The bits of an Invitation's capabilities byte (Table 11). */
export const Capability = {
  /** The client can answer with Invitation with Authentication (0x02). */
  InvitationWithAuthentication: 0x01,
  /** The client can answer with Invitation with User Authentication (0x03). */
  InvitationWithUserAuthentication: 0x02,
} as const;

/**
 * The authentication state of Invitation Reply: (User) Authentication
 * Required. 0x00 and 0x01 are Zephyr's and amidi2net's; 0x02 is amidi2net's
 * (user not found).
 */
export const AuthState = {
  FirstAuthenticationRequest: 0x00,
  IncorrectDigest: 0x01,
  UserNotFound: 0x02,
} as const;

/** The reasons of a NAK (Table 25). amidi2net sends NAK as 0x7F, not 0x8F. */
export const NakReason = {
  Other: 0x00,
  CommandNotSupported: 0x01,
  CommandNotExpected: 0x02,
  CommandMalformed: 0x03,
  BadPingReply: 0x20,
} as const;

/** The reasons of a Bye. */
export const ByeReason = {
  Unknown: 0x00,
  UserTerminated: 0x01,
  PowerDown: 0x02,
  TooManyMissingPackets: 0x03,
  Timeout: 0x04,
  SessionNotEstablished: 0x05,
  NoPendingSession: 0x06,
  ProtocolError: 0x07,
  TooManyOpenSessions: 0x40,
  InvitationWithAuthenticationRejectedMissingPriorAttempt: 0x41,
  InvitationRejectedUserDidNotAccept: 0x42,
  InvitationRejectedAuthenticationFailed: 0x43,
  InvitationRejectedUsernameNotFound: 0x44,
  NoMatchingAuthenticationMethod: 0x45,
  InvitationCanceled: 0x80,
} as const;

/** The reasons of a Retransmit Error. */
export const RetransmitErrorReason = {
  Unknown: 0x00,
  DataNotAvailable: 0x01,
} as const;

/** An Invitation, or one of the replies that name the host. */
export interface IdentityFields {
  /** The UMP endpoint name, UTF-8 on the wire. */
  name: string;
  /** The Product Instance Id, ASCII on the wire. */
  productInstanceId: string;
}

/** Invitation (0x01): a client asks for a session. */
export interface InvitationCommand extends IdentityFields {
  type: "invitation";
  /** The bits of {@linkcode Capability}. */
  capabilities: number;
}

/** Invitation with Authentication (0x02): the shared secret's digest. */
export interface InvitationWithAuthCommand {
  type: "invitation_with_auth";
  /** SHA-256 of the nonce and the shared secret, 32 bytes. */
  digest: Uint8Array;
}

/** Invitation with User Authentication (0x03): a user and its digest. */
export interface InvitationWithUserAuthCommand {
  type: "invitation_with_user_auth";
  /** SHA-256 of the nonce, the user name and the password, 32 bytes. */
  digest: Uint8Array;
  /** The user name, UTF-8 on the wire. */
  user: string;
}

/** Invitation Reply: Accepted (0x10). */
export interface InvitationAcceptedCommand extends IdentityFields {
  type: "invitation_accepted";
}

/** Invitation Reply: Pending (0x11). */
export interface InvitationPendingCommand extends IdentityFields {
  type: "invitation_pending";
}

/**
 * Invitation Reply: Authentication Required (0x12), or User Authentication
 * Required (0x13).
 */
export interface AuthRequiredCommand extends IdentityFields {
  type: "authentication_required" | "user_authentication_required";
  /** The 16-byte crypto nonce to hash. */
  nonce: Uint8Array;
  /** One of {@linkcode AuthState}. */
  state: number;
}

/** Ping (0x20) or Ping Reply (0x21). */
export interface PingCommand {
  type: "ping" | "ping_reply";
  /** The 32-bit ping id that the reply echoes. */
  id: number;
}

/** Retransmit Request (0x80). */
export interface RetransmitRequestCommand {
  type: "retransmit_request";
  /** The sequence number of the first UMP Data command wanted. */
  sequence: number;
  /** How many UMP Data commands, from that one (0: all from it). */
  count: number;
}

/** Retransmit Error (0x81). */
export interface RetransmitErrorCommand {
  type: "retransmit_error";
  /** The sequence number that cannot be sent again. */
  sequence: number;
  /** One of {@linkcode RetransmitErrorReason}. */
  reason: number;
}

/** The commands that carry nothing: Session Reset (Reply), Bye Reply. */
export interface EmptyCommand {
  type: "session_reset" | "session_reset_reply" | "bye_reply";
}

/** NAK (0x8F): a command refused, its header echoed. */
export interface NakCommand {
  type: "nak";
  /** One of {@linkcode NakReason}. */
  reason: number;
  /** The header word of the command refused. */
  header: number;
  /** A text for people, UTF-8, maybe empty. */
  text: string;
}

/** Bye (0xF0): the end of a session, with a reason. */
export interface ByeCommand {
  type: "bye";
  /** One of {@linkcode ByeReason}. */
  reason: number;
  /** A text for people, UTF-8, maybe empty. */
  text: string;
}

/** UMP Data (0xFF): UMP words with a 16-bit sequence number. */
export interface UmpDataCommand {
  type: "ump_data";
  /** 0..65535, one more for each UMP Data command, wrapping. */
  sequence: number;
  /** The UMP words (0 to 64 of them), as unsigned 32-bit numbers. */
  words: readonly number[];
}

/** A command of the specification, to encode or as decoded. */
export type Midi2Command =
  | InvitationCommand
  | InvitationWithAuthCommand
  | InvitationWithUserAuthCommand
  | InvitationAcceptedCommand
  | InvitationPendingCommand
  | AuthRequiredCommand
  | PingCommand
  | RetransmitRequestCommand
  | RetransmitErrorCommand
  | EmptyCommand
  | NakCommand
  | ByeCommand
  | UmpDataCommand;

/** A command whose code the specification does not have: NAK it. */
export interface UnknownCommand {
  type: "unknown";
  unknown: true;
  code: number;
}

/** A known command whose payload does not fit its layout: NAK it. */
export interface MalformedCommand {
  type: "malformed";
  code: number;
  /** What is wrong, naming the field. */
  error: string;
}

/**
 * A command as {@linkcode decodeDatagram} returns it: with its header word
 * (for a NAK that echoes it) and its byte offset in the datagram.
 */
export type DecodedCommand =
  & (Midi2Command | UnknownCommand | MalformedCommand)
  & { header: number; offset: number };

/** What {@linkcode decodeDatagram} found. */
export interface DecodedDatagram {
  /** The commands, in order; unknown and malformed ones included. */
  commands: DecodedCommand[];
  /** What was wrong, each naming its byte offset. */
  errors: string[];
}

const CODE_OF: Record<Midi2Command["type"], number> = {
  invitation: CommandCode.Invitation,
  invitation_with_auth: CommandCode.InvitationWithAuthentication,
  invitation_with_user_auth: CommandCode.InvitationWithUserAuthentication,
  invitation_accepted: CommandCode.InvitationReplyAccepted,
  invitation_pending: CommandCode.InvitationReplyPending,
  authentication_required: CommandCode.InvitationReplyAuthenticationRequired,
  user_authentication_required:
    CommandCode.InvitationReplyUserAuthenticationRequired,
  ping: CommandCode.Ping,
  ping_reply: CommandCode.PingReply,
  retransmit_request: CommandCode.RetransmitRequest,
  retransmit_error: CommandCode.RetransmitError,
  session_reset: CommandCode.SessionReset,
  session_reset_reply: CommandCode.SessionResetReply,
  nak: CommandCode.NAK,
  bye: CommandCode.Bye,
  bye_reply: CommandCode.ByeReply,
  ump_data: CommandCode.UMPData,
};

/** The name of a command code, for messages: "Ping (0x20)". */
export function commandName(code: number): string {
  for (const [name, value] of Object.entries(CommandCode)) {
    if (value === code) return `${name} (${hex(code)})`;
  }
  return `unknown command ${hex(code)}`;
}

function hex(n: number, digits = 2): string {
  return "0x" + n.toString(16).toUpperCase().padStart(digits, "0");
}

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
          u32(checkInt(command.header, `${what} header`, 0xffffffff)),
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
      const sequence = checkInt(command.sequence, `${what} sequence`, 0xffff);
      const list = command.words;
      if (list.length > MAX_PAYLOAD_WORDS) {
        throw new RangeError(
          `${what} words must be at most ${MAX_PAYLOAD_WORDS}, got ${list.length}`,
        );
      }
      const bytes = new Uint8Array(list.length * 4);
      const view = new DataView(bytes.buffer);
      for (let i = 0; i < list.length; i++) {
        view.setUint32(
          i * 4,
          checkInt(list[i], `${what} words[${i}]`, 0xffffffff),
        );
      }
      return {
        code,
        csd1: sequence >> 8,
        csd2: sequence & 0xff,
        payload: [bytes],
      };
    }
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
 * @param commands The commands, maybe none.
 * @returns The datagram's bytes.
 * @throws {RangeError} A field out of range, or a datagram over
 * {@linkcode MAX_DATAGRAM_BYTES}, naming its size.
 */
export function encodeDatagram(
  commands: readonly Midi2Command[],
): Uint8Array {
  const packets = commands.map(encodeCommand);
  let length = 4;
  for (const packet of packets) length += packet.length;
  if (length > MAX_DATAGRAM_BYTES) {
    throw new RangeError(
      `A Network MIDI 2.0 datagram must be at most ${MAX_DATAGRAM_BYTES} bytes, got ${length} (${commands.length} commands)`,
    );
  }
  const out = new Uint8Array(length);
  new DataView(out.buffer).setUint32(0, SIGNATURE);
  let at = 4;
  for (const packet of packets) {
    out.set(packet, at);
    at += packet.length;
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
      if (payload.length < 4) {
        return malformed("no header of the command refused in the payload");
      }
      return {
        type: "nak",
        reason: csd1,
        header: view.getUint32(0),
        text: readText(payload.subarray(4)),
      };
    case CommandCode.Bye:
      return { type: "bye", reason: csd1, text: readText(payload) };
    case CommandCode.UMPData: {
      const list: number[] = new Array(payload.length / 4);
      for (let i = 0; i < list.length; i++) list[i] = view.getUint32(i * 4);
      return { type: "ump_data", sequence: (csd1 << 8) | csd2, words: list };
    }
    default:
      return { type: "unknown", unknown: true, code };
  }
}
