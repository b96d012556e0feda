// Copyright 2026 the midisock authors. MIT license.
// The echo that `midisock ping` measures a round trip with, over a byte
// stream (TCP, TLS, WebSocket): a client asks for it in its hello line
// (`echo=1`), a server that can says so in its verdict line (`verdict=ok
// echo=1`), and only then does the client send echo requests, each a sysex
// of the non-commercial ID 0x7D, which the server answers to that client
// alone. A mido peer never sees one: a plain mido server never answers the
// hello line, so the client sends none, and a midisock server never relays
// one or hands it to its readers.
//
//   request: F0 7D 4D 53 01 s3 s2 s1 s0 F7   ("MS", 1: a request)
//   answer:  F0 7D 4D 53 02 s3 s2 s1 s0 F7   (2: the answer)
//
// s3..s0 are the sequence number, 28 bits, 7 a byte, the high ones first.
// Each is a whole sysex, which any MIDI parser keeps apart from the
// messages around it: it cancels no one's running status on the way out
// (midisock never sends with running status) and every byte but F0 and F7
// is a data byte.

import { type Message, message } from "../midi/message.ts";

/** The hello line's field that asks for the echo, and the verdict's that offers it. */
export const ECHO_FIELD = "echo";

/** The sysex's first data bytes: 0x7D (non-commercial), "MS". */
const HEAD = [0x7d, 0x4d, 0x53];
const REQUEST = 1;
const ANSWER = 2;
/** The largest sequence number; the next after it is 0. */
export const MAX_ECHO_SEQ = 0x0fffffff;

/** Whether a hello line asks for the echo, or a verdict line offers it. */
export function asksEcho(
  hello: Readonly<Record<string, string>> | null | undefined,
): boolean {
  return hello?.[ECHO_FIELD] === "1";
}

/** The echo request with sequence number `seq` (0..MAX_ECHO_SEQ). */
export function echoRequest(seq: number): Message {
  return echoMessage(REQUEST, seq);
}

/**
 * The answer to `msg` if it is an echo request (the same sequence
 * number), or undefined if it is not one.
 */
export function echoAnswer(msg: Message): Message | undefined {
  const seq = echoSeq(msg, REQUEST);
  return seq === undefined ? undefined : echoMessage(ANSWER, seq);
}

/** The sequence number of an echo answer, or undefined if `msg` is none. */
export function echoAnswerSeq(msg: Message): number | undefined {
  return echoSeq(msg, ANSWER);
}

function echoMessage(kind: number, seq: number): Message {
  if (!Number.isInteger(seq) || seq < 0 || seq > MAX_ECHO_SEQ) {
    throw new RangeError(
      `Invalid echo sequence number: expected an integer in 0..${MAX_ECHO_SEQ}, got ${seq}`,
    );
  }
  return message("sysex", {
    data: [
      ...HEAD,
      kind,
      (seq >> 21) & 0x7f,
      (seq >> 14) & 0x7f,
      (seq >> 7) & 0x7f,
      seq & 0x7f,
    ],
  });
}

function echoSeq(msg: Message, kind: number): number | undefined {
  if (msg.type !== "sysex") return undefined;
  const data = msg.data;
  if (
    data === undefined || data.length !== 8 || data[0] !== HEAD[0] ||
    data[1] !== HEAD[1] || data[2] !== HEAD[2] || data[3] !== kind
  ) {
    return undefined;
  }
  return (data[4] << 21) | (data[5] << 14) | (data[6] << 7) | data[7];
}
