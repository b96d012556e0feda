// Copyright 2026 the midisock authors. MIT license.
/**
 * The `midisock` command-line program: a socket-port server that prints (and
 * can relay) what its clients send, a monitor that prints what a server
 * sends, and a sender of messages. It speaks mido's wire protocol, so its
 * peers can be mido programs (`mido-serve`, `mido-connect`) too.
 *
 * ```sh
 * deno install -g -n midisock --allow-net --allow-read --allow-env jsr:@x/midisock/cli
 * midisock serve --relay :8080         # a shared MIDI bus on localhost:8080
 * midisock monitor localhost:8080      # print what the bus carries
 * midisock send localhost:8080 "note_on note=60 velocity=100" "note_off note=60"
 * ```
 *
 * Without installing: `deno run --allow-net jsr:@x/midisock/cli serve :8080`.
 * Run `midisock --help` for every command and option.
 *
 * The program is also a function, {@linkcode main}, which takes the arguments
 * and returns the exit status.
 *
 * @example Sending a message with the program's main function
 * ```ts
 * import { main } from "@x/midisock/cli";
 * import { message, PortServer } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * await using server = new PortServer("127.0.0.1", 0);
 * const address = `127.0.0.1:${server.port}`;
 * assert.equal(await main(["send", address, "note_on note=60 velocity=100"]), 0);
 * assert.deepEqual(
 *   await server.receive(),
 *   message("note_on", { note: 60, velocity: 100 }),
 * );
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import denoJson from "../../deno.json" with { type: "json" };
import { formatAddress, parseAddress } from "../transport/address.ts";
import { connect } from "../client/connect.ts";
import { ReconnectingPort } from "../client/reconnecting_port.ts";
import { dial, dialName, type DialTls } from "../transport/dial.ts";
import { encodeHello } from "../transport/hello.ts";
import { asError, oneLine } from "../util/error_text.ts";
import { encode } from "../midi/encode.ts";
import { type Message, message, type MessageType } from "../midi/message.ts";
import { MidiParser, type MidiParserOptions } from "../midi/parser.ts";
import type { DropEvent } from "../port/events.ts";
import type { FilterEvent, RejectEvent, ReleaseEvent } from "../bus/events.ts";
import { PortServer } from "../bus/port_server.ts";
import type { NatsBridge } from "../nats/nats_bridge.ts";
import type { NatsBridgeOptions } from "../nats/join_nats.ts";
import { WebGateway } from "../gateway/web_gateway.ts";
import type { SocketPort } from "../port/socket_port.ts";
import { addressName } from "../transport/address.ts";
import type { DevicePort } from "../device/device_port.ts";
import { FIELD_TO_TEXT, FIELDS, TYPES } from "../midi/specs.ts";
import { formatMessage, parseMessage } from "../midi/text.ts";

/** Options for {@linkcode main}: where it reads and writes, and when to stop. */
export interface MainOptions {
  /**
   * Where `send` reads messages when it is given none as arguments.
   *
   * @default {Deno.stdin.readable}
   */
  stdin?: ReadableStream<Uint8Array>;
  /**
   * Where messages and events are printed. It is not closed.
   *
   * @default {Deno.stdout.writable}
   */
  stdout?: WritableStream<Uint8Array>;
  /**
   * Where errors and the address that `serve` listens on are printed. It is
   * not closed.
   *
   * @default {Deno.stderr.writable}
   */
  stderr?: WritableStream<Uint8Array>;
  /**
   * Stops `serve` and `monitor` when it aborts, as Ctrl-C (SIGINT) or
   * SIGTERM does.
   */
  signal?: AbortSignal;
}

const VERSION: string = denoJson.version;
const PROGRAM = "midisock";

const HELP =
  `${PROGRAM} ${VERSION}: MIDI over TCP, wire-compatible with Python mido's socket ports

Usage:
  ${PROGRAM} serve [HOST:PORT] [--relay] [--json] [--quiet] [OPTION...]
  ${PROGRAM} monitor HOST:PORT [--json] [--no-reconnect] [--tls] [--ca FILE]
  ${PROGRAM} send HOST:PORT [--hex] [--tls] [--ca FILE] [MESSAGE...]
  ${PROGRAM} ports [--json]
  ${PROGRAM} connect HOST:PORT [--in NAME]... [--out NAME]... [--virtual NAME]...
  ${PROGRAM} COMMAND --help
  ${PROGRAM} --help | --version

Commands:
  serve    Run a server and print what each client sends
  monitor  Connect to a server and print what it sends
  send     Connect to a server and send messages
  ports    List this machine's MIDI inputs and outputs
  connect  Play local MIDI inputs into a server, and a server on local
           MIDI outputs (serve --out plays a server's bus on outputs)

An address is HOST:PORT, [IPV6]:PORT or :PORT; the host defaults to
localhost. A MIDI port NAME is its whole name, or a piece of it, in any
case, that no other port's name has (see ${PROGRAM} ports). The commands
and options that use MIDI ports need --allow-ffi --allow-read --allow-env.
A message is in mido's text format, such as
"note_on channel=0 note=60 velocity=100"; missing fields take mido's
defaults.

Exit status:
  0  success; serve and monitor also exit 0 on Ctrl-C (SIGINT) or SIGTERM
  1  runtime error: a refused connection, an address in use, a bad message
     line on stdin, a connection that failed while send was sending
  2  usage error: an unknown command or option, a bad address, a bad message
     argument`;

const NATS_HELP = `
One bus across machines (--nats implies --relay): hubs that give the same
--bus on the same NATS system are one bus. Each hub's clients hear every
other hub's clients; when a hub goes away (it stops, crashes, or loses its
link to NATS) the others release its notes. Lines:
  # nats connected bus=NAME hub=ID
  # nats disconnected [ERROR]  the link to NATS is lost; the hub goes on
                             serving its own clients, and releases the
                             other hubs' notes for them
  # nats reconnecting attempt=N delay=MSms
  # nats reconnected attempts=N downtime=MSms dropped=BYTES
                             the bus is back; BYTES that this hub's clients
                             sent meanwhile were lost
  # hubjoin ID               another hub was heard
  # hubleave ID REASON released=N
                             it is gone (REASON: bye, timeout after 3 s
                             without a heartbeat, disconnect); N of its
                             notes were released here
  # hubgap ID released=N     messages of it were lost on the way; N of its
                             notes were released here
  # nats closed published=N received=N dropped=BYTES lost=N overflowed=N
    ignored=N                the bridge closed (the server stops): NATS
                             messages it published and received, MIDI
                             bytes it could not publish, other hubs'
                             messages lost on the way, MIDI messages
                             dropped while this hub was 1 MiB behind
                             taking them in, and messages not taken (a
                             hub id that is not its subject's)
  The bridge is a client of its hub (nats:BUS): if NATS takes bytes in
  slower than the clients send, the hub cuts it off (# slowclient nats:BUS),
  and it joins again at once (# connect nats:BUS), or on a full hub once
  its old connection has closed.
NATS options:
  --nats URL         A NATS server, nats://HOST:PORT (or tls://); give it
                     once for each server of a cluster
  --bus NAME         The bus (letters, digits, - and _)
  --hub ID           This hub's id on the bus (default: a random one)
  --nats-token-file FILE
                     The NATS token, on FILE's first line (else the
                     MIDISOCK_NATS_TOKEN environment variable, if set)
  --nats-user NAME   A NATS user; the password is on the first line of
  --nats-pass-file FILE
                     FILE (else in MIDISOCK_NATS_PASS)
  --nats-creds FILE  A NATS credentials file (JWT and NKey seed)
  --nats-ca FILE     Dial NATS with TLS, trusting the CAs in FILE (PEM)
                     as well (a tls:// URL, or a server that requires
                     TLS, dials with TLS and the system's CAs alone)`;

