// Copyright 2026 the midisock authors. MIT license.
// The page's own synth, with the Web Audio API: it sounds what the page's
// keys play and what the bus plays, so that a page makes sound with no MIDI
// device (most phones, and Safari, have no Web MIDI).

/// <reference lib="dom" />

import type { Message } from "../src/midi/message.ts";

/** Options for {@linkcode Synth}. */
export interface SynthOptions {
  /**
   * Seconds from a note_on to the note's peak.
   *
   * @default {0.005}
   */
  attack?: number;
  /**
   * Seconds from the peak to the sustain level, to within 1%.
   *
   * @default {0.3}
   */
  decay?: number;
  /**
   * The level that a held note keeps, as a part of its peak, 0 to 1.
   *
   * @default {0.5}
   */
  sustain?: number;
  /**
   * Seconds from a note's release to silence (80 dB down, where it stops).
   *
   * @default {0.5}
   */
  release?: number;
  /**
   * Notes that may sound at once: a note over it cuts the oldest short.
   *
   * @default {32}
   */
  polyphony?: number;
  /**
   * Called when the AudioContext's state changes: `"running"` once sound
   * can be heard.
   *
   * @default {undefined}
   */
  onstatechange?: (state: AudioContextState) => void;
}

/** One sounding note: an oscillator, its filter and its envelope. */
interface Voice {
  from: string;
  channel: number;
  note: number;
  oscillator: OscillatorNode;
  envelope: GainNode;
  /** Whether its key is down (a pedal may hold a note whose key is up). */
  down: boolean;
}

/** A short fade, in seconds, for a note cut short: no click. */
const CUT = 0.02;
/** The peak of a note of velocity 127, before the volume. */
const PEAK = 0.35;
/** How far the pitchwheel bends, in cents, either way. */
const BEND_RANGE = 200;

/** Where a voice is kept: who plays it, on which channel, which note. */
function voiceKey(from: string, channel: number, note: number): string {
  return `${channel} ${note} ${from}`;
}

/** A channel of one player, for its pedal and its pitchwheel. */
function channelKey(from: string, channel: number): string {
  return `${channel} ${from}`;
}

/**
 * A small polyphonic synth that plays MIDI messages, for the page.
 *
 * - Each note is an oscillator through a low-pass filter and an envelope
 *   (attack, decay, sustain, release). Its velocity sets how loud and how
 *   bright it is; a note_on of velocity 0 is a note_off.
 * - The sustain pedal (control_change 64) holds the notes whose keys are
 *   up until it is lifted; the pitchwheel bends a channel by up to two
 *   semitones; All Sound Off (120) cuts a channel's notes, All Notes Off
 *   (123 to 127) releases them, and Reset All Controllers (121) lifts the
 *   pedal and centres the pitchwheel.
 * - Each message comes `from` a player: a note_off ends that player's note
 *   and no other's, and so does a pedal.
 * - Browsers let a page make sound only after a user gesture: call
 *   {@linkcode Synth.start} from one (a click, a key, a tap). Until then
 *   the synth has no AudioContext and plays nothing.
 *
 * The voices are mixed, softly clipped (so that a chord cannot distort
 * harshly), and go through the volume to the destination.
 */
export class Synth {
  readonly #attack: number;
  readonly #decay: number;
  readonly #sustain: number;
  readonly #release: number;
  readonly #polyphony: number;
  readonly #onstatechange: ((state: AudioContextState) => void) | undefined;
  #context: AudioContext | undefined;
  #mix: GainNode | undefined;
  #master: GainNode | undefined;
  #wave: PeriodicWave | undefined;
  /** The notes that are held (by a key or a pedal), oldest first. */
  #voices = new Map<string, Voice>();
  /** The notes that are fading out after their release. */
  #fading = new Set<Voice>();
  #pedals = new Set<string>();
  #bends = new Map<string, number>();
  #volume = 0.8;
  #muted = false;

  /**
   * Makes a synth; it has no AudioContext until {@linkcode Synth.start}.
   *
   * @param options The envelope, the polyphony and a state callback.
   */
  constructor(options: SynthOptions = {}) {
    this.#attack = options.attack ?? 0.005;
    this.#decay = options.decay ?? 0.3;
    this.#sustain = options.sustain ?? 0.5;
    this.#release = options.release ?? 0.5;
    this.#polyphony = options.polyphony ?? 32;
    this.#onstatechange = options.onstatechange;
  }

  /** The AudioContext's state, or `undefined` before the first start. */
  get state(): AudioContextState | undefined {
    return this.#context?.state;
  }

