// Copyright 2026 the midisock authors. MIT license.

import { type Message, message } from "./message.ts";

/** The controllers that Reset All Controllers leaves alone (RP-015). */
const KEPT_ON_RESET = new Set([
  0,
  7,
  10,
  32,
  70,
  71,
  72,
  73,
  74,
  75,
  76,
  77,
  78,
  79,
  91,
  92,
  93,
  94,
  95,
  98,
  99,
  100,
  101,
]);

/** What one channel has: its held notes, its pedal, its controllers. */
class Channel {
  notes = new Uint8Array(128); // 1 while a note is held
  held = 0;
  pedal = false;
  controllers = new Int16Array(120).fill(-1); // -1: never set
  program = -1;
  pitch: number | undefined;
}

/**
 * Keeps track of what a stream of messages has left sounding: the notes
 * held on each channel, and the sustain pedals that are down. It can give
 * the messages that release them, for a player who drops off the bus: a
 * note_off for each held note, and control_change 64 (sustain) value 0 for
 * each channel whose pedal is down. It never gives All Notes Off (CC 123),
 * which would silence the other players' notes too.
 *
 * It also keeps each channel's controller state (bank select, program,
 * controllers, pitchwheel), and can give it as a snapshot for a late joiner.
 *
 * A note_on with velocity 0 is a note_off. control_change 120 (All Sounds
 * Off), 123 (All Notes Off) and 124 to 127 (the mode messages, which MIDI
 * 1.0 says also turn notes off) end a channel's notes, 121 (Reset All
 * Controllers) its pedal, pitchwheel and the controllers that MIDI's RP-015
 * resets, and a system reset (0xFF) all of it.
 *
 * @example Releasing what a player left sounding
 * ```ts
 * import { message, NoteTracker } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * const tracker = new NoteTracker();
 * tracker.track(message("note_on", { note: 60, velocity: 100 }));
 * tracker.track(message("note_on", { note: 64, velocity: 100 }));
 * tracker.track(message("note_off", { note: 60 }));
 * tracker.track(message("control_change", { control: 64, value: 127 }));
 * assert.equal(tracker.heldNotes, 1);
 * assert.deepEqual(tracker.release(), [
 *   message("note_off", { note: 64 }),
 *   message("control_change", { control: 64, value: 0 }),
 * ]);
 * assert.equal(tracker.heldNotes, 0);
 * ```
 */
export class NoteTracker {
  #channels: (Channel | undefined)[] = new Array(16);
  #held = 0;

  /** Notes held now, over every channel. */
  get heldNotes(): number {
    return this.#held;
  }