const SERVE_HELP =
  `Usage: ${PROGRAM} serve [HOST:PORT] [--relay] [--json] [--quiet]
         [--out NAME]... [--virtual NAME]... [--max-sysex BYTES]
         [--allow CIDR]... [--max-clients N] [--no-sysex]
         [--snapshot] [--no-release]
         [--tls-cert FILE --tls-key FILE] [--token-file FILE]
         [--nats URL... --bus NAME [--hub ID] [NATS OPTION...]]
         [--web [HOST:]PORT [--web-origin ORIGIN]... [--web-host NAME]...]

Runs a socket-port server at HOST:PORT (default localhost:8080; port 0 picks
a free port) and prints each message that a client sends, one a line: the
client's name, then the message in mido's text format:

  127.0.0.1:53412 note_on channel=0 note=60 velocity=100 time=0

localhost means both loopbacks, 127.0.0.1 and ::1. The addresses that the
server listens on go to stderr, as "${PROGRAM}: listening on 127.0.0.1:8080,
[::1]:8080". To listen on every interface, give 0.0.0.0:PORT or [::]:PORT.

Events are lines that start with #:
  # connect NAME             a client came
  # disconnect NAME          it left, after its last message (with
                             " dropped=BYTES" if bytes queued for it were
                             never written)
  # slowclient NAME dropped=BYTES
                             it fell too far behind and was cut off; the
                             same count as on its disconnect line
  # drop NAME skipped=BYTES discarded=N oversized=N
                             bytes from it made no message: garbage, N
                             messages cut short (by a status byte, or by
                             the client leaving in the middle of one), N
                             sysex messages over --max-sysex
  # hello ADDRESS NAME       a client taken in by its address named itself
                             in a hello line; lines after it use NAME (on
                             a server with a token, a client is named before
                             it is taken in, on its # connect line)
  # reject ADDRESS REASON    a client was turned away before a byte of it
                             was read: not on the --allow list, over
                             --max-clients, a failed TLS handshake, no
                             hello line with the token
  # released N notes for NAME
                             NAME left with N notes on (and with " and P
                             pedals" if it left sustain pedals down); the
                             server sent their note_offs (and CC 64 = 0)
                             for it, printed before its # disconnect line
  # filtered NAME TYPE REASON
                             a client's message was not delivered: a sysex
                             with --no-sysex
  # accepterror ERROR        a connection failed before it was accepted
                             (such as a port scanner's reset); the server
                             goes on
  # outputerror NAME TYPE ERROR
                             a message could not be played on the MIDI
                             output NAME (such as a sysex too long for it)

Ctrl-C (SIGINT) or SIGTERM stops the server: it closes every client
(sending what is already queued for it first), prints what they had sent
and their "# disconnect" lines, and exits 0; a second signal ends the
program at once.

Options:
  --relay            Send each client's messages on to every other client
                     (never back to the sender): a shared MIDI bus
  --out NAME         Play every message that clients send on the MIDI
                     output NAME, such as a synth (mido-serve); give it
                     once for each output. When the server stops, each
                     output gets a note_off for each note it holds (and
                     sustain off), so nothing is left sounding
  --virtual NAME     Create a virtual MIDI output NAME that plays the same,
                     for other programs to listen to (not on Windows)
  --max-sysex BYTES  The largest sysex a client may send, in data bytes
                     (default 1048576); a longer one is dropped and
                     printed as a # drop line
  --allow CIDR       Let in only clients from this address or CIDR block,
                     IPv4 or IPv6 (127.0.0.1, 10.0.0.0/8, fd00::/8); give
                     it once for each. Without it anyone may connect, and
                     serve warns on stderr when it listens beyond loopback
  --max-clients N    The most clients at once (default 1024; keep it below
                     the process's file descriptor limit, ulimit -n)
  --no-sysex         Deliver no sysex from clients (a sysex can overwrite
                     a synth's patches); each is a # filtered line
  --snapshot         Send each client that joins (or rejoins) the bus's
                     controller state first: bank, program, controllers
                     and pitchwheel of each channel the bus has carried
  --no-release       Do not release the notes of a client that leaves
                     with notes on or the sustain pedal down (by default
                     the server sends their note_offs and CC 64 = 0 as if
                     the client had, printed as a # released line)
  --tls-cert FILE    Listen with TLS, with the certificate chain in FILE
  --tls-key FILE     and its private key (PEM). Clients connect with
                     monitor --tls or --ca FILE; a client whose handshake
                     fails is a # reject line
  --token-file FILE  Take in only clients whose hello line carries the
                     token on FILE's first line (monitor and send give it
                     with their own --token-file); without this option,
                     the MIDISOCK_TOKEN environment variable, if set. The
                     token is never taken from the command line, where ps
                     would show it
${NATS_HELP}
  --json             Print JSON lines instead. A message is mido's
                     msg.dict() with the sender first, such as
                     {"sender":NAME,"type":"sysex","time":0,"data":[1,2]}
                     (mido's snake_case field names, such as frame_type;
                     sysex data as a list). Delete "sender" and mido's
                     Message.from_dict() reads it; it rejects unknown keys.
                     An event is {"event":"connect"|"disconnect"|
                     "slowclient","port":NAME}, with "droppedBytes":BYTES
                     when bytes were dropped; {"event":"drop","port":NAME,
                     "skippedBytes":..,"discardedMessages":..,
                     "oversizedSysex":..}; {"event":"release","port":NAME,
                     "notes":N,"pedals":N}; {"event":"reject","address":..,
                     "reason":..}; {"event":"filtered","port":NAME,
                     "type":TYPE,"reason":..}; {"event":"accepterror",
                     "error":TEXT}; {"event":"outputerror","port":NAME,
                     "type":TYPE,"error":TEXT}
  --web [HOST:]PORT  Also serve the browser page at http://HOST:PORT/ and
                     its WebSocket at /ws (the host defaults to the
                     server's): a browser that opens it is one more client,
                     with the same --allow, --max-clients, token and relay.
                     With --tls-cert and --tls-key, the page and the socket
                     are HTTPS and WSS. Its address goes to stderr, as
                     "${PROGRAM}: web page at http://localhost:8081/"
  --web-origin ORIGIN
                     Let pages from ORIGIN (such as https://studio.example)
                     open the WebSocket too; give it once for each. A page
                     from any other site is refused, a # reject line
  --web-host NAME    Answer to NAME too (such as studio.local), besides
                     localhost, the loopbacks, the --web host and the
                     addresses it listens on; give it once for each. A
                     request for any other name is refused (DNS
                     rebinding), a # reject line
  -q, --quiet        Print no messages and no events
  -h, --help         Print this help

Exit status: 0 when stopped; 1 if it cannot listen (the address is in use)
or cannot open a MIDI output (the error lists the outputs there are); 2 for
a usage error.`;

/** The help of the options that monitor and send share. */
const LINK_HELP =
  `  --tls       Connect with TLS, trusting the system's certificate
              authorities; the server's certificate must carry HOST
  --ca FILE   Connect with TLS, trusting the CA certificate in FILE (PEM)
  --token-file FILE
              Open with a hello line that carries the token on FILE's
              first line, for a server with a token (or the
              MIDISOCK_TOKEN environment variable, if set)
  --name NAME
              Open with a hello line that gives the server this name`;

