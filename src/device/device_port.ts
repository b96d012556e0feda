// Copyright 2026 the midisock authors. MIT license.

import { DropTally } from "../port/drop_tally.ts";
import { DropEvent } from "../port/events.ts";
import { encode } from "../midi/encode.ts";
import type { Message } from "../midi/message.ts";
import { MidiPort } from "../port/midi_port.ts";
import { NoteTracker } from "../midi/note_tracker.ts";
import {
  MidiParser,
  type MidiParserOptions,
  type MidiParserStats,
} from "../midi/parser.ts";

/**
 * What a {@linkcode DevicePort} runs over: one MIDI port of the system (as
 * {@linkcode openInput} and {@linkcode openOutput} open it through RtMidi),
 * or anything that acts like one. An input has `listen`, an output has
 * `send`, and a device that has both is both.
 */
export interface MidiDevice {
  /** The port's name. */
  readonly name: string;
  /**
   * For an input: starts handing what arrives to `receive`, as bytes. A
   * call may hold one message, several, or a piece of one (RtMidi gives
   * one whole message a call); the port's parser puts them together.
   */
  listen?(receive: (bytes: Uint8Array) => void): void;
  /** For an output: sends the bytes of one whole message. */
  send?(bytes: Uint8Array): void;
  /** Closes the device; no more bytes arrive. */
  close(): void;
}

/** Options for {@linkcode DevicePort}. */
export interface DevicePortOptions extends MidiParserOptions {
  /**
   * On close, send an output's release messages first (see
   * {@linkcode DevicePort.release}), so that closing never leaves a note
   * sounding.
   *
   * @default {true}
   */
  releaseOnClose?: boolean;
  /**
   * The longest message that the device can send, in bytes. A longer one
   * is a RangeError, and is not sent. RtMidi built with JACK has a limit of
   * 16379 bytes, which {@linkcode openOutput} sets.
   *
   * @default {Infinity}
   */
  maxMessageBytes?: number;
  /**
   * How many bytes of received messages the port holds for its reader.
   * A device cannot be told to wait, so a message that arrives while the
   * port holds this much is dropped, and counted in
   * `stats.overflowedMessages` (with an `overflow` event).
   *
   * @default {1048576}
   */
  maxInboxBytes?: number;
}

/** Counters of a {@linkcode DevicePort}. */
export interface DevicePortStats extends MidiParserStats {
  /** Messages sent to the device. */
  sent: number;
  /** Messages that arrived while the inbox was full, and were dropped. */
  overflowedMessages: number;
  /** Notes held on the output now: what release() would end. */
  heldNotes: number;
}

/** The events of a {@linkcode DevicePort}. */
export interface DevicePortEventMap {
  /** Input bytes made no message (garbage, or a message cut short). */
  drop: DropEvent<DevicePort>;
  /**
   * A message arrived while the inbox was full, and was dropped: no one
   * read the port fast enough. `stats.overflowedMessages` counts them.
   */
  overflow: Event;
  /** The port is closed. */
  close: Event;
}

/**
 * A MIDI port of this machine, with the surface of every
 * {@linkcode MidiPort}: send, receive, poll, iteration, readable, writable,
 * reset, panic, close and `await using`. {@linkcode openInput} and
 * {@linkcode openOutput} open one; this class wraps any
 * {@linkcode MidiDevice}.
 *
 * What arrives goes through the same parser as the network's
 * ({@linkcode MidiParser}), so running status, real-time bytes and sysex
 * behave as they do on a socket, and what is sent is encoded by
 * {@linkcode encode}, one whole message to the device at a time.
 *
 * An output remembers what it has left sounding (with a
 * {@linkcode NoteTracker}): {@linkcode DevicePort.release} ends those notes,
 * and closing the port does it first.
 *
 * @example A device in memory, both input and output
 * ```ts
 * import { DevicePort, type MidiDevice } from "@x/midisock/device";
 * import { message } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * const played: number[][] = [];
 * const keys: { play?: (bytes: Uint8Array) => void } = {};
 * const device: MidiDevice = {
 *   name: "loopback",
 *   listen: (receive) => (keys.play = receive),
 *   send: (bytes) => played.push([...bytes]),
 *   close() {},
 * };
 * await using port = new DevicePort(device);
 * keys.play!(new Uint8Array([0x90, 60, 100, 64, 100])); // running status
 * assert.deepEqual(await port.receive(), message("note_on", { note: 60, velocity: 100 }));
 * assert.deepEqual(await port.receive(), message("note_on", { note: 64, velocity: 100 }));
 * await port.send(message("note_on", { note: 67, velocity: 90 }));
 * assert.deepEqual(played, [[0x90, 67, 90]]);
 * ```
 */
