// Copyright 2026 the midisock authors. MIT license.
// Private: what a NATS message of the bus carries beside its MIDI bytes (the
// headers), how many MIDI messages its bytes hold, and what a hub keeps of
// another hub: its stream, its notes, and its numbers, to tell a gap, its
// size, a restart and a late message.

import { MidiParser } from "../midi/parser.ts";
import { NoteTracker } from "../midi/note_tracker.ts";
import { natsHeaders, type NatsMsg } from "./_transport.ts";

/** The header that names the hub a NATS message comes from. */
const HUB_HEADER = "Midisock-Hub";
/** The header with the message's sequence number, per hub, from 1. */
const SEQ_HEADER = "Midisock-Seq";
/**
 * The header with the MIDI messages that the hub has published so far, this
 * message's included, less those it counted as dropped itself: the
 * difference between two messages is what was published between them.
 */
const COUNT_HEADER = "Midisock-Count";
/** The header that tells one run of a hub (one bridge) from another. */
const INSTANCE_HEADER = "Midisock-Instance";
/** The header of a hub's last message, as it closes. */
const BYE_HEADER = "Midisock-Bye";

/** The headers of a NATS message of the bus, read. */
export interface Stamp {
  /** The hub that sent it. */
  hub: string;
  /** Its sequence number (a heartbeat: the hub's last). */
  seq: number;
  /** The hub's count of MIDI messages published; none from an older hub. */
  count: number | undefined;
  /** The hub's run (one bridge); none from an older hub. */
  instance: string | undefined;
  /** The hub closes. */
  bye: boolean;
}

/** The headers for a NATS message of `hub`'s. */
export function stampHeaders(
  hub: string,
  instance: string,
  seq: number,
  count: number,
  bye = false,
): ReturnType<typeof natsHeaders> {
  const h = natsHeaders();
  h.set(HUB_HEADER, hub);
  h.set(SEQ_HEADER, String(seq));
  h.set(COUNT_HEADER, String(count));
  h.set(INSTANCE_HEADER, instance);
  if (bye) h.set(BYE_HEADER, "1");
  return h;
}

/**
 * Reads the headers of a NATS message on `prefix + hub`: undefined if they
 * are missing, or name another hub than the subject's last token.
 */
export function readStamp(msg: NatsMsg, prefix: string): Stamp | undefined {
  const h = msg.headers;
  const hub = h?.get(HUB_HEADER);
  const seq = Number(h?.get(SEQ_HEADER));
  if (
    !h || !hub || !isSubjectOf(msg.subject, prefix, hub) ||
    !Number.isSafeInteger(seq) || seq < 0
  ) {
    return undefined;
  }
  // A count that is not one is taken as none (the loss has no size).
  const count = h.has(COUNT_HEADER) ? Number(h.get(COUNT_HEADER)) : NaN;
  return {
    hub,
    seq,
    count: Number.isSafeInteger(count) && count >= 0 ? count : undefined,
    instance: h.get(INSTANCE_HEADER) || undefined,
    bye: h.has(BYE_HEADER),
  };
}

/** Whether `subject` is `prefix + hub`, without building that string. */
function isSubjectOf(subject: string, prefix: string, hub: string): boolean {
  return subject.length === prefix.length + hub.length &&
    subject.startsWith(prefix) && subject.endsWith(hub);
}

/**
 * The MIDI messages that end in `bytes[start..end)`, where `bytes` holds
 * whole messages as the encoder writes them (no running status, nothing
 * between a sysex's F0 and F7 but its data): a message ends where the next
 * one starts (a status byte but F7), or where `bytes` ends. A payload cut
 * out of `bytes` counts the messages that a parser fed the payloads in turn
 * completes with it.
 */
export function countMessages(
  bytes: Uint8Array,
  start = 0,
  end: number = bytes.length,
): number {
  if (end <= start) return 0;
  let n = end === bytes.length ? 1 : 0;
  const last = Math.min(end, bytes.length - 1);
  for (let k = start + 1; k <= last; k++) {
    const b = bytes[k];
    if (b >= 0x80 && b !== 0xf7) n++;
  }
  return n;
}

/**
 * What a hub keeps of another hub's numbers: its run, and the sequence
 * number and count of the last message taken from it. It outlives the
 * other hub's leaving by a timeout or a lost link, so that a gap across
 * the absence is still seen and counted.
 */
export class Numbers {
  instance: string | undefined;
  seq: number | undefined;
  count: number | undefined;

  /**
   * Whether `s` is of a new run of the hub (it restarted): another
   * instance; or, from a hub that sends none, a number that goes back.
   */
  restartedBy(s: Stamp, heartbeat: boolean): boolean {
    if (this.seq === undefined) return false;
    if (s.instance !== undefined || this.instance !== undefined) {
      return s.instance !== this.instance;
    }
    return heartbeat ? s.seq < this.seq : s.seq <= this.seq;
  }

  /**
   * Whether `s`, of the same run, is older than the last message taken:
   * it was found lost (and counted) when a later one came first.
   */
  isLate(s: Stamp, heartbeat: boolean): boolean {
    if (this.seq === undefined) return false;
    return heartbeat ? s.seq < this.seq : s.seq <= this.seq;
  }

  /** The NATS messages of the hub that were skipped before `s`. */
  skipped(s: Stamp, heartbeat: boolean): number {
    if (this.seq === undefined) return 0;
    return s.seq - (heartbeat ? this.seq : this.seq + 1);
  }

  /**
   * The MIDI messages lost between the last message taken and `s`, which
   * made `parsed` messages here: undefined where either has no count.
   */
  lost(s: Stamp, parsed: number): number | undefined {
    if (s.count === undefined || this.count === undefined) return undefined;
    return Math.max(0, s.count - this.count - parsed);
  }

  /** Takes `s` as the last message. */
  take(s: Stamp): void {
    this.instance = s.instance;
    this.seq = s.seq;
    this.count = s.count;
  }
}

/** A fresh parser of another hub's bytes, which never use running status. */
export function parser(): MidiParser {
  return new MidiParser({ runningStatus: false });
}

/** What a bridge knows of another hub. */
export class Origin {
  /** Its bytes, one stream (a batch may end inside a message). */
  parser: MidiParser = parser();
  /** What its clients left sounding here. */
  tracker: NoteTracker = new NoteTracker();
  /** Its numbers. */
  numbers: Numbers = new Numbers();
  /** When it was last heard. */
  seen: number = performance.now();
}