const MONITOR_HELP =
  `Usage: ${PROGRAM} monitor HOST:PORT [--json] [--no-reconnect] [--tls]
       [--ca FILE] [--token-file FILE] [--name NAME]

Connects to a socket-port server and prints each message that the server
sends, one a line: the server's name, then the message in mido's text
format. It prints "# connect NAME" once connected, and "# disconnect NAME"
(with the error, if the connection failed) when the connection ends or
when Ctrl-C (SIGINT) or SIGTERM closes it; a second signal ends the
program at once. Bytes from the server that make no message are printed as
"# drop NAME skipped=BYTES discarded=N oversized=N", as serve prints them.

When the connection ends, monitor connects again (the server restarted, or
the network failed), with a backoff from 100 ms doubling up to 5 s, and
prints:
  # reconnecting NAME attempt=N delay=MSms
  # reconnected NAME attempts=N downtime=MSms
Notes that the server had left on are released at once, printed as the
note_off lines of the server. Active sensing (1 s) finds a server that
vanished without closing the connection.

Options:
  --json      Print JSON lines, as serve --json does
  --no-reconnect
              Exit when the connection ends, instead of connecting again
${LINK_HELP}
  -h, --help  Print this help

Exit status: 0 on Ctrl-C (SIGINT) or SIGTERM, or with --no-reconnect when
the connection ends (the server closed it, or it was reset); 1 if it
cannot connect at first (the connection is refused); 2 for a usage error.`;

const SEND_HELP = `Usage: ${PROGRAM} send HOST:PORT [--hex] [--tls] [--ca FILE]
       [--token-file FILE] [--name NAME] [--no-reconnect] [MESSAGE...]

Connects to a socket-port server and sends each MESSAGE, in mido's text
format, such as "note_on note=60 velocity=100". With no MESSAGE it reads
messages from stdin, one a line, and skips blank lines and lines that start
with #. It exits once every byte is written and the connection is closed.

Reading messages from stdin, it stays connected, and so it reconnects when
the connection ends, as monitor does, printing # disconnect, # reconnecting
and # reconnected lines on stderr. A message read while it is disconnected
is dropped (the last value of each controller that changed is sent on
reconnecting); if any was, it says how many at the end and exits 1. With
--hex, or messages given as arguments, it does not reconnect.

Options:
  --hex       Take raw bytes in hex instead, such as "90 3c 64" or "903c64",
              and send them as they are. Each MESSAGE or line must be whole
              MIDI messages, one or more, each with its own status byte (no
              running status), so that every byte belongs to a message;
              real-time bytes (F8 FA FB FC FE FF) may stand anywhere. A
              message cut short or unfinished, a data byte with no status
              byte, a stray F7 or an undefined byte (F4 F5 F9 FD) is an
              error that names the byte
  --no-reconnect
              Exit 1 when the connection ends while reading stdin,
              instead of connecting again
${LINK_HELP}
  -h, --help  Print this help

Exit status: 0 when everything was sent; 1 if the connection is refused or
fails, or for a bad line on stdin (the lines before it are sent); 2 for a
usage error, such as a bad MESSAGE argument (then nothing is sent).`;

const PORTS_HELP = `Usage: ${PROGRAM} ports [--json]

Lists the MIDI inputs (keyboards, and other programs' outputs) and outputs
(synths, and other programs' inputs) of this machine, as mido-ports does:

  Inputs:
    Keystation 49:Keystation 49 MIDI 1 20:0
  Outputs:
    FLUID Synth (1234):Synth input port (1234:0) 128:0

Give a name, or a piece of it that no other port's name has, to
serve --out and to connect --in and --out. It needs --allow-ffi
--allow-read --allow-env. On Linux, the ports are ALSA's, or JACK's when
MIDISOCK_RTMIDI names a JACK build of RtMidi (see the README).

Options:
  --json      Print one JSON line instead: {"inputs":[..],"outputs":[..]}
  -h, --help  Print this help

Exit status: 0; 1 if MIDI cannot be used (RtMidi cannot start: the error
says why); 2 for a usage error.`;

const CONNECT_HELP =
  `Usage: ${PROGRAM} connect HOST:PORT [--in NAME]... [--out NAME]...
       [--virtual NAME]... [--no-reconnect] [--tls] [--ca FILE]
       [--token-file FILE] [--name NAME]

Connects to a socket-port server and plays local MIDI inputs into it, as
mido-connect does, and, with --out, plays what the server sends on local
MIDI outputs too. A NAME is a port's whole name, or a piece of it, in any
case, that no other port's name has (see ${PROGRAM} ports). Give at least
one of --in, --out and --virtual. It needs --allow-ffi --allow-read
--allow-env as well as --allow-net.

It prints "# connect NAME" once connected and "# disconnect NAME" when the
connection ends, or when Ctrl-C (SIGINT) or SIGTERM closes it; a second
signal ends the program at once. When the connection ends, connect
connects again, as monitor does, and prints its # reconnecting and
# reconnected lines; a message that an input plays while it is
disconnected is dropped (not queued, so nothing comes late), and the count
is printed as "# dropped NAME messages=N" once it is connected again, or
at the end. When the server goes away, each output gets a note_off for
each note it holds (and sustain off) at once, not when the connection
comes back, so nothing is left sounding. Bytes that make no message are
printed as "# drop NAME skipped=BYTES discarded=N oversized=N", for the
server and for each input; a message that an input received while the
connection could not take it is dropped and printed as
"# overflow NAME dropped=TOTAL"; a message that could not be played on an
output is "# outputerror NAME TYPE ERROR".

Options:
  --in NAME       Play the MIDI input NAME (a keyboard) into the server;
                  give it once for each input
  --out NAME      Play what the server sends on the MIDI output NAME (a
                  synth); give it once for each output
  --virtual NAME  Create a virtual MIDI input NAME that other programs can
                  play into the server (not on Windows)
  --no-reconnect  Exit when the connection ends, instead of connecting again
${LINK_HELP}
  -h, --help      Print this help

Exit status: 0 on Ctrl-C (SIGINT) or SIGTERM, or with --no-reconnect when
the connection ends (the server closed it); 1 if it cannot connect at
first or cannot open a MIDI port (the error lists the ports there are); 2
for a usage error.`;

/** An error in the command line: exit status 2. */
class UsageError extends Error {}

/**
 * Lines of text on a byte stream. Lines that are written while a write is
 * in flight are gathered into the next write. It never throws: a failed
 * write is kept in {@linkcode Lines.error} and reported to `onError`.
 */
class Lines {
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #encoder = new TextEncoder();
  #pending: string[] = [];
  #size = 0;
  #flushing: Promise<void> | undefined;
  error: Error | undefined;
  onError: ((error: Error) => void) | undefined;

  constructor(stream: WritableStream<Uint8Array>) {
    this.#writer = stream.getWriter();
  }

  /** Queues a line. Resolves at once, or once the queue is short again. */
  write(line: string): Promise<void> {
    if (this.error) return Promise.resolve();
    this.#pending.push(line);
    this.#size += line.length + 1;
    this.#flushing ??= this.#flush();
    return this.#size > 64 * 1024 ? this.#flushing : Promise.resolve();
  }

  /** Writes what is queued and lets go of the stream. */
  async close(): Promise<void> {
    while (this.#flushing) await this.#flushing;
    this.#writer.releaseLock();
  }

  async #flush(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        const text = this.#pending.join("\n") + "\n";
        this.#pending = [];
        this.#size = 0;
        await this.#writer.write(this.#encoder.encode(text));
      }
    } catch (error) {
      this.error = asError(error);
      this.#pending = [];
      this.#size = 0;
      this.onError?.(this.error);
    } finally {
      this.#flushing = undefined;
    }
  }
}

