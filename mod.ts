// Copyright 2026 the midisock authors. MIT license.
/**
 * MIDI over TCP/IP for Deno, with Web Streams. It speaks the wire protocol of
 * Python mido's socket ports (plain MIDI bytes, no framing), so a Deno program
 * can play a synth in a mido program, and the reverse.
 *
 * This module has the codec: messages, the encoder, the parser, the stream
 * codec and mido's text format.
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
} from "./src/message.ts";
export { encode } from "./src/encode.ts";
export { decode } from "./src/decode.ts";
export {
  MidiParser,
  type MidiParserOptions,
  type MidiParserStats,
} from "./src/parser.ts";
export {
  MidiDecoderStream,
  type MidiDecoderStreamOptions,
  MidiEncoderStream,
  type MidiEncoderStreamOptions,
} from "./src/codec.ts";
export { formatMessage, parseMessage } from "./src/text.ts";
export { PortClosedError } from "./src/errors.ts";
export {
  type Address,
  formatAddress,
  parseAddress,
  type ParseAddressOptions,
} from "./src/address.ts";
export { TypedEventTarget } from "./src/typed_event_target.ts";
export type { Transport } from "./src/transport.ts";
export { TcpTransport, type TcpTransportOptions } from "./src/tcp_transport.ts";
export {
  WebSocketTransport,
  type WebSocketTransportOptions,
} from "./src/websocket_transport.ts";
export { MidiPort, type ReceiveOptions } from "./src/midi_port.ts";
export {
  SocketPort,
  type SocketPortEventMap,
  type SocketPortOptions,
  type SocketPortStats,
} from "./src/socket_port.ts";
export {
  connect,
  type ConnectOptions,
  type ReconnectOptions,
} from "./src/connect.ts";
export {
  ReconnectingPort,
  type ReconnectingPortEventMap,
  type ReconnectingPortOptions,
  type ReconnectingPortStats,
} from "./src/reconnecting_port.ts";
export { ReconnectEvent } from "./src/reconnect_event.ts";
export {
  PortServer,
  type PortServerEventMap,
  type PortServerOptions,
  type PortServerStats,
  type ReceivedMessage,
} from "./src/port_server.ts";
export {
  BroadcastHub,
  type BroadcastHubEventMap,
  type BroadcastHubOptions,
  type BroadcastHubStats,
  type BroadcastOptions,
  type HubClient,
} from "./src/hub.ts";
export { PortEvent } from "./src/port_event.ts";
export { DropEvent } from "./src/drop_event.ts";
export { type BudgetHolder, BufferBudget } from "./src/buffer_budget.ts";
export {
  type Backoff,
  exponentialBackoff,
  type ExponentialBackoffOptions,
} from "./src/backoff.ts";
export { NoteTracker } from "./src/note_tracker.ts";
export { RejectEvent } from "./src/reject_event.ts";
export { ReleaseEvent } from "./src/release_event.ts";
export { FilterEvent } from "./src/filter_event.ts";
export {
  WebGateway,
  type WebGatewayEventMap,
  type WebGatewayOptions,
  type WebGatewayStats,
} from "./src/web_gateway.ts";
