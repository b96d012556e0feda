// Copyright 2026 the midisock authors. MIT license.
// The options of a Network MIDI 2.0 session, for both roles, their defaults
// and their checks.

import { MAX_FEC, MAX_RETRANSMIT_BUFFER } from "./_sender.ts";

/** The options of a session, for both roles. */
export interface Midi2SessionOptions {
  /** Milliseconds between pings. @default {2000} */
  pingInterval?: number;
  /**
   * Milliseconds with nothing from the peer after which the session is
   * ended (a Bye with reason Timeout). @default {10000}
   */
  timeout?: number;
  /** UMP Data commands that each datagram repeats (FEC), 0..10. @default {2} */
  fec?: number;
  /** UMP Data commands kept for Retransmit Requests, 0..1000. @default {50} */
  retransmitBuffer?: number;
  /**
   * The protocol of the channel voice messages sent: 1 (MT 0x2) or 2 (MT
   * 0x4, scaled up). Unset, it is 1 until the peer selects the MIDI 2.0
   * protocol with a Stream Configuration Request.
   */
  protocol?: 1 | 2;
  /** The UMP group that maps to the MIDI 1.0 bytes, 0..15. @default {0} */
  group?: number;
  /**
   * The longest sysex, in data bytes (F0 and F7 not counted), joined from
   * UMP or parsed from the bytes written. @default {1048576}
   */
  maxSysexBytes?: number;
  /**
   * Milliseconds that a missing UMP Data command is waited for before a
   * Retransmit Request, and between requests. @default {25}
   */
  retransmitWait?: number;
  /**
   * Retransmit Requests for one gap before it is given up (counted as lost).
   * @default {3}
   */
  retransmitAttempts?: number;
  /**
   * The most datagrams a second that the session sends, after a burst of
   * 64: a long sysex is paced, so that it does not overrun the peer's
   * socket buffer (nothing in the protocol paces a sender, and a datagram
   * lost beyond the retransmit buffer is lost for good). 4,000 datagrams
   * of up to 64 UMP words each is some 3 MB/s. @default {4000}
   */
  maxDatagramRate?: number;
}

const DEFAULTS = {
  pingInterval: 2000,
  timeout: 10_000,
  fec: 2,
  retransmitBuffer: 50,
  retransmitWait: 25,
  retransmitAttempts: 3,
  maxDatagramRate: 4000,
};

function checkInt(name: string, value: number, min: number, max: number) {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `Invalid Network MIDI 2.0 option ${name}: expected an integer in ${min}..${max}, got ${value}`,
    );
  }
}

/**
 * Checks a session's options, and fills in the defaults.
 *
 * @throws {RangeError} An option out of range, named.
 */
export function sessionOptions(
  options: Midi2SessionOptions,
): Required<Omit<Midi2SessionOptions, "protocol">> & {
  protocol: 1 | 2 | undefined;
} {
  const o = {
    ...DEFAULTS,
    group: 0,
    maxSysexBytes: 1024 * 1024,
    ...Object.fromEntries(
      Object.entries(options).filter(([, v]) => v !== undefined),
    ),
  } as Required<Midi2SessionOptions>;
  checkInt("pingInterval", o.pingInterval, 10, 3_600_000);
  checkInt("timeout", o.timeout, 10, 3_600_000);
  checkInt("fec", o.fec, 0, MAX_FEC);
  checkInt("retransmitBuffer", o.retransmitBuffer, 0, MAX_RETRANSMIT_BUFFER);
  checkInt("group", o.group, 0, 15);
  checkInt("maxSysexBytes", o.maxSysexBytes, 0, 2 ** 31);
  checkInt("retransmitWait", o.retransmitWait, 1, 60_000);
  checkInt("retransmitAttempts", o.retransmitAttempts, 0, 100);
  checkInt("maxDatagramRate", o.maxDatagramRate, 10, 10_000_000);
  const protocol = options.protocol;
  if (protocol !== undefined && protocol !== 1 && protocol !== 2) {
    throw new RangeError(
      `Invalid Network MIDI 2.0 option protocol: expected 1 or 2, got ${protocol}`,
    );
  }
  return { ...o, protocol };
}
