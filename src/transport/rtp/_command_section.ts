// Copyright 2026 the midisock authors. MIT license.
// Private: the MIDI command section of an RTP-MIDI packet (RFC 6295 §3): the
// list of commands with their delta times, running status inside one packet,
// and sysex in segments across packets.

/** The number of data bytes after a status byte (not F0 or F7). */
function dataLength(status: number): number {
  switch (status & 0xf0) {
    case 0xc0:
    case 0xd0:
      return 1;
    case 0xf0:
      return status === 0xf2 ? 2 : status === 0xf1 || status === 0xf3 ? 1 : 0;
    default:
      return 2;
  }
}

/** Whether a status byte is undefined in MIDI 1.0 (F4, F5, F9, FD). */
function undefinedStatus(status: number): boolean {
  return status === 0xf4 || status === 0xf5 || status === 0xf9 ||
    status === 0xfd;
}

/** Two hex digits, as the error texts write a byte. */
function hex(byte: number): string {
  return `0x${byte.toString(16).padStart(2, "0")}`;
}

/**
 * Checks that `msg` holds the bytes of one complete MIDI message, and throws
 * a TypeError naming the message's index and the byte otherwise.
 */
export function checkMessage(msg: unknown, index: number): Uint8Array {
  const what = `Cannot send message ${index}`;
  if (!(msg instanceof Uint8Array)) {
    throw new TypeError(
      `${what}: expected a Uint8Array, got ${
        msg === null ? "null" : typeof msg
      }`,
    );
  }
  if (msg.length === 0) throw new TypeError(`${what}: it is empty`);
  const status = msg[0];
  if (status < 0x80) {
    throw new TypeError(
      `${what}: byte 0 is ${hex(status)}, not a status byte (0x80..0xff)`,
    );
  }
  if (status === 0xf0) {
    const last = msg.length - 1;
    if (msg.length < 2 || msg[last] !== 0xf7) {
      throw new TypeError(`${what}: a sysex must end with 0xf7`);
    }
    for (let i = 1; i < last; i++) {
      if (msg[i] > 0x7f) {
        throw new TypeError(
          `${what}: sysex byte ${i} is ${
            hex(msg[i])
          }, not a data byte (0..0x7f)`,
        );
      }
    }
    return msg;
  }
  if (status === 0xf7 || undefinedStatus(status)) {
    throw new TypeError(`${what}: ${hex(status)} begins no MIDI message`);
  }
  const length = 1 + dataLength(status);
  if (msg.length !== length) {
    throw new TypeError(
      `${what}: status ${hex(status)} takes ${length} bytes, got ${msg.length}`,
    );
  }
  for (let i = 1; i < length; i++) {
    if (msg[i] > 0x7f) {
      throw new TypeError(
        `${what}: byte ${i} is ${hex(msg[i])}, not a data byte (0..0x7f)`,
      );
    }
  }
  return msg;
}

/**
 * Writes one packet's MIDI list: a delta time of 0 before every command but
 * the first (Z = 0), and running status between channel commands.
 */
export class CommandListWriter {
  readonly bytes: Uint8Array;
  length = 0;
  /** Commands written (sysex segments included). */
  count = 0;
  /** The complete messages whose commands are in this list, in order. */
  readonly messages: Uint8Array[] = [];
  #running = 0;

  /**
   * A list of at most `capacity` bytes, written into `buffer` (which the
   * caller copies out of before it makes the next list on it).
   */
  constructor(buffer: Uint8Array, capacity: number) {
    this.bytes = buffer.subarray(0, capacity);
  }

  /** Bytes still free. */
  get room(): number {
    return this.bytes.length - this.length;
  }

  /** The bytes that `msg` (not a sysex) would take here. */
  cost(msg: Uint8Array): number {
    return (this.count > 0 ? 1 : 0) + msg.length -
      (msg[0] === this.#running ? 1 : 0);
  }

  /** Writes a message that is not a sysex; `cost(msg)` must fit. */
  add(msg: Uint8Array): void {
    this.#delta();
    const status = msg[0];
    let from = 0;
    if (status < 0xf0) {
      if (status === this.#running) from = 1;
      this.#running = status;
    } else {
      // Only right after the same status: some receivers do not keep
      // running status across a real-time command, which MIDI allows.
      this.#running = 0;
    }
    this.bytes.set(from === 0 ? msg : msg.subarray(1), this.length);
    this.length += msg.length - from;
    this.count++;
    this.messages.push(msg);
  }

  /**
   * Writes one sysex segment: `first` (F0 or F7), the data, and `last` (F7
   * for the end, F0 for "more to come"). It must fit: `room` at least the
   * data's length plus 2, plus 1 unless the list is empty.
   */
  addSegment(first: number, data: Uint8Array, last: number): void {
    this.#delta();
    this.bytes[this.length++] = first;
    this.bytes.set(data, this.length);
    this.length += data.length;
    this.bytes[this.length++] = last;
    this.count++;
    this.#running = 0;
  }

  /** The bytes a segment costs beyond its data (delta time, F0/F7, end). */
  get segmentOverhead(): number {
    return this.count > 0 ? 3 : 2;
  }

  #delta(): void {
    if (this.count > 0) this.bytes[this.length++] = 0;
  }
}

/**
 * Puts a sysex back together from its segments, across packets, and never
 * keeps more than `max` data bytes. What goes wrong is kept in `problem`
 * (the peer's fault) and `dropped` (a sysex given up: too long, or cut by a
 * loss), each the first since the caller last cleared it.
 */
export class SysexAssembler {
  #chunks: Uint8Array[] = [];
  #length = 0;
  #active = false;
  /** Inside a sysex that was dropped: skip its segments to its end. */
  #skipping = false;
  /** A loss may have eaten a sysex's start: its later segments are no error. */
  #afterLoss = false;
  problem: string | undefined;
  dropped: string | undefined;

