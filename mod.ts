// Copyright 2026 the midisock authors. MIT license.
/**
 * MIDI over TCP/IP for Deno, with Web Streams. It speaks the wire protocol of
 * Python mido's socket ports (plain MIDI bytes, no framing), so a Deno program
 * can play a synth in a mido program, and the reverse.
 *
 * This module has the codec (messages, the encoder, the parser, the stream
 * codec and mido's text format), the ports and the servers, over TCP, TLS and
 * WebSockets, and the gateway that lets browsers join a bus.
 * `@x/midisock/nats` bridges buses across machines, and `@x/midisock/device`
 * plays this machine's MIDI devices.
 *
 * The guides are pages in the package's `docs/` folder, beside the
 * [README](README.md):
 *
 * - [Ports and streams](docs/ports-and-streams.md): clients and servers as
 *   mido ports, Web Streams and pipeTo recipes, messages and the codec.
 * - [The bus](docs/bus.md): relay, any transport on the bus, the broadcast
 *   hub and slow clients.
 * - [Play from a browser](docs/browser.md): a page with a keyboard on the
 *   bus, and {@linkcode WebGateway}.
 * - [When the network fails](docs/resilience.md): no stuck notes, ports that
 *   reconnect, dead peers, late joiners.
 * - [A bus across machines](docs/nats.md): hubs bridged through NATS.
 * - [The command-line program](docs/cli.md) and
 *   [Local MIDI devices](docs/devices.md).
 * - [The wire protocol](docs/protocol.md), [Security](docs/security.md),
 *   [Benchmarks](docs/benchmarks.md) and
 *   [Dependencies](docs/dependencies.md).
 *
 * @example Encoding and decoding
 * ```ts
 * import { decode, encode, formatMessage, message } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * const msg = message("note_on", { note: 60, velocity: 100 });
 * const bytes = encode(msg);
 * assert.deepEqual(bytes, new Uint8Array([0x90, 60, 100]));
 * assert.deepEqual(decode(bytes), [msg]);
 * assert.equal(formatMessage(msg), "note_on channel=0 note=60 velocity=100 time=0");
 * ```
 *
 * @module
 */

export {
  type ActiveSensing,
  type Aftertouch,
  type Clock,
  type Continue,
  type ControlChange,
  type Message,
  message,
  type MessageBase,
  type MessageFields,
  type MessageOf,
  type MessageType,
  type NoteOff,
  type NoteOn,
  type Pitchwheel,
  type Polytouch,
  type ProgramChange,
  type QuarterFrame,
  type Reset,
  type Songpos,
  type SongSelect,
  type Start,
  type Stop,
  type Sysex,
  type TuneRequest,
} from "./src/midi/message.ts";
export { encode } from "./src/midi/encode.ts";
export { decode } from "./src/midi/decode.ts";
export {
  MidiParser,
  type MidiParserOptions,
  type MidiParserStats,
} from "./src/midi/parser.ts";
export {
  MidiDecoderStream,
  type MidiDecoderStreamOptions,
  MidiEncoderStream,
  type MidiEncoderStreamOptions,
} from "./src/midi/codec.ts";
export { formatMessage, parseMessage } from "./src/midi/text.ts";
export { PortClosedError } from "./src/port/errors.ts";
export {
  type Address,
  formatAddress,
  parseAddress,
  type ParseAddressOptions,
} from "./src/transport/address.ts";
export { TypedEventTarget } from "./src/util/typed_event_target.ts";
export type { Transport } from "./src/transport/transport.ts";
export {
  TcpTransport,
  type TcpTransportOptions,
} from "./src/transport/tcp_transport.ts";
export {
  WebSocketTransport,
  type WebSocketTransportOptions,
} from "./src/transport/websocket_transport.ts";
export {
  IPMIDI_BASE_PORT,
  IPMIDI_GROUP,
  IPMIDI_MAX_PORT,
  IpMidiDropEvent,
  type IpMidiDropEventInit,
  type IpMidiStats,
  IpMidiTransport,
  type IpMidiTransportEventMap,
  type IpMidiTransportOptions,
  ipMidiUdpPort,
} from "./src/transport/ipmidi_transport.ts";
export {
  MidiPort,
  type ReceiveOptions,
  type TimedMessage,
} from "./src/port/midi_port.ts";
export {
  SocketPort,
  type SocketPortEventMap,
  type SocketPortOptions,
  type SocketPortStats,
} from "./src/port/socket_port.ts";
export {
  connect,
  type ConnectOptions,
  type ReconnectOptions,
} from "./src/client/connect.ts";
export { RefusedError } from "./src/client/refused_error.ts";
export { EchoRoundTrip, type RoundTrip } from "./src/client/echo_round_trip.ts";
export {
  type DialHint,
  ReconnectingPort,
  type ReconnectingPortEventMap,
  type ReconnectingPortOptions,
  type ReconnectingPortStats,
} from "./src/client/reconnecting_port.ts";
export {
  ReconnectEvent,
  type ReconnectEventInit,
} from "./src/client/events.ts";
export {
  PortServer,
  type PortServerEventMap,
  type PortServerStats,
  type ReceivedMessage,
} from "./src/bus/port_server.ts";
export type { PortServerOptions } from "./src/bus/port_server_options.ts";
export {
  BroadcastHub,
  type BroadcastHubEventMap,
  type BroadcastHubOptions,
  type BroadcastHubStats,
  type BroadcastOptions,
  type HubClient,
} from "./src/bus/hub.ts";
export {
  FilterEvent,
  type FilterEventInit,
  PortEvent,
  type PortEventInit,
  RejectEvent,
  type RejectEventInit,
  ReleaseEvent,
  type ReleaseEventInit,
} from "./src/bus/events.ts";
export { DropEvent, type DropEventInit } from "./src/port/events.ts";
export { type BudgetHolder, BufferBudget } from "./src/port/buffer_budget.ts";
export {
  type Backoff,
  exponentialBackoff,
  type ExponentialBackoffOptions,
} from "./src/client/backoff.ts";
export { NoteTracker } from "./src/midi/note_tracker.ts";
export {
  type Division,
  META_END_OF_TRACK,
  META_TEMPO,
  META_TIME_SIGNATURE,
  META_TRACK_NAME,
  type MetaEvent,
  type MidiEvent,
  type MidiFile,
  type TrackEvent,
} from "./src/smf/midi_file.ts";
export { readMidiFile } from "./src/smf/read_midi_file.ts";
export {
  type PlaySchedule,
  playSchedule,
  type PlayScheduleOptions,
  type ScheduledMessage,
} from "./src/smf/play_schedule.ts";
export {
  RecordingFile,
  type RecordingFileOptions,
} from "./src/smf/recording_file.ts";
export {
  headerChunk,
  TrackEncoder,
  writeMidiFile,
} from "./src/smf/write_midi_file.ts";
export {
  WebGateway,
  type WebGatewayEventMap,
  type WebGatewayOptions,
  type WebGatewayStats,
} from "./src/gateway/web_gateway.ts";
