// Copyright 2026 the midisock authors. MIT license.
// Private: the reasons of Bye as words for people.

import { ByeReason } from "./_packets.ts";

const BYE_TEXT: Record<number, string> = {
  [ByeReason.Unknown]: "no reason given",
  [ByeReason.UserTerminated]: "the session was ended",
  [ByeReason.PowerDown]: "the peer powers down",
  [ByeReason.TooManyMissingPackets]: "too many missing UMP packets",
  [ByeReason.Timeout]: "timeout",
  [ByeReason.SessionNotEstablished]: "no session established",
  [ByeReason.NoPendingSession]: "no pending session",
  [ByeReason.ProtocolError]: "protocol error",
  [ByeReason.TooManyOpenSessions]: "too many open sessions",
  [ByeReason.InvitationWithAuthenticationRejectedMissingPriorAttempt]:
    "invitation with authentication rejected: no invitation before it",
  [ByeReason.InvitationRejectedUserDidNotAccept]: "invitation rejected",
  [ByeReason.InvitationRejectedAuthenticationFailed]:
    "invitation rejected: authentication failed",
  [ByeReason.InvitationRejectedUsernameNotFound]:
    "invitation rejected: user name not found",
  [ByeReason.NoMatchingAuthenticationMethod]:
    "no matching authentication method",
  [ByeReason.InvitationCanceled]: "invitation canceled",
};

const hex = (n: number) => "0x" + n.toString(16).toUpperCase().padStart(2, "0");

/** A Bye reason as words: `timeout (Bye reason 0x04)`, with its text. */
export function byeText(code: number, text = ""): string {
  const words = BYE_TEXT[code] ?? "unknown reason";
  return `${words} (Bye reason ${hex(code)})${text ? `: ${text}` : ""}`;
}

/**
 * The Bye reason for a transport closed with `reason` by the bus (an
 * admission refusal), or by its owner.
 */
export function byeFor(reason: string | undefined): number {
  if (reason === undefined) return ByeReason.UserTerminated;
  if (/maxClients|full/i.test(reason)) return ByeReason.TooManyOpenSessions;
  if (/allow/i.test(reason)) {
    return ByeReason.InvitationRejectedUserDidNotAccept;
  }
  return ByeReason.UserTerminated;
}
