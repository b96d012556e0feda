// Copyright 2026 the midisock authors. MIT license.
// What serve, monitor, send and connect print: messages and event lines.

import type { FilterEvent, RejectEvent, ReleaseEvent } from "../bus/events.ts";
import type { ReconnectingPort } from "../client/reconnecting_port.ts";
import type { Message } from "../midi/message.ts";
import { FIELD_TO_TEXT, FIELDS, TYPES } from "../midi/specs.ts";
import { formatMessage } from "../midi/text.ts";
import type { DropEvent } from "../port/events.ts";
import type { SocketPort } from "../port/socket_port.ts";
import { addressName } from "../transport/address.ts";
import { oneLine } from "../util/error_text.ts";
import type { Lines } from "./lines.ts";

/** Prints messages and events, as text or as JSON lines. */
export class Printer {
  #out: Lines;
  #json: boolean;
  #quiet: boolean;
  #printed = 0; // messages printed so far
  #held: { at: number; line: () => void }[] = [];

  constructor(out: Lines, json: boolean, quiet = false) {
    this.#out = out;
    this.#json = json;
    this.#quiet = quiet;
  }

  message(sender: string, msg: Message): Promise<void> {
    this.#printed++;
    // Event lines held back until the messages before them are printed.
    while (this.#held.length && this.#held[0].at < this.#printed) {
      this.#held.shift()!.line();
    }
    if (this.#quiet) return Promise.resolve();
    if (!this.#json) {
      return this.#out.write(`${sender} ${formatMessage(msg)}`);
    }
    // mido's msg.dict(), in its order (type, time, then the fields, with
    // their snake_case names and defaults), after the sender.
    const m = msg as unknown as Record<string, unknown>;
    const dict: Record<string, unknown> = {
      sender,
      type: msg.type,
      time: msg.time ?? 0,
    };
    for (const name of TYPES[msg.type].fields) {
      dict[FIELD_TO_TEXT[name]] = name === "data"
        ? Array.from((m.data ?? []) as ArrayLike<number>)
        : m[name] ?? FIELDS[name].default;
    }
    return this.#out.write(JSON.stringify(dict));
  }

  event(event: string, port: string, droppedBytes?: number): Promise<void> {
    const extra = droppedBytes === undefined ? "" : ` dropped=${droppedBytes}`;
    return this.#event(
      droppedBytes === undefined
        ? { event, port }
        : { event, port, droppedBytes },
      `# ${event} ${port}${extra}`,
    );
  }

  /** Prints a port's drop events, as drop() does. */
  drops(
    port: {
      addEventListener(
        type: "drop",
        listener: (event: DropEvent) => void,
      ): void;
    },
  ): void {
    port.addEventListener("drop", (event) => this.drop(event));
  }

