// Copyright 2026 the midisock authors. MIT license.
// The shape of a Standard MIDI File, as readMidiFile() gives it and
// writeMidiFile() takes it.

import type { Message } from "../midi/message.ts";

/** A MIDI event in a track: a message, `delta` ticks after the event before. */
export interface MidiEvent {
  /** Ticks since the previous event of the track. */
  delta: number;
  /**
   * The message. A sysex that the file splits into continuation packets
   * (F0 … then F7 …) is one message, at the time of its first packet.
   */
  message: Message;
}

/** A meta event (FF type length data): tempo, text, end of track, … */
export interface MetaEvent {
  /** Ticks since the previous event of the track. */
  delta: number;
  /** The meta type, 0..127: 0x51 tempo, 0x58 time signature, 0x2F end of track, 0x01..0x0F text. */
  meta: number;
  /** The meta event's data bytes. */
  data: Uint8Array;
}

/** One event of a track. A MidiEvent has `message`, a MetaEvent `meta`. */
export type TrackEvent = MidiEvent | MetaEvent;

/** How a file counts time: ticks per quarter note, or SMPTE frames. */
export type Division =
  | { ticksPerBeat: number }
  | {
    /** Frames per second: 24, 25, 29 (29.97, drop frame) or 30. */
    fps: 24 | 25 | 29 | 30;
    /** Ticks per frame, 1..255. */
    ticksPerFrame: number;
  };

/** A Standard MIDI File. */
export interface MidiFile {
  /** 0 (one track), 1 (tracks played together) or 2 (independent tracks). */
  format: 0 | 1 | 2;
  /** The time base. */
  division: Division;
  /** The tracks, each a list of events. */
  tracks: TrackEvent[][];
}

/** Meta type of Track Name (text, UTF-8 as midisock writes it). */
export const META_TRACK_NAME = 0x03;
/** Meta type of End of Track. */
export const META_END_OF_TRACK = 0x2f;
/** Meta type of Set Tempo (microseconds per quarter note, 3 bytes). */
export const META_TEMPO = 0x51;
/** Meta type of Time Signature. */
export const META_TIME_SIGNATURE = 0x58;