  constructor(readonly max: number) {}

  /** Packets were lost: a sysex in progress is dropped. */
  lost(packets: number): void {
    if (this.#active) {
      this.dropped ??=
        `sysex of ${this.#length}+ bytes cut by ${packets} lost packet${
          packets === 1 ? "" : "s"
        }`;
    }
    this.#clear();
    this.#afterLoss = true;
  }

  /** Drops a sysex in progress (its packet was malformed). */
  drop(): void {
    this.#clear();
  }

  /**
   * One segment: `first` F0 or F7, `data` its data bytes, `last` F7, F0 or
   * F4. Returns the complete sysex when this segment ends one.
   */
  segment(
    first: number,
    data: Uint8Array,
    last: number,
    offset: number,
  ): Uint8Array | undefined {
    if (first === 0xf0) {
      if (this.#active) {
        this.problem ??=
          `sysex of ${this.#length} bytes cut by a new sysex at offset ${offset}`;
      }
      this.#clear();
      this.#afterLoss = false;
      this.#active = true;
    } else if (!this.#active) {
      // F7 ... : the rest of a sysex whose start this receiver did not keep.
      if (!this.#skipping && !this.#afterLoss) {
        this.problem ??= `sysex segment at offset ${offset} continues no sysex`;
      }
      if (last !== 0xf0) this.#skipping = this.#afterLoss = false;
      return undefined;
    }
    if (last === 0xf4) { // cancelled by the sender
      this.#clear();
      return undefined;
    }
    if (this.#length + data.length > this.max) {
      this.dropped ??= `sysex over maxSysex (${this.max} bytes) dropped at ${
        this.#length + data.length
      } bytes`;
      this.#clear();
      this.#skipping = last === 0xf0;
      return undefined;
    }
    if (data.length > 0) {
      this.#chunks.push(data.slice());
      this.#length += data.length;
    }
    if (last === 0xf0) return undefined;
    const out = new Uint8Array(this.#length + 2);
    out[0] = 0xf0;
    let at = 1;
    for (const chunk of this.#chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    out[at] = 0xf7;
    this.#clear();
    return out;
  }

  #clear(): void {
    this.#chunks = [];
    this.#length = 0;
    this.#active = false;
    this.#skipping = false;
  }
}

/**
 * Reads the MIDI list of one packet, `packet[start..end)`, pushing each
 * complete message onto `out` (system real-time bytes inside a sysex come
 * out on their own, where they were). `z` is the header's Z flag (the first
 * command has a delta time). Returns why the list is malformed, or
 * undefined; the messages before the fault are kept.
 */
export function readCommandList(
  packet: Uint8Array,
  start: number,
  end: number,
  z: boolean,
  out: Uint8Array[],
  sysex: SysexAssembler,
): string | undefined {
  let i = start;
  let running = 0;
  let first = true;
  let problem: string | undefined;
  while (i < end) {
    if (!first || z) {
      let n = 0;
      while (i < end && packet[i] > 0x7f) {
        if (++n === 4) return `delta time at offset ${i - 3} is over 4 bytes`;
        i++;
      }
      if (i >= end) return `delta time cut by the end of the list at ${end}`;
      i++; // the delta time's last byte
      if (i >= end) break; // a list may end with a delta time
    }
    first = false;
    const at = i;
    const b = packet[i];
    if (b === 0xf0 || b === 0xf7) {
      running = 0;
      let j = i + 1;
      const dataStart = j;
      let realtime: Uint8Array[] | undefined;
      let plain = true;
      while (j < end) {
        const c = packet[j];
        if (c < 0x80) {
          j++;
        } else if (c >= 0xf8 && !undefinedStatus(c)) {
          (realtime ??= []).push(packet.slice(j, j + 1));
          plain = false;
          j++;
        } else break;
      }
      if (realtime) out.push(...realtime);
      if (j >= end) {
        sysex.drop();
        return `sysex at offset ${at} has no end byte`;
      }
      const last = packet[j];
      if (last !== 0xf0 && last !== 0xf7 && last !== 0xf4) {
        sysex.drop();
        return `sysex at offset ${at} is cut by status ${
          hex(last)
        } at offset ${j}`;
      }
      let data = packet.subarray(dataStart, j);
      if (!plain) data = data.filter((x) => x < 0x80);
      const whole = sysex.segment(b, data, last, at);
      if (whole) out.push(whole);
      i = j + 1;
      continue;
    }
    let status: number;
    if (b < 0x80) {
      if (running === 0) {
        return `data byte ${hex(b)} with no status at offset ${at}`;
      }
      status = running;
    } else {
      status = b;
      i++;
      if (undefinedStatus(b)) {
        problem ??= `undefined status ${hex(b)} at offset ${at}`;
        continue;
      }
      if (b < 0xf0) running = b;
      else if (b < 0xf8) running = 0;
    }
    const n = dataLength(status);
    if (i + n > end) {
      return `command ${
        hex(status)
      } at offset ${at} is cut by the end of the list`;
    }
    const msg = new Uint8Array(1 + n);
    msg[0] = status;
    for (let k = 0; k < n; k++) {
      const d = packet[i + k];
      if (d > 0x7f) {
        return `command ${hex(status)} at offset ${at} is cut by ${
          hex(d)
        } at offset ${i + k}`;
      }
      msg[1 + k] = d;
    }
    i += n;
    out.push(msg);
  }
  return problem;
}
