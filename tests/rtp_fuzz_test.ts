// Copyright 2026 the midisock authors. MIT license.
// Fuzzing the RTP-MIDI receiver with a seeded generator (MIDISOCK_SEED
// repeats a run): random bytes, valid packets cut and bit-flipped, random
// journals after a gap; and random loss between a sender and a receiver,
// which must never leave a note or a pedal stuck. Every loop is bounded.

import assert from "node:assert/strict";
import { decode, encode } from "../mod.ts";
import {
  type RtpMidiReceived,
  RtpMidiReceiver,
  RtpMidiSender,
} from "../src/transport/rtp/rtp_midi.ts";
import { Random, randomMessage, testSeed } from "./_random.ts";

const MAX_SYSEX = 4096;

/** What any received result must be, whatever the input. */
function checkResult(r: RtpMidiReceived, what: string): void {
  assert.ok(r.recovered <= r.messages.length, what);
  assert.ok(Number.isInteger(r.lost) && r.lost >= 0 && r.lost < 0x8000, what);
  assert.ok(
    !r.malformed?.startsWith("packet not read"),
    `${what}: ${r.malformed}`,
  );
  for (const msg of r.messages) {
    assert.ok(msg.length <= MAX_SYSEX + 2, what);
    // One complete MIDI message, that the codec reads back to the same bytes.
    const parsed = decode(msg, { maxSysexBytes: MAX_SYSEX });
    assert.equal(parsed.length, 1, `${what}: ${msg}`);
    assert.deepEqual(encode(parsed[0]), msg, what);
  }
}

function validPackets(rng: Random, count: number): Uint8Array[] {
  const sender = new RtpMidiSender({
    ssrc: rng.int(0, 0xffffffff),
    seq: rng.int(0, 0xffff),
    maxPacketBytes: rng.pick([64, 200, 1400]),
  });
  const packets: Uint8Array[] = [];
  for (let turn = 0; packets.length < count; turn++) {
    const msgs = Array.from(
      { length: rng.int(0, 8) },
      () => encode(randomMessage(rng, { maxSysex: 600 })),
    );
    packets.push(...sender.packets(msgs, turn * 7));
    if (rng.chance(0.1)) sender.acknowledge(rng.int(0, 0xffff));
  }
  return packets;
}

function mutate(rng: Random, packet: Uint8Array): Uint8Array {
  let p = packet.slice();
  switch (rng.int(0, 5)) {
    case 0: // flip bytes
      for (let k = rng.int(1, 4); k > 0; k--) {
        p[rng.int(0, p.length - 1)] ^= 1 << rng.int(0, 7);
      }
      break;
    case 1: // cut
      p = p.slice(0, rng.int(0, p.length));
      break;
    case 2: // lie in the command section's LEN
      if (p.length > 13) {
        p[12] = (p[12] & 0xf0) | rng.int(0, 15);
        if (p[12] & 0x80) p[13] = rng.int(0, 255);
      }
      break;
    case 3: { // lie in a length in the journal: overwrite a byte after the list
      const at = rng.int(13, Math.max(13, p.length - 1));
      if (at < p.length) {
        p[at] = rng.pick([0x00, 0x03, 0x7f, 0xff, rng.int(0, 255)]);
      }
      break;
    }
    case 4: { // random bytes after the header
      const tail = rng.bytes(rng.int(0, 64));
      const q = new Uint8Array(Math.min(p.length, 13) + tail.length);
      q.set(p.subarray(0, 13));
      q.set(tail, Math.min(p.length, 13));
      p = q;
      break;
    }
    default: // set the journal flag whatever follows
      if (p.length > 12) p[12] |= 0x40;
  }
  return p;
}

Deno.test("Fuzz: random bytes, and valid packets cut, flipped and lied about, never throw and give only whole messages", () => {
  const rng = new Random(testSeed());
  const seed = `seed ${rng.seed}`;
  const deadline = Date.now() + 20_000;
  let malformed = 0, messages = 0, recovered = 0;
  for (let round = 0; round < 200 && Date.now() < deadline; round++) {
    const receiver = new RtpMidiReceiver({ maxSysex: MAX_SYSEX });
    const packets = validPackets(rng, 60);
    for (let i = 0; i < packets.length; i++) {
      let p = packets[i];
      const roll = rng.next();
      if (roll < 0.15) continue; // lost: the next one reads its journal
      if (roll < 0.55) p = mutate(rng, p);
      else if (roll < 0.65) p = rng.bytes(rng.int(0, 80));
      else if (roll < 0.7) {
        p = new Uint8Array([...p.subarray(0, 12), 0x02, 0x40, 0x40]);
      }
      const r = receiver.receive(p);
      checkResult(r, `${seed}, round ${round}, packet ${i}`);
      if (r.malformed) malformed++;
      messages += r.messages.length;
      recovered += r.recovered;
    }
  }
  // The run did reach the paths it is for.
  assert.ok(malformed > 100, `${malformed} malformed`);
  assert.ok(messages > 1000, `${messages} messages`);
  assert.ok(recovered > 10, `${recovered} recovered`);
});

