// Copyright 2026 the midisock authors. MIT license.
// Private: the AppleMIDI session protocol's control packets (Apple's "MIDI
// Network Driver Protocol"), as pure code. Every packet starts with 0xFFFF
// and a two-letter command; RTP packets never do (their first byte is
// 0x80..0xBF), so one look at the first two bytes tells them apart.
//
//   IN, OK, NO, BY: FFFF cmd(2) version(4)=2 token(4) ssrc(4) [name NUL]
//   CK:             FFFF "CK" ssrc(4) count(1) pad(3) ts1(8) ts2(8) ts3(8)
//   RS:             FFFF "RS" ssrc(4) seq(2) pad(2)
//   RL:             FFFF "RL" ssrc(4) limit(4)   (read, and ignored)

/** The commands of the session protocol. */
export type ControlCommand = "IN" | "OK" | "NO" | "BY" | "CK" | "RS" | "RL";

/** An invitation, its answers (OK, NO), and the end of a session (BY). */
export interface Exchange {
  readonly command: "IN" | "OK" | "NO" | "BY";
  readonly token: number;
  readonly ssrc: number;
  /** The sender's session name ("" if it sent none). */
  readonly name: string;
}

/** A clock synchronization packet: count 0, 1 or 2, three timestamps. */
export interface Clock {
  readonly command: "CK";
  readonly ssrc: number;
  readonly count: number;
  /** The three timestamps, in units of 100 microseconds. */
  readonly timestamps: readonly [number, number, number];
}

/** Receiver feedback: the peer has every packet up to `seq`. */
export interface Feedback {
  readonly command: "RS";
  readonly ssrc: number;
  /** The sequence field: 32 bits (16 for a 10-byte packet). */
  readonly seq: number;
}

/** A bitrate receive limit, which is read and ignored. */
export interface Limit {
  readonly command: "RL";
  readonly ssrc: number;
}

/** A control packet, parsed. */
export type Control = Exchange | Clock | Feedback | Limit;

/** The most bytes of a session name that are sent or kept. */
export const MAX_NAME_BYTES = 255;

const TEXT_IN = new TextDecoder("utf-8", { fatal: false });
const TEXT_OUT = new TextEncoder();

/** Whether a datagram is a control packet (starts with 0xFFFF). */
export function isControl(packet: Uint8Array): boolean {
  return packet.length >= 2 && packet[0] === 0xff && packet[1] === 0xff;
}

/**
 * The SSRC of an RTP packet (not a control one), read with no copy and no
 * DataView, or why it cannot be read (as a string), as the listener and the
 * initiator route each data packet by it.
 */
export function dataSsrc(packet: Uint8Array): number | string {
  if (packet.length < 12) {
    return `truncated RTP packet (${packet.length} bytes)`;
  }
  return ((packet[8] << 24) | (packet[9] << 16) | (packet[10] << 8) |
    packet[11]) >>> 0;
}

/**
 * Reads a control packet, or says why it is bad (as a string). Never
 * throws: a truncated packet, an unknown command or a version other than 2
 * is a reason.
 */