  /** Notes that sound now: held, or fading out. */
  get sounding(): number {
    return this.#voices.size + this.#fading.size;
  }

  /** The volume, 0 to 1, on a square-law curve. @default {0.8} */
  get volume(): number {
    return this.#volume;
  }

  set volume(value: number) {
    this.#volume = Math.min(1, Math.max(0, value));
    this.#setGain();
  }

  /** Whether the synth is muted: its notes go on, unheard. @default {false} */
  get muted(): boolean {
    return this.#muted;
  }

  set muted(value: boolean) {
    this.#muted = value;
    this.#setGain();
  }

  /**
   * Makes the AudioContext, or resumes it: call it from a user gesture,
   * which is when browsers let a page start sound.
   */
  start(): void {
    if (this.#context === undefined) {
      if (typeof AudioContext === "undefined") return;
      const context = new AudioContext({ latencyHint: "interactive" });
      this.#context = context;
      // Real partials, falling off: a soft, round tone.
      this.#wave = context.createPeriodicWave(
        new Float32Array([0, 0, 0, 0, 0, 0, 0, 0]),
        new Float32Array([0, 1, 0.45, 0.25, 0.12, 0.08, 0.04, 0.02]),
      );
      // A tanh curve over -3..3, which the mix feeds at a third of its
      // level: unity for quiet sound, round for loud sound. Its length is
      // odd, so silence stays exactly 0.
      const curve = new Float32Array(1025);
      for (let i = 0; i < curve.length; i++) {
        curve[i] = Math.tanh(3 * (i - 512) / 512);
      }
      this.#mix = new GainNode(context, { gain: 1 / 3 });
      this.#master = new GainNode(context, { gain: this.#gain() });
      this.#mix.connect(new WaveShaperNode(context, { curve }))
        .connect(this.#master).connect(context.destination);
      context.addEventListener(
        "statechange",
        () => this.#onstatechange?.(context.state),
      );
      this.#onstatechange?.(context.state);
    }
    if (this.#context.state !== "running") {
      this.#context.resume().catch(() => {});
    }
  }

