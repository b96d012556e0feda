// Copyright 2026 the midisock authors. MIT license.
// The commands of Network MIDI 2.0 (UDP): their codes, reasons and fields,
// as _packets.ts encodes and decodes them.
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

/** The most UMP words in one UMP Data command (amidi2net NAKs more). */
export const MAX_UMP_DATA_WORDS = 64;

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

/**
 * The code that amidi2net sends its NAK with (not the specification's
 * 0x8F). {@linkcode decodeDatagram} reads it as a NAK too, so that two
 * peers never answer each other's NAK with a NAK, forever.
 */
export const AMIDI2NET_NAK = 0x7f;

/** The reasons of a NAK (Table 25). */
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

/**
 * The name of a reason code in one of the tables above, for messages:
 * `reasonName(ByeReason, 0x04)` is "Timeout (0x04)".
 */
export function reasonName(
  table: Readonly<Record<string, number>>,
  code: number,
): string {
  for (const [name, value] of Object.entries(table)) {
    if (value === code) return `${name} (${hex(code)})`;
  }
  return `reason ${hex(code)}`;
}

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
  /** The kind of command. */
  type: "invitation";
  /** The bits of {@linkcode Capability}. */
  capabilities: number;
}

/** Invitation with Authentication (0x02): the shared secret's digest. */
export interface InvitationWithAuthCommand {
  /** The kind of command. */
  type: "invitation_with_auth";
  /** SHA-256 of the nonce and the shared secret, 32 bytes. */
  digest: Uint8Array;
}

/** Invitation with User Authentication (0x03): a user and its digest. */
export interface InvitationWithUserAuthCommand {
  /** The kind of command. */
  type: "invitation_with_user_auth";
  /** SHA-256 of the nonce, the user name and the password, 32 bytes. */
  digest: Uint8Array;
  /** The user name, UTF-8 on the wire. */
  user: string;
}

/** Invitation Reply: Accepted (0x10). */
export interface InvitationAcceptedCommand extends IdentityFields {
  /** The kind of command. */
  type: "invitation_accepted";
}

/** Invitation Reply: Pending (0x11). */
export interface InvitationPendingCommand extends IdentityFields {
  /** The kind of command. */
  type: "invitation_pending";
}

/**
 * Invitation Reply: Authentication Required (0x12), or User Authentication
 * Required (0x13).
 */
export interface AuthRequiredCommand extends IdentityFields {
  /** The kind of command. */
  type: "authentication_required" | "user_authentication_required";
  /** The 16-byte crypto nonce to hash. */
  nonce: Uint8Array;
  /** One of {@linkcode AuthState}. */
  state: number;
}

/** Ping (0x20) or Ping Reply (0x21). */
export interface PingCommand {
  /** The kind of command. */
  type: "ping" | "ping_reply";
  /** The 32-bit ping id that the reply echoes. */
  id: number;
}

/** Retransmit Request (0x80). */
export interface RetransmitRequestCommand {
  /** The kind of command. */
  type: "retransmit_request";
  /** The sequence number of the first UMP Data command wanted. */
  sequence: number;
  /** How many UMP Data commands, from that one (0: all from it). */
  count: number;
}

/** Retransmit Error (0x81). */
export interface RetransmitErrorCommand {
  /** The kind of command. */
  type: "retransmit_error";
  /** The sequence number that cannot be sent again. */
  sequence: number;
  /** One of {@linkcode RetransmitErrorReason}. */
  reason: number;
}

/** The commands that carry nothing: Session Reset (Reply), Bye Reply. */
export interface EmptyCommand {
  /** The kind of command. */
  type: "session_reset" | "session_reset_reply" | "bye_reply";
}

/**
 * NAK (0x8F): a command refused, its header echoed. A NAK that amidi2net
 * sends (0x7F) decodes as one too; its `header` says which code it had.
 */
export interface NakCommand {
  /** The kind of command. */
  type: "nak";
  /** One of {@linkcode NakReason}. */
  reason: number;
  /** The header word of the command refused (echoed). */
  refusedHeader: number;
  /** A text for people, UTF-8, maybe empty. */
  text: string;
}

/** Bye (0xF0): the end of a session, with a reason. */
export interface ByeCommand {
  /** The kind of command. */
  type: "bye";
  /** One of {@linkcode ByeReason}. */
  reason: number;
  /** A text for people, UTF-8, maybe empty. */
  text: string;
}

/**
 * UMP Data (0xFF): UMP words with a 16-bit sequence number. Zephyr takes
 * exactly one UMP message in each (1 to 4 words) and NAKs more as malformed;
 * Windows MIDI Services and amidi2net take several.
 */
export interface UmpDataCommand {
  /** The kind of command. */
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
  /** The kind of command. */
  type: "unknown";
  /** Always true: the mark of a command not understood. */
  unknown: true;
  /** Its command code. */
  code: number;
}

/** A known command whose payload does not fit its layout: NAK it. */
export interface MalformedCommand {
  /** The kind of command. */
  type: "malformed";
  /** Its command code. */
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

/** The code of each command type. */
export const CODE_OF: Record<Midi2Command["type"], number> = {
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

/** A number as 0x-prefixed upper-case hex of `digits` digits at least. */
export function hex(n: number, digits = 2): string {
  return "0x" + n.toString(16).toUpperCase().padStart(digits, "0");
}