export function parseControl(packet: Uint8Array): Control | string {
  if (!isControl(packet)) return "not a control packet";
  if (packet.length < 4) {
    return `truncated control packet (${packet.length} bytes)`;
  }
  const command = String.fromCharCode(packet[2], packet[3]);
  const view = new DataView(packet.buffer, packet.byteOffset, packet.length);
  switch (command) {
    case "IN":
    case "OK":
    case "NO":
    case "BY": {
      if (packet.length < 16) {
        return `truncated ${command} packet (${packet.length} bytes, expected at least 16)`;
      }
      const version = view.getUint32(4);
      if (version !== 2) {
        return `${command} packet of protocol version ${version}, expected 2`;
      }
      let end = 16;
      while (end < packet.length && packet[end] !== 0) end++;
      const name = TEXT_IN.decode(
        packet.subarray(16, Math.min(end, 16 + MAX_NAME_BYTES)),
      );
      return {
        command,
        token: view.getUint32(8),
        ssrc: view.getUint32(12),
        name,
      };
    }
    case "CK": {
      if (packet.length < 36) {
        return `truncated CK packet (${packet.length} bytes, expected 36)`;
      }
      const count = packet[8];
      if (count > 2) return `CK packet with count ${count}, expected 0, 1 or 2`;
      return {
        command,
        ssrc: view.getUint32(4),
        count,
        timestamps: [
          readTime(view, 12),
          readTime(view, 20),
          readTime(view, 28),
        ],
      };
    }
    case "RS": {
      if (packet.length < 10) {
        return `truncated RS packet (${packet.length} bytes, expected 12)`;
      }
      // The field is 32 bits, which peers fill two ways (the 16-bit number
      // then zeros, or an extended number): RtpMidiSender.acknowledge()
      // takes it whole. A 10-byte RS has the 16 bits alone.
      const seq = packet.length >= 12 ? view.getUint32(8) : view.getUint16(8);
      return { command, ssrc: view.getUint32(4), seq };
    }
    case "RL": {
      if (packet.length < 8) {
        return `truncated RL packet (${packet.length} bytes, expected 12)`;
      }
      return { command, ssrc: view.getUint32(4) };
    }
    default:
      return `unknown control command ${JSON.stringify(command)}`;
  }
}

/** An IN, OK, NO or BY packet; the name is cut to MAX_NAME_BYTES. */
export function exchange(
  command: Exchange["command"],
  token: number,
  ssrc: number,
  name?: string,
): Uint8Array {
  let text = name === undefined ? undefined : TEXT_OUT.encode(name);
  if (text && text.length > MAX_NAME_BYTES) {
    // Cut on a character boundary.
    let cut = MAX_NAME_BYTES;
    while (cut > 0 && (text[cut] & 0xc0) === 0x80) cut--;
    text = text.subarray(0, cut);
  }
  const [packet, view] = control(command, 16 + (text ? text.length + 1 : 0));
  view.setUint32(4, 2);
  view.setUint32(8, token >>> 0);
  view.setUint32(12, ssrc >>> 0);
  if (text) packet.set(text, 16);
  return packet;
}

/** A CK packet. */
export function clock(
  ssrc: number,
  count: number,
  timestamps: readonly [number, number, number],
): Uint8Array {
  const [packet, view] = control("CK", 36);
  view.setUint32(4, ssrc >>> 0);
  packet[8] = count;
  writeTime(view, 12, timestamps[0]);
  writeTime(view, 20, timestamps[1]);
  writeTime(view, 28, timestamps[2]);
  return packet;
}

/** An RS packet: every packet up to `seq` has come. */
export function feedback(ssrc: number, seq: number): Uint8Array {
  const [packet, view] = control("RS", 12);
  view.setUint32(4, ssrc >>> 0);
  view.setUint16(8, seq & 0xffff);
  return packet;
}

// A control packet of `size` bytes: 0xFFFF and the command, the rest zeros.
function control(
  command: ControlCommand,
  size: number,
): [Uint8Array, DataView] {
  const packet = new Uint8Array(size);
  const view = new DataView(packet.buffer);
  view.setUint16(0, 0xffff);
  packet[2] = command.charCodeAt(0);
  packet[3] = command.charCodeAt(1);
  return [packet, view];
}

// A 64-bit timestamp as a number: exact up to 2^53 units of 100 us (28
// thousand years), which any session clock stays under.
function readTime(view: DataView, at: number): number {
  return view.getUint32(at) * 0x1_0000_0000 + view.getUint32(at + 4);
}

function writeTime(view: DataView, at: number, value: number): void {
  const t = Math.max(0, Math.floor(value));
  view.setUint32(at, Math.floor(t / 0x1_0000_0000) >>> 0);
  view.setUint32(at + 4, t >>> 0);
}

/** A random 32-bit number: an SSRC, an initiator token. */
export function randomId(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}