/** Prints messages and events, as text or as JSON lines. */
class Printer {
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

  /** An event line of another module's (see _cli_nats.ts). */
  line(json: Record<string, unknown>, text: string): Promise<void> {
    return this.#event(json, text);
  }

  // An event line: JSON with --json, the # line otherwise, none with --quiet.
  #event(json: Record<string, unknown>, text: string): Promise<void> {
    if (this.#quiet) return Promise.resolve();
    return this.#out.write(this.#json ? JSON.stringify(json) : text);
  }
}

/**
 * The signals that stop `serve` and `monitor`. Windows has no SIGTERM to
 * listen for (Deno listens only for SIGINT and SIGBREAK there).
 */
const STOP_SIGNALS: readonly Deno.Signal[] = Deno.build.os === "windows"
  ? ["SIGINT"]
  : ["SIGINT", "SIGTERM"];

/**
 * Calls `stop` once, on Ctrl-C (SIGINT), on SIGTERM or when the signal
 * aborts. The returned function removes the listeners. After the first
 * SIGINT or SIGTERM the listeners are gone, so a second one ends the program
 * at once.
 */
function onStop(stop: () => void, signal?: AbortSignal): () => void {
  let listening = true;
  const remove = () => {
    if (listening) {
      listening = false;
      for (const name of STOP_SIGNALS) {
        Deno.removeSignalListener(name, handler);
      }
    }
    signal?.removeEventListener("abort", handler);
  };
  const handler = () => {
    remove();
    stop();
  };
  for (const name of STOP_SIGNALS) Deno.addSignalListener(name, handler);
  if (signal?.aborted) handler();
  else signal?.addEventListener("abort", handler, { once: true });
  return remove;
}

/** Parses a command's options; errors become usage errors. */
function parseCommand<T extends Parameters<typeof parseArgs>[0]>(
  command: string,
  args: string[],
  config: T,
) {
  try {
    return parseArgs({ ...config, args, allowPositionals: true, strict: true });
  } catch (error) {
    throw usage(error, command);
  }
}

function usage(error: unknown, command?: string): UsageError {
  let text = oneLine(error);
  const code = (error as { code?: string }).code;
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    // Keep "Unknown option '--foo'", not the advice about "--" after it.
    const stop = text.indexOf(". ");
    if (stop >= 0) text = text.slice(0, stop);
    if (command) text += ` for ${command}`;
  }
  const help = command ? `${PROGRAM} ${command} --help` : `${PROGRAM} --help`;
  return new UsageError(`${text} (see ${help})`);
}

function address(text: string, connecting: boolean) {
  let parsed;
  try {
    parsed = parseAddress(text, { defaultHost: "localhost" });
  } catch (error) {
    throw new UsageError(oneLine(error));
  }
  if (connecting && parsed.port === 0) {
    throw new UsageError(
      `Invalid address ${JSON.stringify(text)}: cannot connect to port 0`,
    );
  }
  return parsed;
}

function onePositional(
  command: string,
  positionals: string[],
  fallback?: string,
): string {
  if (positionals.length > 1) {
    throw new UsageError(
      `${command} takes one address, got ${positionals.length} arguments: ${
        positionals.map((p) => JSON.stringify(p)).join(" ")
      } (see ${PROGRAM} ${command} --help)`,
    );
  }
  const text = positionals[0] ?? fallback;
  if (text === undefined) {
    throw new UsageError(
      `${command} needs an address, such as localhost:8080 (see ${PROGRAM} ${command} --help)`,
    );
  }
  return text;
}

/** Lines of text from a byte stream, with their line numbers (from 1). */
async function* readLines(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<[number, string]> {
  let rest = "";
  let n = 0;
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop()!;
    for (const part of parts) yield [++n, part.replace(/\r$/, "")];
  }
  if (rest !== "") yield [++n, rest];
}

const HEX_WORD = /^[0-9a-fA-F]+$/;

/**
 * Parses bytes in hex, such as "90 3c 64" or "903c64", and checks that they
 * are whole MIDI messages (see {@linkcode checkWhole}).
 */
function parseHex(text: string): Uint8Array {
  const hex = text.trim().split(/\s+/);
  for (const word of hex) {
    if (!HEX_WORD.test(word)) {
      throw new SyntaxError(
        `Cannot parse ${JSON.stringify(word)} in ${
          JSON.stringify(text)
        }: expected hex bytes, such as 90 3c 64`,
      );
    }
    if (word.length % 2 !== 0) {
      throw new SyntaxError(
        `Cannot parse ${JSON.stringify(word)} in ${
          JSON.stringify(text)
        }: expected two hex digits a byte`,
      );
    }
  }
  const digits = hex.join("");
  const bytes = new Uint8Array(digits.length / 2);
  for (let i = 0; i < bytes.length; i++) {
    bytes[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  }
  checkWhole(bytes, text);
  return bytes;
}

/** How checkWhole() parses: no running status, and no bound on a sysex. */
const WHOLE_PARSER: MidiParserOptions = {
  runningStatus: false,
  maxSysexBytes: Number.MAX_SAFE_INTEGER,
};

/**
 * Checks that `bytes` are whole MIDI messages, each with its own status
 * byte: every byte belongs to a message that MidiParser (without running
 * status) emits. Real-time bytes may stand anywhere, even inside another
 * message, as MIDI 1.0 allows.
 *
 * @throws {SyntaxError} For the first byte at fault: the end of the bytes or
 * a status byte inside an unfinished message, a data byte with no status
 * byte, an undefined status byte (F4, F5, F9, FD), or a stray F7.
 */
function checkWhole(bytes: Uint8Array, text: string): void {
  const parser = new MidiParser(WHOLE_PARSER);
  parser.feed(bytes);
  parser.end();
  if (parser.stats.skippedBytes === 0) return;

  // Something was skipped: feed the bytes again one at a time, to find the
  // first byte that the parser skipped or that cut a message short.
  const quoted = JSON.stringify(text);
  const scan = new MidiParser(WHOLE_PARSER);
  let status = 0; // the status byte of the last message begun
  let have = 0; // the data bytes it has
  const unfinished = () => {
    if (status === 0xf0) return "a sysex: no F7";
    const type = statusType(status);
    const missing = encode(message(type)).length - 1 - have;
    return `a ${type}: expected ${missing} more data ${
      missing === 1 ? "byte" : "bytes"
    }`;
  };
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    const before = scan.stats;
    scan.feed(bytes.subarray(i, i + 1));
    const after = scan.stats;
    const at = `${quoted}: byte ${i + 1} (${b.toString(16).padStart(2, "0")})`;
    if (after.discardedMessages > before.discardedMessages) {
      throw new SyntaxError(`${at} cuts short ${unfinished()}`);
    }
    if (after.skippedBytes > before.skippedBytes) {
      if (b < 0x80) {
        throw new SyntaxError(
          `${at} is a data byte with no status byte before it (each message needs its own status byte)`,
        );
      }
      throw new SyntaxError(
        b === 0xf7 ? `${at} ends no sysex` : `${at} is undefined in MIDI 1.0`,
      );
    }
    if (b < 0x80) {
      have++;
    } else if (b < 0xf8) {
      status = b;
      have = 0;
    }
  }
  // Nothing was cut or skipped on the way: the last message is unfinished.
  throw new SyntaxError(`${quoted} ends inside ${unfinished()}`);
}

/** The type of message that a status byte (80..F6) begins. */
function statusType(status: number): MessageType {
  const key = status < 0xf0 ? status & 0xf0 : status;
  return Object.values(TYPES).find((spec) => spec.status === key)!
    .type as MessageType;
}

