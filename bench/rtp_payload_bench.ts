// Copyright 2026 the midisock authors. MIT license.
/**
 * The RTP-MIDI payload's journal overhead: the bytes per packet with a
 * recovery journal, against the same packets with none and against the MIDI
 * bytes alone, for two seeded streams (a pianist on one channel, with the
 * sustain pedal; a 16-channel song), with RS feedback every second and with
 * none. Then the time to make and read a packet, beside the codec's
 * encodeAll() and decode() of the same messages (the TCP path's work).
 *
 * ```sh
 * deno run bench/rtp_payload_bench.ts
 * ```
 *
 * @module
 */

import { decode, type Message, message } from "../mod.ts";
import { encodeAll } from "../src/midi/encode_into.ts";
import {
  RtpMidiReceiver,
  RtpMidiSender,
} from "../src/transport/rtp/rtp_midi.ts";
import { Random } from "../tests/_random.ts";

const TURNS = 20_000; // 10 ms apart: 200 s of playing
const TICKS_PER_TURN = 100; // AppleMIDI's 10 kHz clock
const RS_EVERY = 100; // turns: one RS a second

/** A pianist: one channel, notes held a while, the pedal down and up. */
function pianist(rng: Random): Message[][] {
  const held: number[] = [];
  let pedal = false;
  const turns: Message[][] = [];
  for (let t = 0; t < TURNS; t++) {
    const turn: Message[] = [];
    if (held.length < 10 && rng.chance(0.5)) {
      const note = rng.int(36, 96);
      if (!held.includes(note)) {
        held.push(note);
        turn.push(message("note_on", { note, velocity: rng.int(30, 120) }));
      }
    }
    if (held.length > 0 && rng.chance(0.45)) {
      const note = held.splice(rng.int(0, held.length - 1), 1)[0];
      turn.push(message("note_off", { note }));
    }
    if (rng.chance(0.02)) {
      pedal = !pedal;
      turn.push(
        message("control_change", { control: 64, value: pedal ? 127 : 0 }),
      );
    }
    if (turn.length === 0) turn.push(message("clock"));
    turns.push(turn);
  }
  return turns;
}

/** A song: 16 channels, notes, controllers, programs and pitch bends. */
function song(rng: Random): Message[][] {
  const held = new Set<string>();
  const turns: Message[][] = [];
  for (let t = 0; t < TURNS; t++) {
    const turn: Message[] = [];
    for (let k = rng.int(1, 6); k > 0; k--) {
      const channel = rng.int(0, 15);
      const roll = rng.next();
      if (roll < 0.45) {
        const note = rng.int(30, 100);
        held.add(`${channel}:${note}`);
        turn.push(
          message("note_on", { channel, note, velocity: rng.int(1, 127) }),
        );
      } else if (roll < 0.85 && held.size > 0) {
        const key = [...held][rng.int(0, held.size - 1)];
        held.delete(key);
        const [ch, note] = key.split(":").map(Number);
        turn.push(message("note_off", { channel: ch, note }));
      } else if (roll < 0.95) {
        const control = rng.pick([1, 7, 10, 11, 64, 91]);
        turn.push(
          message("control_change", {
            channel,
            control,
            value: rng.int(0, 127),
          }),
        );
      } else if (roll < 0.98) {
        turn.push(
          message("pitchwheel", { channel, pitch: rng.int(-8192, 8191) }),
        );
      } else {
        turn.push(
          message("program_change", { channel, program: rng.int(0, 127) }),
        );
      }
    }
    turns.push(turn);
  }
  return turns;
}

interface Sizes {
  midi: number;
  packets: number;
  bytes: number;
  journal: number[];
}

function run(turns: Uint8Array[][], journal: boolean, rs: boolean): Sizes {
  const sender = new RtpMidiSender({ ssrc: 1, seq: 0, journal });
  const receiver = new RtpMidiReceiver();
  const sizes: Sizes = { midi: 0, packets: 0, bytes: 0, journal: [] };
  let journalSoFar = 0;
  turns.forEach((turn, t) => {
    for (const packet of sender.packets(turn, t * TICKS_PER_TURN)) {
      receiver.receive(packet);
      sizes.packets++;
      sizes.bytes += packet.length;
    }
    const stats = sender.stats;
    sizes.journal.push(stats.journalBytes - journalSoFar);
    journalSoFar = stats.journalBytes;
    for (const msg of turn) sizes.midi += msg.length;
    if (rs && t % RS_EVERY === RS_EVERY - 1) {
      sender.acknowledge(receiver.lastSeq!);
    }
  });
  return sizes;
}

function percentile(values: number[], p: number): number {
  const sorted = values.slice().sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

const f1 = (x: number) => x.toFixed(1);
const rng = new Random(0x5eed_1234);
console.log(
  `${TURNS} turns, 10 ms apart, one packet a turn; bytes per packet (mean), journal bytes p50 / p99 / max`,
);
for (const [name, make] of [["pianist", pianist], ["song", song]] as const) {
  const messages = make(rng);
  const turns = messages.map((turn) => turn.map((m) => encodeAll([m])));
  const none = run(turns, false, false);
  const mean = (s: Sizes) => s.bytes / s.packets;
  console.log(
    `${name}: MIDI alone ${
      f1(none.midi / none.packets)
    } B/packet; packet with no journal ${f1(mean(none))} B (the raw figure)`,
  );
  for (const rs of [true, false]) {
    const withJournal = run(turns, true, rs);
    const j = withJournal.journal;
    console.log(
      `  journal, ${rs ? "RS every 1 s" : "no RS     "}: ${
        f1(mean(withJournal))
      } B/packet (${
        (mean(withJournal) / mean(none)).toFixed(2)
      }x the raw), journal ${percentile(j, 0.5)} / ${percentile(j, 0.99)} / ${
        Math.max(...j)
      } B`,
    );
  }
}

// Time: make and read every packet, beside encodeAll + decode of the same.
for (const [name, make] of [["pianist", pianist], ["song", song]] as const) {
  const turns = make(new Random(7));
  const bytes = turns.map((turn) => turn.map((m) => encodeAll([m])));
  const rounds = 5;
  let rtp = Infinity, raw = Infinity;
  for (let r = 0; r < rounds; r++) {
    let t0 = performance.now();
    const sender = new RtpMidiSender({ ssrc: 1, seq: 0 });
    const receiver = new RtpMidiReceiver();
    bytes.forEach((turn, t) => {
      for (const p of sender.packets(turn, t * TICKS_PER_TURN)) {
        receiver.receive(p);
      }
      if (t % RS_EVERY === RS_EVERY - 1) sender.acknowledge(receiver.lastSeq!);
    });
    rtp = Math.min(rtp, performance.now() - t0);
    t0 = performance.now();
    for (const turn of turns) decode(encodeAll(turn));
    raw = Math.min(raw, performance.now() - t0);
  }
  const per = (ms: number) => ((ms * 1000) / TURNS).toFixed(2);
  console.log(
    `${name}: time per packet (best of ${rounds}): RTP-MIDI send + receive, journal and RS ${
      per(rtp)
    } µs; the codec's encodeAll + decode of the same turn ${
      per(raw)
    } µs (the raw figure); ${(rtp / raw).toFixed(1)}x`,
  );
}
