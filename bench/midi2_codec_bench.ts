// Copyright 2026 the midisock authors. MIT license.
/**
 * Network MIDI 2.0 codec benchmarks: UMP <-> MIDI 1.0 translation and the
 * datagram codec, beside the MIDI 1.0 parser that the bus runs on the same
 * notes (the figure each one adds to). Run:
 * deno bench bench/midi2_codec_bench.ts
 *
 * Each iteration handles a batch of 1,000 notes (or 1,000 datagrams), so
 * time/iter divided by 1,000 is the cost of one.
 *
 * @module
 */

import { encode, message, MidiParser } from "../mod.ts";
import { Midi1ToUmp, UmpToMidi1 } from "../src/midi/ump.ts";
import {
  decodeDatagram,
  encodeDatagram,
  type Midi2Command,
} from "../src/transport/midi2/_packets.ts";

const N = 1000;
const notes = Array.from(
  { length: N },
  (_, i) =>
    encode(
      message("note_on", {
        channel: i & 15,
        note: i & 127,
        velocity: 1 + (i % 127),
      }),
    ),
);
const noteBytes = new Uint8Array(N * 3);
notes.forEach((note, i) => noteBytes.set(note, i * 3));

const midi1Words = notes.flatMap((note) => new Midi1ToUmp().push(note));
const midi2Words = notes.flatMap((note) =>
  new Midi1ToUmp({ protocol: 2 }).push(note)
);

// A datagram as a sender with FEC N = 2 sends it: the new UMP Data command
// and the two before it.
const datagrams = Array.from({ length: N }, (_, i) => {
  const commands: Midi2Command[] = [0, 1, 2].map((back) => ({
    type: "ump_data",
    sequence: (i + back) & 0xffff,
    words: [
      midi2Words[2 * ((i + back) % N)],
      midi2Words[2 * ((i + back) % N) + 1],
    ],
  }));
  return commands;
});
const encoded = datagrams.map(encodeDatagram);

Deno.bench("raw: MidiParser.feed, 1,000 notes of MIDI 1.0 bytes", {
  group: "in",
  baseline: true,
}, () => {
  new MidiParser().feed(noteBytes);
});

Deno.bench("UmpToMidi1.push, 1,000 MT 0x2 notes", { group: "in" }, () => {
  new UmpToMidi1().push(midi1Words);
});

Deno.bench("UmpToMidi1.push, 1,000 MT 0x4 notes (scaled down)", {
  group: "in",
}, () => {
  new UmpToMidi1().push(midi2Words);
});

Deno.bench("decodeDatagram, 1,000 datagrams of 3 UMP Data (FEC 2)", {
  group: "in",
}, () => {
  for (const bytes of encoded) decodeDatagram(bytes);
});

Deno.bench("raw: encode, 1,000 notes to MIDI 1.0 bytes", {
  group: "out",
  baseline: true,
}, () => {
  for (let i = 0; i < N; i++) {
    encode(message("note_on", { note: i & 127, velocity: 64 }));
  }
});

Deno.bench("Midi1ToUmp.push, 1,000 notes as MT 0x2", { group: "out" }, () => {
  const toUmp = new Midi1ToUmp();
  for (const note of notes) toUmp.push(note);
});

Deno.bench("Midi1ToUmp.push, 1,000 notes as MT 0x4 (scaled up)", {
  group: "out",
}, () => {
  const toUmp = new Midi1ToUmp({ protocol: 2 });
  for (const note of notes) toUmp.push(note);
});

Deno.bench("encodeDatagram, 1,000 datagrams of 3 UMP Data (FEC 2)", {
  group: "out",
}, () => {
  for (const commands of datagrams) encodeDatagram(commands);
});
