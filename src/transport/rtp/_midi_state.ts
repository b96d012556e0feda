// Copyright 2026 the midisock authors. MIT license.
// Private: the MIDI state that the recovery journal codes (RFC 6295 Appendix
// A), kept by the sender (with the packet that last changed each item) and by
// the receiver (to compare a journal with what it has played). Both sides
// apply the same rules, so the same stream gives the same state.

/** "Never set", for a controller, program, pitch or pressure. */
export const UNKNOWN = -1;

/**
 * The controllers that Reset All Controllers (CC 121) sets,
 * with their values (MIDI RP-015): modulation, expression and the pedals.
 * Pitch bend goes to its centre and channel pressure to 0.
 */
const RESET_CONTROLLERS: readonly (readonly [number, number])[] = [
  [1, 0],
  [11, 127],
  [64, 0],
  [65, 0],
  [66, 0],
  [67, 0],
  [68, 0],
  [69, 0],
];

/** Whether a control change is a channel mode message that ends every note. */
export function endsNotes(control: number): boolean {
  return control === 120 || control >= 123;
}

/** The state of one channel, with the sequence number of each item's change. */
export class ChannelState {
  /** The velocity of each held note, 0 when the note is off. */
  readonly velocity = new Uint8Array(128);
  /** The packet of each note's last note command; -1 for none. */
  readonly noteSeq = new Float64Array(128).fill(-1);
  /** The RTP timestamp of each note's last note_on. */
  readonly noteTime = new Float64Array(128);
  /**
   * Every note that had a note command, in the order of its last one (the
   * oldest first): the note logs' order, and their packets never decrease.
   */
  readonly noteOrder = new Set<number>();
  /** Each controller's value (0..119), UNKNOWN when never set. */
  readonly control = new Int16Array(120).fill(UNKNOWN);
  /** The packet of each controller's last change; -1 for none. */
  readonly controlSeq = new Float64Array(120).fill(-1);
  program = UNKNOWN;
  programSeq = -1;
  /** Bank select MSB and LSB when the program was set, UNKNOWN if none. */
  programBankMsb = UNKNOWN;
  programBankLsb = UNKNOWN;
  /** The pitch wheel as its 14-bit value (8192 is the centre). */
  pitch = UNKNOWN;
  pitchSeq = -1;
  /** Channel pressure (aftertouch). */
  pressure = UNKNOWN;
  pressureSeq = -1;
  /** The packet of the last change of anything on this channel. */
  lastSeq = -1;
  /** How many notes are held. */
  held = 0;
}

/** The state of a MIDI stream as the journal sees it. */
export class MidiState {
  readonly channels: ChannelState[] = Array.from(
    { length: 16 },
    () => new ChannelState(),
  );
  /** System resets seen, modulo 128 (chapter D's COUNT). */
  resetCount = 0;
  resetSeq = -1;

  /**
   * Applies one complete message (its bytes, status first), as carried by
   * packet `seq` with RTP timestamp `time`.
   */
  apply(msg: Uint8Array, seq: number, time: number): void {
    const status = msg[0];
    if (status === 0xff) {
      this.resetCount = (this.resetCount + 1) & 0x7f;
      this.resetSeq = seq;
      for (const ch of this.channels) {
        this.#allNotesOff(ch, seq);
        this.#forget(ch);
      }
      return;
    }
    if (status < 0x80 || status >= 0xf0) return;
    const ch = this.channels[status & 0x0f];
    switch (status & 0xf0) {
      case 0x80:
        this.#note(ch, msg[1], 0, seq, time);
        break;
      case 0x90:
        this.#note(ch, msg[1], msg[2], seq, time);
        break;
      case 0xb0: {
        const control = msg[1];
        if (endsNotes(control)) this.#allNotesOff(ch, seq);
        else if (control === 121) this.#resetControllers(ch, seq);
        else if (control < 120) {
          ch.control[control] = msg[2];
          ch.controlSeq[control] = seq;
          ch.lastSeq = seq;
        }
        break;
      }
      case 0xc0:
        ch.program = msg[1];
        ch.programSeq = seq;
        ch.programBankMsb = ch.control[0];
        ch.programBankLsb = ch.control[32];
        ch.lastSeq = seq;
        break;
      case 0xd0:
        ch.pressure = msg[1];
        ch.pressureSeq = seq;
        ch.lastSeq = seq;
        break;
      case 0xe0:
        ch.pitch = msg[1] | (msg[2] << 7);
        ch.pitchSeq = seq;
        ch.lastSeq = seq;
        break;
    }
  }

