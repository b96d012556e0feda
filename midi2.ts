// Copyright 2026 the midisock authors. MIT license.
/**
 * Network MIDI 2.0 (UMP over UDP, the MIDI Association's M2-124-UM v1.0),
 * the network MIDI that Windows MIDI Services ships: a host
 * ({@linkcode listenMidi2}) whose sessions join a bus as clients, and a
 * client ({@linkcode dialMidi2}). Each session is a Transport of MIDI 1.0
 * bytes: UMP is translated to and from MIDI 1.0 by the UMP specification's
 * rules, with invitations (and a shared secret or users), pings, Bye,
 * Session Reset, NAK, FEC and retransmits. The guide is
 * [Network MIDI 2.0](docs/network-midi-2.md), in the package's `docs/`
 * folder.
 *
 * @example A host on a bus, and a client that plays on it
 * ```ts
 * import { PortServer } from "@x/midisock";
 * import { dialMidi2, listenMidi2 } from "@x/midisock/midi2";
 * import assert from "node:assert/strict";
 *
 * await using bus = new PortServer("127.0.0.1", 0);
 * await using host = await listenMidi2(
 *   { hostname: "127.0.0.1", port: 0 },
 *   (session) => bus.admit(session, { name: session.name }),
 * );
 * await using client = await dialMidi2("127.0.0.1", host.port, { name: "keys" });
 * const writer = client.writable.getWriter();
 * await writer.write(new Uint8Array([0x90, 64, 90]));
 * writer.releaseLock();
 * assert.deepEqual(await bus.receive(), {
 *   type: "note_on",
 *   channel: 0,
 *   note: 64,
 *   velocity: 90,
 * });
 * ```
 *
 * @module
 */

export {
  listenMidi2,
  Midi2Listener,
  type Midi2ListenerOptions,
  type Midi2ListenerStats,
} from "./src/transport/midi2/midi2_listener.ts";
export {
  dialMidi2,
  type DialMidi2Options,
} from "./src/transport/midi2/dial_midi2.ts";
export {
  Midi2Session,
  type Midi2SessionInit,
  type Midi2SessionStats,
} from "./src/transport/midi2/midi2_session.ts";
export type { Midi2SessionOptions } from "./src/transport/midi2/midi2_session_options.ts";
export { Midi2RefusedError } from "./src/transport/midi2/midi2_refused_error.ts";
export {
  Midi2Event,
  type Midi2EventInit,
  type Midi2EventMap,
} from "./src/transport/midi2/events.ts";