  /**
   * Plays a message: notes, the sustain pedal, the pitchwheel, the channel
   * mode messages, and a system reset. Others change nothing.
   *
   * @param msg The message.
   * @param from Who plays it: a note_off or a pedal acts on the notes of
   *   the same `from` only.
   */
  play(msg: Message, from: string): void {
    if (this.#context === undefined) return;
    switch (msg.type) {
      case "note_on":
        if (msg.velocity > 0) {
          this.#noteOn(from, msg.channel, msg.note, msg.velocity);
        } else this.#noteOff(from, msg.channel, msg.note);
        return;
      case "note_off":
        return this.#noteOff(from, msg.channel, msg.note);
      case "pitchwheel":
        return this.#bend(from, msg.channel, msg.pitch);
      case "control_change":
        return this.#control(from, msg.channel, msg.control, msg.value);
      case "reset":
        return this.release((who) => who === from);
    }
  }

  /**
   * Releases the notes of the players that `which` picks (all, with no
   * `which`), as a note_off would with no pedal, and lifts their pedals and
   * centres their pitchwheels.
   *
   * @param which Picks a player by its `from`.
   */
  release(which: (from: string) => boolean = () => true): void {
    for (const voice of [...this.#voices.values()]) {
      if (which(voice.from)) this.#fade(voice, this.#release);
    }
    for (const key of [...this.#pedals]) {
      if (which(key.slice(key.indexOf(" ") + 1))) this.#pedals.delete(key);
    }
    for (const key of [...this.#bends.keys()]) {
      if (which(key.slice(key.indexOf(" ") + 1))) this.#bends.delete(key);
    }
  }

  #gain(): number {
    return this.#muted ? 0 : this.#volume ** 2;
  }

  #setGain(): void {
    const context = this.#context;
    const gain = this.#master?.gain;
    if (!context || !gain) return;
    const now = context.currentTime;
    holdAt(gain, now);
    gain.linearRampToValueAtTime(this.#gain(), now + CUT);
  }

  #noteOn(from: string, channel: number, note: number, velocity: number) {
    const context = this.#context!;
    const key = voiceKey(from, channel, note);
    const again = this.#voices.get(key);
    if (again) this.#fade(again, CUT);
    if (this.sounding >= this.#polyphony) {
      // A paused context ends no note: it takes no more than it holds.
      if (context.state !== "running") return;
      // The oldest fading note goes first, then the oldest held one.
      const oldest = this.#fading.values().next().value ??
        this.#voices.values().next().value;
      if (oldest) this.#fade(oldest, CUT, true);
    }
    const now = context.currentTime;
    const strength = velocity / 127;
    const frequency = 440 * 2 ** ((note - 69) / 12);
    const oscillator = new OscillatorNode(context, {
      frequency,
      detune: this.#bends.get(channelKey(from, channel)) ?? 0,
    });
    oscillator.setPeriodicWave(this.#wave!);
    // Harder is brighter.
    const filter = new BiquadFilterNode(context, {
      type: "lowpass",
      frequency: Math.min(18000, frequency * (2 + 10 * strength)),
      Q: 0.7,
    });
    const envelope = new GainNode(context, { gain: 0 });
    // Square law, from 39 dB down at velocity 1 to the peak at 127.
    const peak = PEAK * (0.1 + 0.9 * strength) ** 2;
    envelope.gain.setValueAtTime(0, now);
    envelope.gain.linearRampToValueAtTime(peak, now + this.#attack);
    envelope.gain.setTargetAtTime(
      peak * this.#sustain,
      now + this.#attack,
      this.#decay / Math.log(100),
    );
    oscillator.connect(filter).connect(envelope).connect(this.#mix!);
    const voice: Voice = {
      from,
      channel,
      note,
      oscillator,
      envelope,
      down: true,
    };
    oscillator.addEventListener("ended", () => {
      this.#fading.delete(voice);
      oscillator.disconnect();
      filter.disconnect();
      envelope.disconnect();
    });
    oscillator.start(now);
    this.#voices.set(key, voice);
  }

  #noteOff(from: string, channel: number, note: number): void {
    const voice = this.#voices.get(voiceKey(from, channel, note));
    if (!voice) return;
    if (this.#pedals.has(channelKey(from, channel))) voice.down = false;
    else this.#fade(voice, this.#release);
  }

  #control(from: string, channel: number, control: number, value: number) {
    const key = channelKey(from, channel);
    const mine = (voice: Voice) =>
      voice.from === from && voice.channel === channel;
    if (control === 64) {
      if (value >= 64) {
        this.#pedals.add(key);
        return;
      }
      this.#pedals.delete(key);
      for (const voice of [...this.#voices.values()]) {
        if (mine(voice) && !voice.down) this.#fade(voice, this.#release);
      }
    } else if (control === 120) {
      for (const voice of [...this.#voices.values(), ...this.#fading]) {
        if (mine(voice)) this.#fade(voice, CUT, true);
      }
    } else if (control === 121) {
      this.#control(from, channel, 64, 0);
      this.#bend(from, channel, 0);
    } else if (control >= 123) {
      for (const voice of [...this.#voices.values()]) {
        if (mine(voice)) this.#noteOff(from, channel, voice.note);
      }
    }
  }

  #bend(from: string, channel: number, pitch: number): void {
    const cents = (pitch / 8192) * BEND_RANGE;
    const key = channelKey(from, channel);
    if (cents === 0) this.#bends.delete(key);
    else this.#bends.set(key, cents);
    const now = this.#context!.currentTime;
    for (const voice of [...this.#voices.values(), ...this.#fading]) {
      if (voice.from === from && voice.channel === channel) {
        voice.oscillator.detune.setTargetAtTime(cents, now, 0.005);
      }
    }
  }

  // Lets a note go: it fades to silence over `seconds`, then stops. A note
  // that is fading already fades no slower, unless `cut`.
  #fade(voice: Voice, seconds: number, cut = false): void {
    const context = this.#context!;
    const key = voiceKey(voice.from, voice.channel, voice.note);
    if (this.#voices.get(key) === voice) this.#voices.delete(key);
    else if (this.#fading.has(voice) && !cut) return;
    this.#fading.add(voice);
    const now = context.currentTime;
    const gain = voice.envelope.gain;
    holdAt(gain, now);
    // 80 dB down at the end: ln(10^4) time constants.
    gain.setTargetAtTime(0, now, seconds / Math.log(1e4));
    try {
      voice.oscillator.stop(now + seconds);
    } catch {
      // Stopped already.
    }
  }
}

/** Cancels what is scheduled for `param` after `time`, holding its value. */
function holdAt(param: AudioParam, time: number): void {
  if (typeof param.cancelAndHoldAtTime === "function") {
    param.cancelAndHoldAtTime(time);
  } else {
    const value = param.value;
    param.cancelScheduledValues(time);
    param.setValueAtTime(value, time);
  }
}
