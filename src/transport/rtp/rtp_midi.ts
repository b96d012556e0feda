// Copyright 2026 the midisock authors. MIT license.
// The RTP-MIDI payload (RFC 6295): the MIDI command section and the recovery
// journal, as pure code with no sockets. The AppleMIDI session sits on top.

/** Options for {@linkcode RtpMidiSender}. */
export interface RtpMidiSenderOptions {
  /** The sender's RTP SSRC, an integer in 0..0xffffffff. */
  ssrc: number;
  /**
   * Send a recovery journal in every packet (RFC 6295 §4).
   *
   * @default {true}
   */
  journal?: boolean;
  /**
   * The largest whole RTP packet, header included, in bytes (64..65507).
   *
   * @default {1400}
   */
  maxPacketBytes?: number;
  /**
   * The first packet's sequence number (0..65535); random when absent, as
   * RFC 3550 asks.
   */
  seq?: number;
}

/** What an {@linkcode RtpMidiSender} has sent. */
export interface RtpMidiSenderStats {
  /** Packets made. */
  packets: number;
  /** Bytes of those packets, headers included. */
  bytes: number;
  /** Bytes of their recovery journals. */
  journalBytes: number;
}

/** Builds RTP-MIDI packets. */
export class RtpMidiSender {
  readonly stats: RtpMidiSenderStats = {
    packets: 0,
    bytes: 0,
    journalBytes: 0,
  };

  constructor(options: RtpMidiSenderOptions) {
    void options;
  }

  /** Whole MIDI messages sent in one turn -> the RTP packets to send now. */
  packets(messages: readonly Uint8Array[], timestamp: number): Uint8Array[] {
    void messages, timestamp;
    throw new Error("TODO: RtpMidiSender.packets is not written yet");
  }

  /** RS receiver feedback: the peer has every packet up to seq. */
  acknowledge(seq: number): void {
    void seq;
    throw new Error("TODO: RtpMidiSender.acknowledge is not written yet");
  }

  /**
   * A packet with no MIDI commands and the current journal, or undefined when
   * the journal holds nothing the peer has not acknowledged (a guard packet,
   * RFC 4696 §7.1: send one after a pause so a lost last packet is recovered).
   */
  guard(timestamp: number): Uint8Array | undefined {
    void timestamp;
    throw new Error("TODO: RtpMidiSender.guard is not written yet");
  }
}

/** What {@linkcode RtpMidiReceiver.receive} made of one packet. */
export interface RtpMidiReceived {
  /** Complete MIDI messages to deliver, the recovered ones first. */
  messages: Uint8Array[];
  /** How many of `messages` the journal gave back. */
  recovered: number;
  /** Packets missing by sequence number before this one. */
  lost: number;
  /** Why the packet (or part of it) was bad; the caller counts it. */
  malformed?: string;
  /** The packet's SSRC, when its header could be read. */
  ssrc?: number;
  /** The packet's sequence number, when its header could be read. */
  seq?: number;
}

/** Options for {@linkcode RtpMidiReceiver}. */
export interface RtpMidiReceiverOptions {
  /**
   * The longest sysex kept, in data bytes between F0 and F7 (as
   * `MidiParser`'s `maxSysexBytes`); a longer one is dropped and reported.
   *
   * @default {1048576}
   */
  maxSysex?: number;
}

/** Reads RTP-MIDI packets. */
export class RtpMidiReceiver {
  constructor(options: RtpMidiReceiverOptions = {}) {
    void options;
  }

  /** One RTP packet from the peer (header included). Never throws. */
  receive(packet: Uint8Array): RtpMidiReceived {
    void packet;
    return {
      messages: [],
      recovered: 0,
      lost: 0,
      malformed: "TODO: RtpMidiReceiver.receive is not written yet",
    };
  }

  /** The highest extended sequence number received (undefined before the first). */
  get lastSeq(): number | undefined {
    return undefined;
  }
}