/** The lines to send: skips blank lines and # comments. */
function isContent(line: string): boolean {
  const text = line.trim();
  return text !== "" && !text.startsWith("#");
}

async function serve(
  args: string[],
  options: MainOptions,
  out: Lines,
  err: Lines,
): Promise<number> {
  const { values, positionals } = parseCommand("serve", args, {
    options: {
      relay: { type: "boolean" },
      json: { type: "boolean" },
      quiet: { type: "boolean", short: "q" },
      "max-sysex": { type: "string" },
      allow: { type: "string", multiple: true },
      "max-clients": { type: "string" },
      "no-sysex": { type: "boolean" },
      snapshot: { type: "boolean" },
      "no-release": { type: "boolean" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      "token-file": { type: "string" },
      nats: { type: "string", multiple: true },
      bus: { type: "string" },
      hub: { type: "string" },
      "nats-token-file": { type: "string" },
      "nats-user": { type: "string" },
      "nats-pass-file": { type: "string" },
      "nats-creds": { type: "string" },
      "nats-ca": { type: "string" },
      out: { type: "string", multiple: true },
      virtual: { type: "string", multiple: true },
      web: { type: "string" },
      "web-origin": { type: "string", multiple: true },
      "web-host": { type: "string", multiple: true },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    await out.write(SERVE_HELP);
    return 0;
  }
  const { host, port } = address(
    onePositional("serve", positionals, "localhost:8080"),
    false,
  );
  const maxSysexBytes = values["max-sysex"] === undefined
    ? undefined
    : wholeNumber("--max-sysex", values["max-sysex"], "bytes");
  const maxClients = values["max-clients"] === undefined
    ? undefined
    : wholeNumber("--max-clients", values["max-clients"], "clients");
  const certFile = values["tls-cert"];
  const keyFile = values["tls-key"];
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new UsageError(
      `--tls-cert and --tls-key go together (see ${PROGRAM} serve --help)`,
    );
  }
  const tls = certFile === undefined ? undefined : {
    cert: await readText("--tls-cert", certFile),
    key: await readText("--tls-key", keyFile!),
  };
  const token = await readToken(values["token-file"]);
  const nats = await natsOptions(values);
  const web = webAddress(
    values.web,
    values["web-origin"],
    values["web-host"],
    host,
  );
  const printer = new Printer(out, !!values.json, !!values.quiet);
  // The MIDI outputs first: a name that matches none fails before the
  // server listens.
  const outputs = await openDevices("output", values.out, values.virtual);
  // Each option is the library's: --relay is PortServer's relay, and so on.
  let server: PortServer;
  try {
    server = new PortServer(host, port, {
      relay: !!values.relay || nats !== undefined,
      maxSysexBytes,
      allow: values.allow,
      maxClients,
      acceptSysex: !values["no-sysex"],
      releaseNotes: !values["no-release"],
      snapshot: !!values.snapshot,
      tls,
      token,
    });
  } catch (error) {
    await closeAll(outputs);
    if (error instanceof SyntaxError) throw usage(error, "serve");
    throw error;
  }
  // The browser gateway, beside the TCP port: its WebSockets are clients.
  let gateway: WebGateway | undefined;
  if (web) {
    try {
      gateway = new WebGateway(server, { ...web, tls });
    } catch (error) {
      await server.close();
      if (error instanceof SyntaxError) throw usage(error, "serve");
      throw error;
    }
    gateway.addEventListener("reject", (event) => printer.reject(event));
  }
  // Read from the start, so that every message is printed (and relayed).
  const messages = server.withPorts();
  const stop = () => Promise.all([server.close(), gateway?.close()]);
  const removeStop = onStop(stop, options.signal);
  out.onError = stop;

  // A client's disconnect line comes after its last message, and after
  // the messages that release its notes: the messages printed (or
  // filtered) so far for each client, the releases, and the disconnects
  // that wait for the rest of their messages.
  const printed = new Map<SocketPort, number>();
  const releases = new Map<SocketPort, ReleaseEvent>();
  const leaving = new Map<SocketPort, { messages: number; line(): void }>();
  const count = (client: SocketPort) => {
    const n = (printed.get(client) ?? 0) + 1;
    printed.set(client, n);
    const left = leaving.get(client);
    if (left && n >= left.messages) left.line();
  };
  server.addEventListener("connect", (event) => {
    printed.set(event.port, 0);
    printer.event("connect", event.port.name);
  });
  server.addEventListener("release", (event) => {
    releases.set(event.port, event);
  });
  server.addEventListener("disconnect", (event) => {
    const client = event.port;
    const line = () => {
      printed.delete(client);
      leaving.delete(client);
      const release = releases.get(client);
      releases.delete(client);
      if (release) printer.release(release);
      printer.event("disconnect", client.name, event.droppedBytes || undefined);
    };
    // The server took event.messages of it, all told.
    if ((printed.get(client) ?? 0) >= event.messages) line();
    else leaving.set(client, { messages: event.messages, line });
  });
  server.addEventListener("slowclient", (event) => {
    printer.event("slowclient", event.port.name, event.droppedBytes);
  });
  server.addEventListener("drop", (event) => printer.drop(event));
  server.addEventListener("accepterror", (event) => {
    printer.acceptError(event.error ?? event.message);
  });
  server.addEventListener("reject", (event) => printer.reject(event));
  server.addEventListener("hello", (event) => printer.hello(event.port));
  server.addEventListener("filtered", (event) => {
    printer.filtered(event);
    count(event.port); // it will not be printed
  });

  let bridge: NatsBridge | undefined;
  if (nats) {
    const { startBridge } = await natsModule();
    try {
      bridge = await startBridge(server, nats, printer.line.bind(printer));
    } catch (error) {
      removeStop();
      await stop();
      await closeAll(outputs);
      if (error instanceof RangeError) throw usage(error, "serve");
      throw error;
    }
  }
  try {
    await err.write(
      `${PROGRAM}: listening on ${
        server.addrs.map((a) => formatAddress(a.hostname, a.port)).join(", ")
      }`,
    );
    if (gateway) {
      await err.write(`${PROGRAM}: web page at ${gateway.url}`);
      // On every interface, the gateway answers to this machine's
      // addresses only where Deno lets it read them.
      const everywhere = gateway.addrs.some((a) =>
        a.hostname === "0.0.0.0" || a.hostname === "::"
      );
      const sys = { name: "sys", kind: "networkInterfaces" } as const;
      if (everywhere && Deno.permissions.querySync(sys).state !== "granted") {
        await err.write(
          `${PROGRAM}: warning: the web page answers only to localhost, 127.0.0.1, [::1] and --web-host names; run with --allow-sys=networkInterfaces to let it answer to this machine's addresses`,
        );
      }
    }
    const open = !values.allow && token === undefined;
    if (open && server.addrs.some((a) => !isLoopback(a.hostname))) {
      await err.write(
        `${PROGRAM}: warning: anyone who can reach this port can play on the bus; give --allow or a token to say who may`,
      );
    }
    if (outputs.length > 0) {
      await err.write(`${PROGRAM}: playing the bus on ${names(outputs)}`);
    }
    // Ends when the server is closed and everything it had is printed.
    for await (const { port: client, message } of messages) {
      await printer.message(client.name, message);
      if (outputs.length > 0) await play(outputs, message, printer);
      count(client);
    }
  } finally {
    removeStop();
    await bridge?.close();
    await Promise.all([server.close(), gateway?.close()]);
    for (const left of [...leaving.values()]) left.line();
    await closeAll(outputs); // each releases the notes it holds
  }
  return stdoutStatus(out);
}

/**
 * Where serve's --web listens: `[HOST:]PORT`, the host by default the
 * server's; the other origins its WebSocket lets in (--web-origin); and
 * the other names it answers to (--web-host).
 */
function webAddress(
  text: string | undefined,
  origins: string[] | undefined,
  hosts: string[] | undefined,
  serverHost: string,
):
  | { hostname: string; port: number; origins?: string[]; hosts?: string[] }
  | undefined {
  if (text === undefined) {
    for (const [flag, given] of [["origin", origins], ["host", hosts]]) {
      if (given !== undefined) {
        throw new UsageError(
          `--web-${flag} needs --web (see ${PROGRAM} serve --help)`,
        );
      }
    }
    return undefined;
  }
  let parsed;
  try {
    parsed = parseAddress(/^\d+$/.test(text) ? `:${text}` : text, {
      defaultHost: serverHost,
    });
  } catch (error) {
    throw new UsageError(`Invalid --web address: ${oneLine(error)}`);
  }
  return { hostname: parsed.host, port: parsed.port, origins, hosts };
}

/** The options that connect with TLS: monitor's and send's. */
const TLS_CLIENT_OPTIONS = {
  tls: { type: "boolean" },
  ca: { type: "string" },
  "token-file": { type: "string" },
  name: { type: "string" },
} as const;

/**
 * The token: from --token-file FILE (its first line), or else from the
 * MIDISOCK_TOKEN environment variable; never from the command line, where
 * ps would show it.
 */
function readToken(file: string | undefined): Promise<string | undefined> {
  return readSecret("--token-file", file, "MIDISOCK_TOKEN");
}

/**
 * A secret (a token, a password): the first line of the option's FILE, or
 * else the environment variable `env`; never an argument, which ps shows.
 */
async function readSecret(
  option: string,
  file: string | undefined,
  env: string,
): Promise<string | undefined> {
  if (file === undefined) return Deno.env.get(env) || undefined;
  const text = (await readText(option, file)).split(/\r?\n/)[0];
  if (text === "") {
    throw new Error(`Cannot use ${option} ${file}: its first line is empty`);
  }
  return text;
}

/** The NATS options of serve, or undefined without --nats. */
async function natsOptions(values: {
  nats?: string[];
  bus?: string;
  hub?: string;
  "nats-token-file"?: string;
  "nats-user"?: string;
  "nats-pass-file"?: string;
  "nats-creds"?: string;
  "nats-ca"?: string;
}): Promise<NatsBridgeOptions | undefined> {
  if (values.nats === undefined) {
    const given = Object.entries(values).find(([k, v]) =>
      (k === "bus" || k === "hub" || k.startsWith("nats-")) && v !== undefined
    );
    if (given) throw new UsageError(`--${given[0]} needs --nats URL`);
    return undefined;
  }
  if (values.bus === undefined) {
    throw new UsageError(
      `--nats needs --bus NAME (see ${PROGRAM} serve --help)`,
    );
  }
  const user = values["nats-user"];
  const pass = user === undefined ? undefined : await readSecret(
    "--nats-pass-file",
    values["nats-pass-file"],
    "MIDISOCK_NATS_PASS",
  );
  const ca = values["nats-ca"] === undefined
    ? undefined
    : await readText("--nats-ca", values["nats-ca"]);
  return {
    servers: values.nats,
    bus: values.bus,
    hub: values.hub,
    token: await readSecret(
      "--nats-token-file",
      values["nats-token-file"],
      "MIDISOCK_NATS_TOKEN",
    ),
    user,
    pass,
    credsFile: values["nats-creds"],
    tls: ca === undefined ? undefined : { ca },
  };
}

/** The hello line for monitor and send: --name and the token, if any. */
async function clientHello(
  values: { name?: string; "token-file"?: string },
): Promise<{ name?: string; token?: string } | undefined> {
  const token = await readToken(values["token-file"]);
  if (values.name === undefined && token === undefined) return undefined;
  return { name: values.name, token };
}

/** TLS for connect(), from --tls and --ca FILE (which implies --tls). */
async function clientTls(
  values: { tls?: boolean; ca?: string },
): Promise<DialTls | undefined> {
  if (values.ca !== undefined) {
    return { caCerts: [await readText("--ca", values.ca)] };
  }
  return values.tls ? true : undefined;
}

/** A file's text, for an option; a failure names the option and the file. */
async function readText(option: string, path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    throw new Error(`Cannot read ${option} ${path}: ${oneLine(error)}`);
  }
}

/** How monitor and send connect: TLS, and the hello line. */
interface Link {
  tls?: DialTls;
  hello?: { name?: string; token?: string };
}

/** A whole number, for an option such as --max-sysex. */
function wholeNumber(option: string, text: string, of: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) {
    throw new UsageError(
      `Invalid ${option} ${
        JSON.stringify(text)
      }: expected a whole number of ${of} (see ${PROGRAM} serve --help)`,
    );
  }
  return n;
}