  /** Bytes from a port that made no message, with the counts. */
  drop(event: DropEvent<{ readonly name: string }>): Promise<void> {
    const { skippedBytes, discardedMessages, oversizedSysex } = event;
    const port = event.port.name;
    return this.#event(
      { event: "drop", port, skippedBytes, discardedMessages, oversizedSysex },
      `# drop ${port} skipped=${skippedBytes} discarded=${discardedMessages} oversized=${oversizedSysex}`,
    );
  }

  /** Messages that a client sent and the server read but never delivered. */
  lost(port: string, messages: number): Promise<void> {
    return this.#event(
      { event: "lost", port, messages },
      `# lost ${messages} message${messages === 1 ? "" : "s"} from ${port}`,
    );
  }

  /** A client that said hello, and so has a name. */
  hello(port: SocketPort): Promise<void> {
    const address = addressName(port.remoteAddr) ?? port.name;
    return this.#event(
      { event: "hello", address, port: port.name },
      `# hello ${address} ${port.name}`,
    );
  }

  /** Notes that the server released for a client that left them on. */
  release(event: ReleaseEvent): Promise<void> {
    const { notes, pedals } = event;
    const port = event.port.name;
    const also = pedals ? ` and ${pedals} pedal${pedals === 1 ? "" : "s"}` : "";
    return this.#event(
      { event: "release", port, notes, pedals },
      `# released ${notes} note${notes === 1 ? "" : "s"}${also} for ${port}`,
    );
  }

  /**
   * Prints a reconnecting port's # disconnect, # reconnecting and
   * # reconnected lines, and (with `closing`) its # disconnect line when it
   * closes. With `ordered` (when this printer prints the port's messages),
   * each line comes after the messages that the port had received (and
   * released) before it, as serve's lines do.
   */
  watch(port: ReconnectingPort, closing = true, ordered = false): void {
    const name = port.name;
    let down = false;
    const event = (json: Record<string, unknown>, text: string) => {
      const { received, releasedNotes, releasedPedals } = port.stats;
      const at = received + releasedNotes + releasedPedals;
      const line = () => this.#event(json, text);
      if (ordered && (at > this.#printed || this.#held.length)) {
        this.#held.push({ at, line });
      } else line();
    };
    const disconnect = (error?: Error) => {
      down = true;
      const why = error ? oneLine(error) : undefined;
      event(
        why === undefined
          ? { event: "disconnect", port: name }
          : { event: "disconnect", port: name, error: why },
        `# disconnect ${name}${why === undefined ? "" : ` ${why}`}`,
      );
    };
    port.addEventListener("disconnect", (event) => disconnect(event.error));
    port.addEventListener("reconnecting", ({ attempt, delay }) => {
      const ms = Math.round(delay);
      event(
        { event: "reconnecting", port: name, attempt, delay: ms },
        `# reconnecting ${name} attempt=${attempt} delay=${ms}ms`,
      );
    });
    port.addEventListener("reconnect", ({ attempt, downtime }) => {
      down = false;
      const ms = Math.round(downtime);
      event(
        { event: "reconnected", port: name, attempts: attempt, downtime: ms },
        `# reconnected ${name} attempts=${attempt} downtime=${ms}ms`,
      );
    });
    port.addEventListener("close", () => {
      if (closing && !down) disconnect();
    });
  }

  /** Prints the event lines still held back (see watch()). */
  flush(): void {
    for (const { line } of this.#held.splice(0)) line();
  }

  /** A client turned away. */
  reject(event: RejectEvent): Promise<void> {
    const { address, reason } = event;
    return this.#event(
      { event: "reject", address, reason },
      `# reject ${address} ${reason}`,
    );
  }

  /** A client's message that was not delivered. */
  filtered(event: FilterEvent): Promise<void> {
    const { port, message, reason } = event;
    return this.#event(
      { event: "filtered", port: port.name, type: message.type, reason },
      `# filtered ${port.name} ${message.type} ${reason}`,
    );
  }

  /** A message that a MIDI output could not play. */
  outputError(port: string, type: string, error: unknown): Promise<void> {
    const text = oneLine(error);
    return this.#event(
      { event: "outputerror", port, type, error: text },
      `# outputerror ${port} ${type} ${text}`,
    );
  }

  /** Messages played into a port while it was disconnected. */
  dropped(port: string, messages: number): Promise<void> {
    return this.#event(
      { event: "dropped", port, messages },
      `# dropped ${port} messages=${messages}`,
    );
  }

  /** Messages that a MIDI input dropped: the total so far. */
  overflow(port: string, dropped: number): Promise<void> {
    return this.#event(
      { event: "overflow", port, dropped },
      `# overflow ${port} dropped=${dropped}`,
    );
  }

  /** A connection that failed before it was accepted. */
  acceptError(error: unknown): Promise<void> {
    const text = oneLine(error);
    return this.#event(
      { event: "accepterror", error: text },
      `# accepterror ${text}`,
    );
  }

  /** An event line of another module's (see nats.ts). */
  line(json: Record<string, unknown>, text: string): Promise<void> {
    return this.#event(json, text);
  }

  // An event line: JSON with --json, the # line otherwise, none with --quiet.
  #event(json: Record<string, unknown>, text: string): Promise<void> {
    if (this.#quiet) return Promise.resolve();
    return this.#out.write(this.#json ? JSON.stringify(json) : text);
  }
}