Deno.test("Fuzz: random journals after a gap never throw, and recover only whole messages", () => {
  const rng = new Random((testSeed() ^ 0x6a09e667) >>> 0);
  const receiver = new RtpMidiReceiver({ maxSysex: MAX_SYSEX });
  let seq = 0;
  let malformed = 0;
  for (let i = 0; i < 3000; i++) {
    seq = (seq + rng.int(1, 4)) & 0xffff;
    const journal = rng.chance(0.5)
      ? rng.bytes(rng.int(0, 60))
      // A plausible header: Y and A flags, channel journals of random sizes.
      : new Uint8Array([
        rng.int(0, 255) & 0xef,
        rng.int(0, 255),
        rng.int(0, 255),
        ...Array.from({ length: rng.int(0, 4) }, () => [
          rng.int(0, 255) & 0xfb,
          rng.int(0, 64),
          rng.int(0, 255),
          ...rng.bytes(rng.int(0, 40)),
        ]).flat(),
      ]);
    const p = new Uint8Array([
      0x80,
      0x61,
      seq >> 8,
      seq & 0xff,
      ...[0, 0, 0, 0, 0, 0, 0, 9],
      0x43,
      0x90,
      rng.int(0, 127),
      rng.int(0, 127),
      ...journal,
    ]);
    const r = receiver.receive(p);
    checkResult(r, `seed ${rng.seed}, packet ${i}`);
    if (r.malformed) malformed++;
  }
  assert.ok(malformed > 100, `${malformed} malformed`);
});

/**
 * What a listener ends up with, as the RFC's recovery must keep it: the held
 * notes, the sustain pedals, volume and pan, programs and pitch wheels.
 * Written here from MIDI's rules, not from src/.
 */
class Listener {
  notes = new Set<string>();
  values = new Map<string, number>();
  hear(msg: Uint8Array): void {
    const [status, a, b] = msg;
    const ch = status & 0x0f;
    const kind = status & 0xf0;
    if (status === 0xff) {
      this.notes.clear();
      this.values.clear();
    } else if (kind === 0x90 && b > 0) {
      this.notes.add(`${ch}:${a}`);
    } else if (kind === 0x80 || kind === 0x90) {
      this.notes.delete(`${ch}:${a}`);
    } else if (kind === 0xb0 && (a === 120 || a >= 123)) {
      for (const note of [...this.notes]) {
        if (note.startsWith(`${ch}:`)) this.notes.delete(note);
      }
    } else if (kind === 0xb0 && a === 121) {
      // Reset All Controllers: the pedal up and the wheel centred, where set.
      if (this.values.has(`${ch} cc64`)) this.values.set(`${ch} cc64`, 0);
      if (this.values.has(`${ch} pitch`)) this.values.set(`${ch} pitch`, 8192);
    } else if (kind === 0xb0 && [0, 7, 10, 32, 64].includes(a)) {
      this.values.set(`${ch} cc${a}`, b);
    } else if (kind === 0xc0) {
      this.values.set(`${ch} program`, a);
    } else if (kind === 0xe0) {
      this.values.set(`${ch} pitch`, a | (b << 7));
    }
  }
  /**
   * The notes, then the values; a bank select of 0 is the same as none (the
   * journal's chapter P codes an unset half of the bank as 0), and so are a
   * pedal that is up and a wheel at its centre (which Reset All Controllers
   * sets whether the wheel was known or not).
   */
  get state(): string[] {
    const values = [...this.values].filter(([k, v]) =>
      !(v === 0 && (k.endsWith(" cc0") || k.endsWith(" cc32"))) &&
      !(k.endsWith(" cc64") && v < 64) && // a pedal up is the same as none
      !(k.endsWith(" pitch") && v === 8192) // and so is a centred wheel
    );
    return [
      ...[...this.notes].sort(),
      ...values.map(([k, v]) => k.endsWith("cc64") ? `${k} down` : `${k}=${v}`)
        .sort(),
    ];
  }
}

Deno.test("Random loss between a sender and a receiver never leaves a note or a pedal stuck, nor a controller, program or wheel wrong", () => {
  const rng = new Random((testSeed() ^ 0xbb67ae85) >>> 0);
  const controls = [0, 7, 10, 32, 64, 64, 64, 121, 123];
  let checks = 0;
  for (let run = 0; run < 20; run++) {
    const sender = new RtpMidiSender({ ssrc: run, seq: rng.int(0, 0xffff) });
    const receiver = new RtpMidiReceiver();
    const sent = new Listener(), heard = new Listener();
    let lost = 0, recovered = 0;
    for (let turn = 0; turn < 300; turn++) {
      // Few channels and notes, so that notes are held and released often;
      // a system reset now and then.
      const bytes = Array.from({ length: rng.int(1, 4) }, () => {
        const b = encode(randomMessage(rng, {
          maxSysex: 40,
          types: rng.chance(0.01) ? ["reset"] : [
            "note_on",
            "note_on",
            "note_off",
            "control_change",
            "program_change",
            "pitchwheel",
            "sysex",
            "clock",
          ],
        }));
        if (b[0] < 0xf0) b[0] &= 0xf3;
        if (b[0] >= 0x80 && b[0] < 0xa0) b[1] = 60 + (b[1] & 7);
        if ((b[0] & 0xf0) === 0xb0) b[1] = rng.pick(controls);
        return b;
      });
      bytes.forEach((b) => sent.hear(b));
      const packets = sender.packets(bytes, turn);
      assert.equal(packets.length, 1);
      if (rng.chance(0.25)) continue; // lost
      const r = receiver.receive(packets[0]);
      assert.equal(r.malformed, undefined);
      lost += r.lost;
      recovered += r.recovered;
      r.messages.forEach((b) => heard.hear(b));
      // After each packet that arrives, the listener is where the sender is.
      assert.deepEqual(
        heard.state,
        sent.state,
        `seed ${rng.seed}, run ${run}, turn ${turn}`,
      );
      checks++;
      if (turn % 5 === 4) sender.acknowledge(receiver.lastSeq!);
    }
    assert.ok(
      lost > 20 && recovered > 20,
      `${lost} lost, ${recovered} recovered`,
    );
  }
  assert.ok(checks > 4000);
});