/** Whether a listening address is a loopback one (or every interface: no). */
function isLoopback(hostname: string): boolean {
  return hostname === "::1" || /^127\./.test(hostname);
}

/** 0, or 1 if stdout failed for a reason other than a closed pipe. */
function stdoutStatus(out: Lines): number {
  if (out.error && !(out.error instanceof Deno.errors.BrokenPipe)) {
    throw new Error(`Cannot write to stdout: ${oneLine(out.error)}`);
  }
  return 0;
}

async function monitor(
  args: string[],
  options: MainOptions,
  out: Lines,
): Promise<number> {
  const { values, positionals } = parseCommand("monitor", args, {
    options: {
      json: { type: "boolean" },
      "no-reconnect": { type: "boolean" },
      ...TLS_CLIENT_OPTIONS,
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    await out.write(MONITOR_HELP);
    return 0;
  }
  const { host, port } = address(onePositional("monitor", positionals), true);
  const printer = new Printer(out, !!values.json);
  const link = {
    tls: await clientTls(values),
    hello: await clientHello(values),
  };
  const server = values["no-reconnect"]
    ? await connect(host, port, link)
    : await connect(host, port, { ...link, reconnect: true });
  const removeStop = onStop(() => server.close(), options.signal);
  out.onError = () => server.close();
  printer.drops(server);
  if (server instanceof ReconnectingPort) printer.watch(server, true, true);
  try {
    await printer.event("connect", server.name);
    for await (const msg of server) await printer.message(server.name, msg);
    printer.flush();
    if (!(server instanceof ReconnectingPort)) {
      await printer.event("disconnect", server.name);
    }
  } finally {
    removeStop();
    await server.close();
  }
  return stdoutStatus(out);
}

/** Reads and discards what a server sends, so that it never piles up. */
async function discard(port: SocketPort | ReconnectingPort): Promise<void> {
  for await (const _ of port) {
    // Nothing: send only sends.
  }
}

async function send(
  args: string[],
  options: MainOptions,
  out: Lines,
  err: Lines,
): Promise<number> {
  const { values, positionals } = parseCommand("send", args, {
    options: {
      hex: { type: "boolean" },
      "no-reconnect": { type: "boolean" },
      ...TLS_CLIENT_OPTIONS,
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    await out.write(SEND_HELP);
    return 0;
  }
  if (positionals.length === 0) {
    throw new UsageError(
      `send needs an address, such as localhost:8080 (see ${PROGRAM} send --help)`,
    );
  }
  const { host, port } = address(positionals[0], true);
  const hex = !!values.hex;
  // Arguments are checked before anything is sent.
  const items = positionals.slice(1).map((text, i) => {
    try {
      return hex ? parseHex(text) : parseMessage(text);
    } catch (error) {
      throw new UsageError(`message ${i + 1}: ${oneLine(error)}`);
    }
  });
  const stdin = items.length === 0
    ? options.stdin ?? Deno.stdin.readable
    : undefined;
  const link = {
    tls: await clientTls(values),
    hello: await clientHello(values),
  };
  return hex
    ? await sendBytes(host, port, items as Uint8Array[], stdin, link)
    : await sendMessages(host, port, items as Message[], stdin, {
      ...link,
      // Reading stdin, it stays connected: it reconnects, and says so on
      // stderr.
      reconnect: stdin !== undefined && !values["no-reconnect"]
        ? new Printer(err, false)
        : undefined,
    });
}

async function sendMessages(
  host: string,
  port: number,
  messages: Message[],
  stdin: ReadableStream<Uint8Array> | undefined,
  link: Link & { reconnect?: Printer },
): Promise<number> {
  const { reconnect: printer, ...options } = link;
  const server = printer
    ? await connect(host, port, { ...options, reconnect: true })
    : await connect(host, port, options);
  if (printer && server instanceof ReconnectingPort) {
    printer.watch(server, false);
  }
  const discarding = discard(server);
  let failure: unknown;
  try {
    for (const msg of messages) await server.send(msg);
    if (stdin) {
      for await (const [n, line] of readLines(stdin)) {
        if (!isContent(line)) continue;
        let msg: Message;
        try {
          msg = parseMessage(line);
        } catch (error) {
          throw new Error(`line ${n}: ${oneLine(error)}`);
        }
        await server.send(msg);
      }
    }
  } catch (error) {
    failure = error;
  }
  await server.close(); // writes what is queued first
  await discarding;
  if (failure === undefined && server instanceof ReconnectingPort) {
    const { dropped } = server.stats;
    if (dropped > 0) {
      failure = new Error(
        `Cannot send ${dropped} message${
          dropped === 1 ? "" : "s"
        } to ${server.name}: they came while it was disconnected, and were dropped`,
      );
    }
  }
  const { droppedBytes } = server.stats;
  if (failure === undefined && droppedBytes > 0) {
    failure = new Error(
      `Cannot send to ${server.name}: ${droppedBytes} bytes were not written before the connection closed`,
    );
  }
  if (failure !== undefined) throw failure;
  return 0;
}

async function sendBytes(
  host: string,
  port: number,
  chunks: Uint8Array[],
  stdin: ReadableStream<Uint8Array> | undefined,
  link: Link,
): Promise<number> {
  const name = dialName(host, port);
  // Checked before anything is opened, and sent before the first byte.
  const hello = link.hello ? encodeHello(link.hello) : undefined;
  const conn = await dial(host, port, name, undefined, link.tls);
  if ("setNoDelay" in conn) conn.setNoDelay(true);
  const discarding = (async () => {
    const buf = new Uint8Array(16 * 1024);
    try {
      while (await conn.read(buf) !== null) {
        // Nothing: send only sends.
      }
    } catch {
      // Closed here, or reset: either way there is nothing more to read.
    }
  })();
  const write = async (bytes: Uint8Array) => {
    try {
      for (let off = 0; off < bytes.length;) {
        off += await conn.write(bytes.subarray(off));
      }
    } catch (error) {
      throw new Error(`Cannot send to ${name}: ${oneLine(error)}`);
    }
  };
  let failure: unknown;
  try {
    if (hello) await write(hello);
    for (const bytes of chunks) await write(bytes);
    if (stdin) {
      for await (const [n, line] of readLines(stdin)) {
        if (!isContent(line)) continue;
        let bytes: Uint8Array;
        try {
          bytes = parseHex(line);
        } catch (error) {
          throw new Error(`line ${n}: ${oneLine(error)}`);
        }
        await write(bytes);
      }
    }
    await conn.closeWrite();
  } catch (error) {
    failure = error;
  }
  try {
    conn.close();
  } catch {
    // Already closed.
  }
  await discarding;
  if (failure !== undefined) throw failure;
  return 0;
}

async function run(
  args: string[],
  options: MainOptions,
  out: Lines,
  err: Lines,
): Promise<number> {
  const { tokens } = parseArgs({
    args,
    options: {},
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  const first = tokens.find((token) => token.kind === "positional");
  const end = first?.index ?? args.length;
  let values;
  try {
    ({ values } = parseArgs({
      args: args.slice(0, end),
      options: {
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "V" },
      },
      strict: true,
    }));
  } catch (error) {
    throw usage(error);
  }
  if (values.help) {
    await out.write(HELP);
    return 0;
  }
  if (values.version) {
    await out.write(`${PROGRAM} ${VERSION}`);
    return 0;
  }
  if (first === undefined) {
    throw new UsageError(
      `Missing command: serve, monitor, send, ports or connect (see ${PROGRAM} --help)`,
    );
  }
  const rest = args.slice(end + 1);
  switch (first.value) {
    case "serve":
      return await serve(rest, options, out, err);
    case "monitor":
      return await monitor(rest, options, out);
    case "send":
      return await send(rest, options, out, err);
    case "ports":
      return await ports(rest, out);
    case "connect":
      return await connectDevices(rest, options, out, err);
    default:
      throw new UsageError(
        `Unknown command ${
          JSON.stringify(first.value)
        }: expected serve, monitor, send, ports or connect (see ${PROGRAM} --help)`,
      );
  }
}

// Local MIDI devices: `ports`, `connect`, and serve's --out and --virtual.
// The device module (and with it RtMidi, and the need for --allow-ffi) is
// loaded only when one of them is used.

/**
 * serve's NATS bridge, loaded only with --nats, by a variable specifier as
 * the device module is: a user who never gives --nats never downloads npm
 * @nats-io/nats-core.
 */
const NATS_MODULE = "./nats.ts";
function natsModule(): Promise<typeof import("./nats.ts")> {
  return import(NATS_MODULE);
}

/**
 * The device module, loaded on first use. Its specifier is a variable, so
 * that Deno does not take it (and npm @julusian/midi with it) into the
 * program's graph: a user who never uses a MIDI port never downloads it.
 */
const DEVICE_MODULE = "../device/mod.ts";
function deviceModule(): Promise<typeof import("../device/mod.ts")> {
  return import(DEVICE_MODULE);
}

/** The names of ports, quoted, for a line on stderr. */
function names(ports: readonly DevicePort[]): string {
  return ports.map((port) => JSON.stringify(port.name)).join(", ");
}

/**
 * Opens the MIDI ports that the options name (each NAME, then each virtual
 * NAME), or none. If one fails, those opened are closed.
 */
async function openDevices(
  kind: "input" | "output",
  named: string[] | undefined,
  virtual: string[] | undefined,
): Promise<DevicePort[]> {
  const wanted = [
    ...(named ?? []).map((name) => ({ name, virtual: false })),
    ...(virtual ?? []).map((name) => ({ name, virtual: true })),
  ];
  if (wanted.length === 0) return [];
  const device = await deviceModule();
  const open = kind === "input" ? device.openInput : device.openOutput;
  const ports: DevicePort[] = [];
  try {
    for (const { name, virtual } of wanted) {
      ports.push(await open(name, { virtual }));
    }
  } catch (error) {
    await closeAll(ports);
    throw error;
  }
  return ports;
}

/** Closes ports (an output releases the notes it holds first). */
async function closeAll(ports: readonly DevicePort[]): Promise<void> {
  for (const port of ports) await port.close();
}

/** Plays a message on each output; one that fails is printed, not fatal. */
async function play(
  outputs: readonly DevicePort[],
  msg: Message,
  printer: Printer,
): Promise<void> {
  for (const output of outputs) {
    try {
      await output.send(msg);
    } catch (error) {
      await printer.outputError(output.name, msg.type, error);
    }
  }
}

async function ports(args: string[], out: Lines): Promise<number> {
  const { values, positionals } = parseCommand("ports", args, {
    options: {
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    await out.write(PORTS_HELP);
    return 0;
  }
  if (positionals.length > 0) {
    throw new UsageError(
      `ports takes no arguments, got ${
        positionals.map((p) => JSON.stringify(p)).join(" ")
      } (see ${PROGRAM} ports --help)`,
    );
  }
  const device = await deviceModule();
  const inputs = await device.listInputs();
  const outputs = await device.listOutputs();
  if (values.json) {
    await out.write(JSON.stringify({ inputs, outputs }));
  } else {
    const list = (ports: string[]) =>
      ports.length === 0 ? ["  (none)"] : ports.map((name) => `  ${name}`);
    for (
      const line of ["Inputs:", ...list(inputs), "Outputs:", ...list(outputs)]
    ) {
      await out.write(line);
    }
  }
  return stdoutStatus(out);
}

async function connectDevices(
  args: string[],
  options: MainOptions,
  out: Lines,
  err: Lines,
): Promise<number> {
  const { values, positionals } = parseCommand("connect", args, {
    options: {
      in: { type: "string", multiple: true },
      out: { type: "string", multiple: true },
      virtual: { type: "string", multiple: true },
      "no-reconnect": { type: "boolean" },
      ...TLS_CLIENT_OPTIONS,
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    await out.write(CONNECT_HELP);
    return 0;
  }
  const { host, port } = address(onePositional("connect", positionals), true);
  if (!values.in && !values.out && !values.virtual) {
    throw new UsageError(
      `connect needs a MIDI port: --in NAME, --out NAME or --virtual NAME (see ${PROGRAM} connect --help)`,
    );
  }
  const link = {
    tls: await clientTls(values),
    hello: await clientHello(values),
  };
  const printer = new Printer(out, false);
  const device = await deviceModule();
  const inputs = await openDevices("input", values.in, values.virtual);
  let outputs: DevicePort[] = [];
  let server: SocketPort | ReconnectingPort;
  try {
    outputs = await openDevices("output", values.out, undefined);
    server = values["no-reconnect"]
      ? await connect(host, port, link)
      : await connect(host, port, { ...link, reconnect: true });
  } catch (error) {
    await closeAll(inputs);
    await closeAll(outputs);
    throw error;
  }
  const removeStop = onStop(() => server.close(), options.signal);
  out.onError = () => server.close();
  // Messages played while disconnected, printed once connected again.
  let reported = 0;
  const dropped = () => {
    if (!(server instanceof ReconnectingPort)) return;
    const n = server.stats.dropped - reported;
    if (n === 0) return;
    reported += n;
    printer.dropped(server.name, n);
  };
  printer.drops(server);
  if (server instanceof ReconnectingPort) {
    printer.watch(server);
    server.addEventListener("reconnect", dropped);
  }
  for (const input of inputs) {
    input.addEventListener("drop", (event) => printer.drop(event));
    input.addEventListener("overflow", () => {
      printer.overflow(input.name, input.stats.overflowedMessages);
    });
  }
  try {
    await printer.event("connect", server.name);
    if (inputs.length > 0) {
      await err.write(
        `${PROGRAM}: playing ${names(inputs)} into ${server.name}`,
      );
    }
    if (outputs.length > 0) {
      await err.write(
        `${PROGRAM}: playing ${server.name} on ${names(outputs)}`,
      );
    }
    // Until the connection ends; the outputs let go of their notes then.
    await device.bridge(server, {
      inputs,
      outputs,
      onOutputError: (error, output, msg) => {
        printer.outputError(output.name, msg.type, error);
      },
    });
    // A reconnecting port prints its own # disconnect line.
    if (!(server instanceof ReconnectingPort)) {
      await printer.event("disconnect", server.name);
    }
  } finally {
    removeStop();
    await server.close();
    dropped();
    await closeAll(inputs);
    await closeAll(outputs);
  }
  return stdoutStatus(out);
}

/**
 * Runs the `midisock` program: `serve`, `monitor` or `send`, with `--help`
 * and `--version`. Errors are printed as one line on stderr, starting with
 * `midisock: error: `, and give a non-zero status: 2 for a usage error (a
 * bad command, option, address or message argument), 1 for a runtime error
 * (a refused connection, an address in use, a bad line on stdin).
 *
 * `serve` and `monitor` run until Ctrl-C (SIGINT), SIGTERM, or until
 * `options.signal` aborts; `monitor` also ends when the server closes the
 * connection.
 *
 * @param args The arguments, without the program's name (as `Deno.args`).
 * @param options Where to read and write, and a signal to stop.
 * @returns The exit status: 0, 1 or 2.
 *
 * @example Printing the version
 * ```ts
 * import { main } from "@x/midisock/cli";
 * import assert from "node:assert/strict";
 *
 * let text = "";
 * const stdout = new WritableStream<Uint8Array>({
 *   write(chunk) {
 *     text += new TextDecoder().decode(chunk);
 *   },
 * });
 * assert.equal(await main(["--version"], { stdout }), 0);
 * assert.match(text, /^midisock \d+\.\d+\.\d+\n$/);
 * ```
 *
 * @example Running a server until a signal stops it
 * ```ts
 * import { main } from "@x/midisock/cli";
 * import { connect, message } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * // Each write of main() is whole lines.
 * const collect = (each: (line: string) => void) =>
 *   new WritableStream<Uint8Array>({
 *     write(chunk) {
 *       new TextDecoder().decode(chunk).trimEnd().split("\n").forEach(each);
 *     },
 *   });
 * const listening = Promise.withResolvers<number>();
 * const disconnected = Promise.withResolvers<void>();
 * const lines: string[] = [];
 * const stop = new AbortController();
 * const serving = main(["serve", "127.0.0.1:0"], {
 *   stdout: collect((line) => {
 *     lines.push(line);
 *     if (line.startsWith("# disconnect")) disconnected.resolve();
 *   }),
 *   stderr: collect((line) => {
 *     const port = line.match(/listening on .*:(\d+)$/)?.[1];
 *     if (port) listening.resolve(Number(port));
 *   }),
 *   signal: stop.signal,
 * });
 *
 * const client = await connect("127.0.0.1", await listening.promise);
 * const name = `127.0.0.1:${client.localAddr.port}`;
 * await client.send(message("note_on", { note: 60, velocity: 100 }));
 * await client.close(); // with the note still on
 * await disconnected.promise;
 * stop.abort();
 * assert.equal(await serving, 0);
 * assert.deepEqual(lines, [
 *   `# connect ${name}`,
 *   `${name} note_on channel=0 note=60 velocity=100 time=0`,
 *   `${name} note_off channel=0 note=60 velocity=64 time=0`,
 *   `# released 1 note for ${name}`,
 *   `# disconnect ${name}`,
 * ]);
 * ```
 */
export async function main(
  args: string[],
  options: MainOptions = {},
): Promise<number> {
  const out = new Lines(options.stdout ?? Deno.stdout.writable);
  const err = new Lines(options.stderr ?? Deno.stderr.writable);
  try {
    return await run(args, options, out, err);
  } catch (error) {
    await err.write(`${PROGRAM}: error: ${oneLine(error)}`);
    return error instanceof UsageError ? 2 : 1;
  } finally {
    await out.close();
    await err.close();
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