export class DevicePort extends MidiPort<DevicePortEventMap> {
  #device: MidiDevice;
  #parser: MidiParser | undefined;
  #drops: DropTally | undefined;
  #tracker = new NoteTracker();
  #releaseOnClose: boolean;
  #maxMessageBytes: number;
  #sent = 0;
  #overflowed = 0;

  /**
   * Makes a port of a device. {@linkcode openInput} and
   * {@linkcode openOutput} do this for the system's ports.
   *
   * @param device The device. The port owns it from now on, and starts
   * listening to it, if it is an input.
   * @param options Parser options, the inbox's size, and what close does.
   * @throws {TypeError} If the device is neither an input nor an output.
   * @throws {RangeError} For a bad option.
   *
   * @example An output in memory
   * ```ts
   * import { DevicePort } from "@x/midisock/device";
   * import { message } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * const sent: string[] = [];
   * await using synth = new DevicePort({
   *   name: "synth",
   *   send: (bytes) => sent.push([...bytes].join(" ")),
   *   close() {},
   * });
   * await synth.send(message("program_change", { program: 5 }));
   * assert.deepEqual(sent, ["192 5"]);
   * ```
   */
  constructor(device: MidiDevice, options: DevicePortOptions = {}) {
    const inboxBytes = options.maxInboxBytes ?? 1024 * 1024;
    if (!Number.isInteger(inboxBytes) || inboxBytes < 1) {
      throw new RangeError(
        `Invalid maxInboxBytes option: expected an integer >= 1, got ${inboxBytes}`,
      );
    }
    const max = options.maxMessageBytes ?? Number.POSITIVE_INFINITY;
    if (typeof max !== "number" || !(max >= 1)) {
      throw new RangeError(
        `Invalid maxMessageBytes option: expected a number >= 1, got ${max}`,
      );
    }
    if (!device.listen && !device.send) {
      throw new TypeError(
        `Cannot make a port of MIDI device ${
          JSON.stringify(device.name)
        }: it has neither listen() nor send()`,
      );
    }
    super("device port", inboxBytes);
    this.#device = device;
    this.#releaseOnClose = options.releaseOnClose ?? true;
    this.#maxMessageBytes = max;
    if (device.listen) {
      const parser = new MidiParser(options); // checks its options
      this.#parser = parser;
      this.#drops = new DropTally(parser);
      device.listen((bytes) => this.#receive(parser, bytes));
    }
  }

  /**
   * The device's name.
   *
   * @example The name of a port
   * ```ts
   * import { DevicePort } from "@x/midisock/device";
   * import assert from "node:assert/strict";
   *
   * await using port = new DevicePort({ name: "synth", send() {}, close() {} });
   * assert.equal(port.name, "synth");
   * ```
   */
  get name(): string {
    return this.#device.name;
  }

  /** Whether the port receives: the device is an input. */
  get isInput(): boolean {
    return this.#parser !== undefined;
  }

  /** Whether the port sends: the device is an output. */
  get isOutput(): boolean {
    return this.#device.send !== undefined;
  }

  /**
   * Counters: messages received and sent, bytes the parser skipped,
   * messages dropped because the inbox was full, and notes held.
   *
   * @example Counting what was sent
   * ```ts
   * import { DevicePort } from "@x/midisock/device";
   * import { message } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using port = new DevicePort({ name: "synth", send() {}, close() {} });
   * await port.send(message("note_on", { note: 60 }));
   * assert.equal(port.stats.sent, 1);
   * assert.equal(port.stats.heldNotes, 1);
   * ```
   */
  get stats(): DevicePortStats {
    const parsed = this.#parser?.stats ?? {
      messages: 0,
      skippedBytes: 0,
      discardedMessages: 0,
      oversizedSysex: 0,
    };
    return {
      ...parsed,
      sent: this.#sent,
      overflowedMessages: this.#overflowed,
      heldNotes: this.#tracker.heldNotes,
    };
  }