  /** Channels whose sustain pedal is down now. */
  get pedalsDown(): number {
    let n = 0;
    for (const ch of this.#channels) if (ch?.pedal) n++;
    return n;
  }

  /**
   * Takes a message into account. Any message may be given; those that
   * hold or end nothing change nothing.
   *
   * @param msg The message.
   */
  track(msg: Message): void {
    switch (msg.type) {
      case "note_on":
        if (msg.velocity === 0) this.#noteOff(msg.channel ?? 0, msg.note ?? 0);
        else this.#noteOn(msg.channel ?? 0, msg.note ?? 0);
        return;
      case "note_off":
        this.#noteOff(msg.channel ?? 0, msg.note ?? 0);
        return;
      case "control_change":
        this.#control(msg.channel ?? 0, msg.control ?? 0, msg.value ?? 0);
        return;
      case "program_change":
        this.#channel(msg.channel ?? 0).program = msg.program ?? 0;
        return;
      case "pitchwheel":
        this.#channel(msg.channel ?? 0).pitch = msg.pitch ?? 0;
        return;
      case "reset":
        this.#channels = new Array(16);
        this.#held = 0;
        return;
    }
  }

  /**
   * The messages that release what is held (a note_off for each held note,
   * in channel and note order, then control_change 64 value 0 for each
   * channel whose pedal is down), and forgets it: the tracker then holds
   * nothing. The controller state is kept.
   *
   * @returns The release messages; none if nothing is held.
   */
  release(): Message[] {
    const out: Message[] = [];
    for (let channel = 0; channel < 16; channel++) {
      const ch = this.#channels[channel];
      if (!ch || ch.held === 0) continue;
      for (let note = 0; note < 128; note++) {
        if (ch.notes[note]) out.push(message("note_off", { channel, note }));
      }
      ch.notes.fill(0);
      ch.held = 0;
    }
    for (let channel = 0; channel < 16; channel++) {
      const ch = this.#channels[channel];
      if (!ch?.pedal) continue;
      out.push(message("control_change", { channel, control: 64, value: 0 }));
      ch.pedal = false;
    }
    this.#held = 0;
    return out;
  }

  /**
   * The controller state of each channel that has any, as the messages
   * that set it: bank select (CC 0 and 32), then the program, then the
   * other controllers in number order, then the pitchwheel. It has no
   * notes, and no sustain pedal. A late joiner that plays it hears the bus
   * as it is.
   *
   * @returns The messages, channel by channel.
   *
   * @example A snapshot for a late joiner
   * ```ts
   * import { message, NoteTracker } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * const tracker = new NoteTracker();
   * tracker.track(message("program_change", { channel: 2, program: 40 }));
   * tracker.track(message("control_change", { channel: 2, control: 7, value: 90 }));
   * tracker.track(message("control_change", { channel: 2, control: 0, value: 1 }));
   * tracker.track(message("note_on", { channel: 2, note: 60 }));
   * assert.deepEqual(tracker.snapshot(), [
   *   message("control_change", { channel: 2, control: 0, value: 1 }),
   *   message("program_change", { channel: 2, program: 40 }),
   *   message("control_change", { channel: 2, control: 7, value: 90 }),
   * ]);
   * ```
   */
  snapshot(): Message[] {
    const out: Message[] = [];
    for (let channel = 0; channel < 16; channel++) {
      const ch = this.#channels[channel];
      if (!ch) continue;
      const cc = (control: number) => {
        const value = ch.controllers[control];
        if (value >= 0) {
          out.push(message("control_change", { channel, control, value }));
        }
      };
      cc(0);
      cc(32);
      if (ch.program >= 0) {
        out.push(message("program_change", { channel, program: ch.program }));
      }
      for (let control = 1; control < 120; control++) {
        if (control !== 32 && control !== 64) cc(control);
      }
      if (ch.pitch !== undefined) {
        out.push(message("pitchwheel", { channel, pitch: ch.pitch }));
      }
    }
    return out;
  }

  #channel(channel: number): Channel {
    return this.#channels[channel] ??= new Channel();
  }

  #noteOn(channel: number, note: number): void {
    const ch = this.#channel(channel);
    if (ch.notes[note]) return;
    ch.notes[note] = 1;
    ch.held++;
    this.#held++;
  }

  #noteOff(channel: number, note: number): void {
    const ch = this.#channels[channel];
    if (!ch?.notes[note]) return;
    ch.notes[note] = 0;
    ch.held--;
    this.#held--;
  }

  #endNotes(channel: number): void {
    const ch = this.#channels[channel];
    if (!ch) return;
    this.#held -= ch.held;
    ch.held = 0;
    ch.notes.fill(0);
  }

  #control(channel: number, control: number, value: number): void {
    if (control === 64) {
      this.#channel(channel).pedal = value >= 64;
    } else if (control === 120 || control >= 123) {
      this.#endNotes(channel);
    } else if (control === 121) {
      const ch = this.#channels[channel];
      if (ch) {
        // Reset All Controllers forgets the controllers that MIDI's
        // recommended practice RP-015 resets, and keeps bank select,
        // volume, pan, the sound and effects controllers and (N)RPN.
        for (let c = 1; c < 120; c++) {
          if (!KEPT_ON_RESET.has(c)) ch.controllers[c] = -1;
        }
        ch.pedal = false;
        ch.pitch = undefined;
      }
    } else if (control < 120) {
      this.#channel(channel).controllers[control] = value;
    }
  }
}