  /**
   * The packets at or after `checkpoint` that changed something, each once,
   * in order: where the journal's checkpoint can move to make it shorter.
   */
  seqsSince(checkpoint: number): number[] {
    const seqs = new Set<number>();
    const add = (seq: number) => {
      if (seq >= checkpoint) seqs.add(seq);
    };
    add(this.resetSeq);
    for (const ch of this.channels) {
      if (ch.lastSeq < checkpoint) continue;
      ch.noteSeq.forEach(add);
      ch.controlSeq.forEach(add);
      add(ch.programSeq);
      add(ch.pitchSeq);
      add(ch.pressureSeq);
    }
    return [...seqs].sort((a, b) => a - b);
  }

  #note(
    ch: ChannelState,
    note: number,
    velocity: number,
    seq: number,
    time: number,
  ): void {
    if (ch.velocity[note] !== 0) ch.held--;
    if (velocity !== 0) ch.held++;
    ch.velocity[note] = velocity;
    ch.noteSeq[note] = seq;
    ch.noteOrder.delete(note);
    ch.noteOrder.add(note);
    if (velocity !== 0) ch.noteTime[note] = time;
    ch.lastSeq = seq;
  }

  /** Every held note ends, as by a note_off each (chapter N's off bits). */
  #allNotesOff(ch: ChannelState, seq: number): void {
    if (ch.held === 0) return;
    for (let note = 0; note < 128; note++) {
      if (ch.velocity[note] !== 0) {
        ch.velocity[note] = 0;
        ch.noteSeq[note] = seq;
        ch.noteOrder.delete(note);
        ch.noteOrder.add(note);
      }
    }
    ch.held = 0;
    ch.lastSeq = seq;
  }

  /**
   * A system reset: what came before it is no longer the channel's state
   * (RFC 6295 Appendix A.1), so the journal drops it; the notes it ended stay
   * coded as off bits. Chapter D's count tells a receiver that missed it.
   */
  #forget(ch: ChannelState): void {
    ch.control.fill(UNKNOWN);
    ch.controlSeq.fill(-1);
    ch.program = ch.programBankMsb = ch.programBankLsb = UNKNOWN;
    ch.programSeq = -1;
    ch.pitch = ch.pressure = UNKNOWN;
    ch.pitchSeq = ch.pressureSeq = -1;
  }

  /**
   * Reset All Controllers (CC 121): the RP-015 values. Only an
   * item that changes is stamped with `seq`; one never set takes its value
   * unstamped (the receiver's state, from the same stream, has it unset too,
   * and sets it the same way).
   */
  #resetControllers(ch: ChannelState, seq: number): void {
    for (const [control, value] of RESET_CONTROLLERS) {
      const was = ch.control[control];
      ch.control[control] = value;
      if (was !== UNKNOWN && was !== value) {
        ch.controlSeq[control] = ch.lastSeq = seq;
      }
    }
    if (ch.pitch !== UNKNOWN && ch.pitch !== 8192) {
      ch.pitchSeq = ch.lastSeq = seq;
    }
    ch.pitch = 8192;
    if (ch.pressure !== UNKNOWN && ch.pressure !== 0) {
      ch.pressureSeq = ch.lastSeq = seq;
    }
    ch.pressure = 0;
  }
}