  /**
   * Ends what this output has left sounding: a note_off for each note that
   * it sent a note_on for and no note_off since, and control_change 64
   * (sustain) value 0 for each channel whose pedal it left down (see
   * {@linkcode NoteTracker}). It sends no All Notes Off, so other players
   * of the same synth keep their notes. Closing the port does this first
   * (unless `releaseOnClose` is false), and
   * {@linkcode releaseOnDisconnect} does it when a server goes away.
   *
   * @returns The messages that it sent; none on a closed port or an input.
   *
   * @example Releasing a held note
   * ```ts
   * import { DevicePort } from "@x/midisock/device";
   * import { message } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using synth = new DevicePort({ name: "synth", send() {}, close() {} });
   * await synth.send(message("note_on", { note: 60 }));
   * assert.deepEqual(await synth.release(), [message("note_off", { note: 60 })]);
   * assert.deepEqual(await synth.release(), []);
   * ```
   */
  release(): Promise<Message[]> {
    if (this.closed) return Promise.resolve([]);
    try {
      return Promise.resolve(this.#releaseNow());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  // Sends the release messages straight to the device (close() uses this,
  // once the port no longer takes send()).
  #releaseNow(): Message[] {
    const send = this.#device.send;
    if (!send) return [];
    const messages = this.#tracker.release();
    for (const msg of messages) {
      send.call(this.#device, encode(msg));
      this.#sent++;
    }
    return messages;
  }

  /**
   * Checks that the port can do what is asked: read an input, write an
   * output.
   *
   * @param reading Whether the use reads the port.
   */
  protected _start(reading: boolean): void {
    if (reading && !this.isInput) {
      throw new TypeError(
        `Cannot receive from MIDI device port ${
          JSON.stringify(this.name)
        }: it is an output`,
      );
    }
    if (!reading && !this.isOutput) {
      throw new TypeError(
        `Cannot send to MIDI device port ${
          JSON.stringify(this.name)
        }: it is an input`,
      );
    }
  }

  /**
   * Encodes a message (which checks it) and sends it to the device.
   *
   * @param msg The message.
   * @returns Nothing to wait for: the device takes it at once.
   */
  protected _put(msg: Message): undefined {
    const bytes = encode(msg);
    if (bytes.length > this.#maxMessageBytes) {
      throw new RangeError(
        `Cannot send ${msg.type} of ${bytes.length} bytes to MIDI device port ${
          JSON.stringify(this.name)
        }: it takes at most ${this.#maxMessageBytes} bytes a message`,
      );
    }
    this.#device.send!(bytes);
    this.#tracker.track(msg);
    this.#sent++;
    return undefined;
  }

  /**
   * Releases held notes (with `releaseOnClose`), then closes the device and
   * ends the inbox.
   *
   * @returns When it is closed.
   */
  protected _shutdown(): Promise<void> {
    try {
      if (this.#releaseOnClose) this.#releaseNow();
    } finally {
      this.#device.close();
      if (this.#parser) {
        this.#parser.end();
        this.#reportDrops();
      }
      this._inbox.end();
      this.dispatchEvent(new Event("close"));
    }
    return Promise.resolve();
  }

  #receive(parser: MidiParser, bytes: Uint8Array): void {
    if (this.closed) return;
    const inbox = this._inbox;
    const time = performance.now(); // when RtMidi handed the bytes over
    for (const msg of parser.feed(bytes)) {
      if (inbox.weight >= inbox.highWaterMark) {
        this.#overflowed++;
        this.dispatchEvent(new Event("overflow"));
      } else {
        inbox.push(msg, this, time);
      }
    }
    this.#reportDrops();
  }

  // Fires a drop event for what the parser dropped since the last one.
  #reportDrops(): void {
    const counts = this.#drops?.take();
    if (counts) {
      this.dispatchEvent(
        new DropEvent("drop", { port: this as DevicePort, ...counts }),
      );
    }
  }
}
