// Copyright 2026 the midisock authors. MIT license.
// The program's name and version, and the help texts of `midisock --help`
// and of each `midisock COMMAND --help`.

import denoJson from "../../deno.json" with { type: "json" };

/** The program's version, from deno.json. */
export const VERSION: string = denoJson.version;
/** The program's name, as its messages give it. */
export const PROGRAM = "midisock";

/** The widest line of a help text. */
const WIDTH = 79;
/** Where an option's description starts, in every help text. */
const OPTIONS = 21;
/** Where an event line's description starts. */
const EVENTS = 29;

/** No line breaks here: `text` with its spaces made non-breaking. */
function keep(text: string): string {
  return text.replaceAll(" ", NBSP);
}
const NBSP = "\u00a0";

/**
 * The words of `text`, in lines of at most `width` characters. An event's
 * name stays with its #, and a piece of {@linkcode keep} stays whole.
 */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  const words = text.replace(/# (?=[a-z])/g, `#${NBSP}`).split(/[ \t\n]+/);
  for (const word of words.filter((w) => w !== "")) {
    if (line === "") line = word;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line !== "") lines.push(line);
  return lines.map((line) => line.replaceAll(NBSP, " "));
}

/**
 * A list of terms (options, event lines, commands) and what each means:
 * each term indented by two, each description wrapped to WIDTH and starting
 * at `column`; a term that reaches the column stands on a line of its own
 * (and one wider than WIDTH goes on, indented by four). So every
 * description of a list starts at the same column.
 */
function list(items: readonly [string, string][], column: number): string {
  const pad = " ".repeat(column);
  const lines: string[] = [];
  for (const [term, text] of items) {
    const [first, ...rest] = wrap(text, WIDTH - column);
    const head = `  ${term}`;
    if (head.length + 2 <= column) lines.push(head.padEnd(column) + first);
    else {
      const [top, ...more] = wrap(term, WIDTH - 4);
      lines.push(`  ${top}`, ...more.map((line) => `    ${line}`), pad + first);
    }
    for (const line of rest) lines.push(pad + line);
  }
  return lines.join("\n");
}

/** A heading, then a list of options under it. */
function options(heading: string, items: readonly [string, string][]): string {
  return `${heading}\n${list(items, OPTIONS)}`;
}

const HELP_OPTION: [string, string] = ["-h, --help", "Print this help"];

/** `midisock --help`. */
export const HELP: string =
  `${PROGRAM} ${VERSION}: MIDI over TCP, wire-compatible with Python mido's socket ports

Usage:
  ${PROGRAM} serve [HOST:PORT] [--relay] [--json] [--quiet] [OPTION...]
  ${PROGRAM} monitor HOST:PORT [--json] [--no-reconnect] [--tls] [--ca FILE]
  ${PROGRAM} send HOST:PORT [--hex] [--tls] [--ca FILE] [MESSAGE...]
  ${PROGRAM} record HOST:PORT FILE.mid [--ppq N] [--bpm N] [--duration S]
  ${PROGRAM} play HOST:PORT FILE.mid [--speed X] [--loop]
  ${PROGRAM} ping HOST:PORT [--count N] [--interval MS] [-v]
  ${PROGRAM} ports [--json]
  ${PROGRAM} connect HOST:PORT [--in NAME]... [--out NAME]... [--virtual NAME]...
  ${PROGRAM} discover [--json] [--timeout SECONDS] [--kind KIND]...
  ${PROGRAM} COMMAND --help
  ${PROGRAM} --help | --version

Commands:
${
    list([
      ["serve", "Run a server and print what each client sends"],
      ["monitor", "Connect to a server and print what it sends"],
      ["send", "Connect to a server and send messages"],
      ["record", "Connect to a server and keep what it sends in a MIDI file"],
      ["play", "Connect to a server and play a MIDI file into it, on time"],
      ["ping", "Measure the round trip to a server, and its jitter"],
      ["ports", "List this machine's MIDI inputs and outputs"],
      [
        "connect",
        "Play local MIDI inputs into a server, and a server on local MIDI outputs (serve --out plays a server's bus on outputs)",
      ],
      ["discover", "List the MIDI services that answer on the LAN (Bonjour)"],
    ], 11)
  }

An address is HOST:PORT, [IPV6]:PORT or :PORT; the host defaults to
localhost. It may also be rtp://HOST[:PORT] (port 5004 by default), which
invites an RTP-MIDI session (a Mac, rtpMIDI, rtpmidid; --name is its
session name), ipmidi://N (ipMIDI port N, 1 to 20), or the name of a
service that answers on the LAN, as NAME or mdns:NAME (see ${PROGRAM}
discover). A MIDI port NAME is its whole name, or a piece of it, in any
case, that no other port's name has (see ${PROGRAM} ports). The commands
and options that use MIDI ports need --allow-ffi --allow-read --allow-env.
A message is in mido's text format, such as
"note_on channel=0 note=60 velocity=100"; missing fields take mido's
defaults.

Exit status:
${
    list([
      [
        "0",
        "success; serve and monitor also exit 0 on Ctrl-C (SIGINT) or SIGTERM",
      ],
      [
        "1",
        "runtime error: a refused connection, an address in use, a bad message line on stdin, a connection that failed while send was sending",
      ],
      [
        "2",
        "usage error: an unknown command or option, a bad address, a bad message argument",
      ],
    ], 5)
  }`;

/** serve's event lines. */
const SERVE_EVENTS: [string, string][] = [
  ["# connect NAME", "a client came"],
  [
    "# disconnect NAME",
    `it left, after its last message (with ${
      keep('" dropped=BYTES"')
    } if bytes queued for it were never written)`,
  ],
  [
    "# slowclient NAME dropped=BYTES",
    "it fell too far behind and was cut off; the same count as on its disconnect line",
  ],
  [
    "# drop NAME skipped=BYTES discarded=N oversized=N",
    "bytes from it made no message: garbage, N messages cut short (by a status byte, or by the client leaving in the middle of one), N sysex messages over --max-sysex",
  ],
  [
    "# lost N messages from NAME",
    "messages the client sent that the server read too late to deliver (a write to the client failed first, and the reader fell behind), printed before its # disconnect line",
  ],
  [
    "# hello ADDRESS NAME",
    "a client taken in by its address named itself in a hello line; lines after it use NAME (on a server with a token, a client is named before it is taken in, on its # connect line)",
  ],
  [
    "# reject ADDRESS REASON",
    "a client was turned away, and nothing it sent was delivered: not on the --allow list, over --max-clients or --max-pending, a failed TLS handshake, no hello line with the token, a TLS client on a plaintext port, an HTTP request on a MIDI port. A client whose hello line asks for it (monitor and send do) is told why",
  ],
  [
    "# released N notes for NAME",
    `NAME left with N notes on (and with ${
      keep('" and P pedals"')
    } if it left sustain pedals down); the server sent their note_offs (and ${
      keep("CC 64 = 0")
    }) for it, printed before its # disconnect line`,
  ],
  [
    "# filtered NAME TYPE REASON",
    "a client's message was not delivered: a sysex with --no-sysex",
  ],
  [
    "# accepterror ERROR",
    "a connection failed before it was accepted (such as a port scanner's reset); the server goes on",
  ],
  [
    "# outputerror NAME TYPE ERROR",
    "a message could not be played on the MIDI output NAME (such as a sysex too long for it)",
  ],
];

/** serve's event lines about NATS. */
const NATS_EVENTS: [string, string][] = [
  ["# nats connected bus=NAME hub=ID", "the hub joined the bus"],
  [
    "# nats disconnected [ERROR]",
    "the link to NATS is lost; the hub goes on serving its own clients, and releases the other hubs' notes for them",
  ],
  ["# nats reconnecting attempt=N delay=MSms", "it dials NATS again"],
  [
    "# nats reconnected attempts=N downtime=MSms dropped=N",
    "the bus is back; N MIDI messages that this hub's clients sent meanwhile were lost",
  ],
  [
    "# nats dropped hub=ID messages=N droppedBytes=BYTES reason=WHY",
    "N messages of this hub's clients never went out (WHY: down, the link was down; unwritten, it was lost first; slow, NATS took them too slowly and the hub cut the bridge off; closed)",
  ],
  ["# hubjoin ID", "another hub was heard"],
  [
    "# hubleave ID REASON released=N",
    "it is gone (REASON: bye, timeout after 3 s without a heartbeat, disconnect); N of its notes were released here",
  ],
  [
    "# hubgap ID lost=N [lostBatches=N] [overflowed=N] released=N",
    "messages of it were lost on the way (N MIDI messages, or NATS messages of unknown size from an older hub), or dropped here while this hub was 1 MiB behind; N of its notes were released here",
  ],
  [
    "# nats closed published=N received=N dropped=N droppedBytes=BYTES hubDropped=N lost=N lostBatches=N overflowed=N ignored=N",
    "the bridge closed (the server stops): MIDI messages published and received, this hub's not published (and their bytes), dropped by the hub for the bridge, other hubs' lost on the way (and NATS messages of unknown size), dropped here while 1 MiB behind, and NATS messages not taken (a hub id that is not its subject's, or late). Every message that does not reach a hub is on one of these lines, on the hub that could know it, in MIDI messages",
  ],
];

/** The event lines of serve --rtp. */
const RTP_EVENTS: [string, string][] = [
  [
    "# recovery NAME recovered=N lost=N total=N",
    "packets from the participant NAME were lost, and the next packet's recovery journal gave back N messages (the lost note_offs, pedals, controllers and programs), played before its own",
  ],
  [
    "# badpacket ADDRESS [NAME] REASON",
    "a malformed datagram, or one of no session, counted and skipped; the sessions go on",
  ],
  [
    "# overflow NAME REASON",
    "messages from NAME dropped because the server fell 1 MiB behind reading them",
  ],
  [
    "# rtpdropped NAME REASON",
    "something from NAME was given up that was not a bad packet: a sysex over the size limit or cut by lost packets, or lost packets that no recovery journal covered (a peer that sends none)",
  ],
  [
    "# rtprefused ADDRESS [NAME: ]REASON",
    "an invitation answered NO (an IN on the data port with none on the control port first), or left half-open and given up for a newer one (more than 64 waiting), counted",
  ],
  [
    "# unprinted N lines of RTP events: ...",
    "while stdout was behind, N of the lines above were counted rather than queued (a flood of datagrams cannot fill the memory with lines)",
  ],
  [
    "# rtpend NAME reason=bye|timeout|closed packets=N lost=N recovered=N bad=N late=N",
    "the session ended: the peer said BY, went silent for 70 s, or was closed; with its counts (its # disconnect line follows)",
  ],
];

/** `midisock serve --help`. */
export const SERVE_HELP: string =
  `Usage: ${PROGRAM} serve [HOST:PORT] [--relay] [--snapshot] [--no-release]
         [--max-sysex BYTES] [--json] [--quiet] [--record FILE.mid]
         [--allow CIDR]... [--max-clients N] [--max-pending N] [--no-sysex]
         [--token-file FILE] [--tls-cert FILE --tls-key FILE]
         [--out NAME]... [--virtual NAME]...
         [--web [HOST:]PORT [--web-origin ORIGIN]... [--web-host NAME]...]
         [--nats URL... --bus NAME [--hub ID] [NATS OPTION...]]
         [--rtp [HOST:]PORT [--rtp-name NAME]]
         [--ipmidi [N] [--ipmidi-interface ADDR]] [--advertise [NAME]]
         [--midi2 [HOST:]PORT [NETWORK MIDI 2.0 OPTION...]]

Runs a socket-port server at HOST:PORT (default localhost:8080; port 0 picks
a free port) and prints each message that a client sends, one a line: the
client's name, then the message in mido's text format:

  127.0.0.1:53412 note_on channel=0 note=60 velocity=100 time=0

localhost means both loopbacks, 127.0.0.1 and ::1. The addresses that the
server listens on go to stderr, as "${PROGRAM}: listening on 127.0.0.1:8080,
[::1]:8080". To listen on every interface, give 0.0.0.0:PORT or [::]:PORT.

Events are lines that start with #:
${list(SERVE_EVENTS, EVENTS)}

Ctrl-C (SIGINT) or SIGTERM stops the server: it closes every client
(sending what is already queued for it first), prints what they had sent
and their "# disconnect" lines, and exits 0; a second signal ends the
program at once.

${
    options("Options:", [
      [
        "--relay",
        "Send each client's messages on to every other client (never back to the sender): a shared MIDI bus",
      ],
      [
        "--snapshot",
        "Send each client that joins (or rejoins) the bus's controller state first: bank, program, controllers and pitchwheel of each channel the bus has carried",
      ],
      [
        "--no-release",
        "Do not release the notes of a client that leaves with notes on or the sustain pedal down (by default the server sends their note_offs and CC 64 = 0 as if the client had, printed as a # released line)",
      ],
      [
        "--max-sysex BYTES",
        "The largest sysex a client may send, in data bytes (default 1048576); a longer one is dropped and printed as a # drop line",
      ],
      [
        "--json",
        'Print JSON lines instead. A message is mido\'s msg.dict() with the sender first, such as {"sender":NAME,"type":"sysex","time":0,"data":[1,2]} (mido\'s snake_case field names, such as frame_type; sysex data as a list). Delete "sender" and mido\'s Message.from_dict() reads it; it rejects unknown keys. An event is {"event":"connect"|"disconnect"|"slowclient", "port":NAME}, with "droppedBytes":BYTES when bytes were dropped; {"event":"drop", "port":NAME, "skippedBytes":.., "discardedMessages":.., "oversizedSysex":..}; {"event":"release", "port":NAME, "notes":N, "pedals":N}; {"event":"reject", "address":.., "reason":..}; {"event":"filtered", "port":NAME, "type":TYPE, "reason":..}; {"event":"accepterror", "error":TEXT}; {"event":"outputerror", "port":NAME, "type":TYPE, "error":TEXT}',
      ],
      ["-q, --quiet", "Print no messages and no events"],
      [
        "--record FILE.mid",
        'Keep what the clients play as a type 1 Standard MIDI File: a tempo track (120 bpm, 480 ticks a beat), then a track for each client, named by it. The file is complete on disk at all times, to within one second; when the server stops, it prints one line: "recorded N messages in S s to FILE (BYTES bytes)"',
      ],
      HELP_OPTION,
    ])
  }

${
    options("Access options (who may join the bus, and what they may send):", [
      [
        "--allow CIDR",
        "Let in only clients from this address or CIDR block, IPv4 or IPv6 (127.0.0.1, 10.0.0.0/8, fd00::/8); give it once for each. Without it anyone may connect, and serve warns on stderr when it listens beyond loopback",
      ],
      [
        "--max-clients N",
        "The most clients at once (default 1024; keep it below the process's file descriptor limit, ulimit -n)",
      ],
      [
        "--max-pending N",
        "The most connections that wait for their TLS handshake or hello line, apart from --max-clients (default 64). Past it, the oldest that has waited 200 ms is closed (a # reject line), and until one has, new connections wait in the system's queue: idle sockets cannot keep out a client with the token",
      ],
      [
        "--no-sysex",
        "Deliver no sysex from clients (a sysex can overwrite a synth's patches); each is a # filtered line",
      ],
      [
        "--token-file FILE",
        "Take in only clients whose hello line carries the token on FILE's first line (monitor and send give it with their own --token-file); without this option, the MIDISOCK_TOKEN environment variable, if set and readable (--allow-env=MIDISOCK_TOKEN). The token is never taken from the command line, where ps would show it",
      ],
      [
        "--tls-cert FILE",
        "Listen with TLS, with the certificate chain in FILE (PEM); give --tls-key too",
      ],
      [
        "--tls-key FILE",
        "The private key of --tls-cert's certificate (PEM). Clients connect with monitor --tls or --ca FILE; a client whose handshake fails is a # reject line",
      ],
    ])
  }

${
    options(
      "MIDI device options (they need --allow-ffi --allow-read --allow-env):",
      [
        [
          "--out NAME",
          "Play every message that clients send on the MIDI output NAME, such as a synth (mido-serve); give it once for each output. When the server stops, each output gets a note_off for each note it holds (and sustain off), so nothing is left sounding",
        ],
        [
          "--virtual NAME",
          "Create a virtual MIDI output NAME that plays the same, for other programs to listen to (not on Windows)",
        ],
      ],
    )
  }

${
    options("Browser options:", [
      [
        "--web [HOST:]PORT",
        `Also serve the browser page at http://HOST:PORT/ and its WebSocket at /ws (the host defaults to the server's): a browser that opens it is one more client, with the same --allow, --max-clients, token and relay. With --tls-cert and --tls-key, the page and the socket are HTTPS and WSS. Its address goes to stderr, as "${PROGRAM}: web page at http://localhost:8081/"`,
      ],
      [
        "--web-origin ORIGIN",
        "Let pages from ORIGIN (such as https://studio.example) open the WebSocket too; give it once for each. A page from any other site is refused, a # reject line",
      ],
      [
        "--web-host NAME",
        "Answer to NAME too (such as studio.local), besides localhost, the loopbacks, the --web host and the addresses it listens on; give it once for each. A request for any other name is refused (DNS rebinding), a # reject line",
      ],
    ])
  }

${
    options("RTP-MIDI options:", [
      [
        "--rtp [HOST:]PORT",
        `Also accept RTP-MIDI (AppleMIDI) invitations on UDP PORT and PORT+1 (the host defaults to the server's; 5004 is the usual port): each Mac, iPhone, rtpMIDI, rtpmidid or AppleMIDI board that joins is one client, named rtp: and its session name, with the same --allow, --max-clients, relay and note release (RTP-MIDI has no token). Its address goes to stderr`,
      ],
      [
        "--rtp-name NAME",
        "The session name that peers show (default midisock)",
      ],
    ])
  }

RTP-MIDI lines:
${list(RTP_EVENTS, EVENTS)}

One bus across machines (--nats implies --relay): hubs that give the same
--bus on the same NATS system are one bus. Each hub's clients hear every
other hub's clients; when a hub goes away (it stops, crashes, or loses its
link to NATS) the others release its notes. Lines:
${list(NATS_EVENTS, EVENTS)}

The bridge is a client of its hub (nats:BUS): if NATS takes bytes in slower
than the clients send, the hub cuts it off (# slowclient nats:BUS), and it
joins again at once (# connect nats:BUS), or on a full hub once its old
connection has closed.

${
    options("NATS options:", [
      [
        "--nats URL",
        "A NATS server, nats://HOST:PORT (or tls://); give it once for each server of a cluster. Run from a checkout (deno run src/cli/main.ts), it needs --allow-read as well: it loads the NATS client then",
      ],
      ["--bus NAME", "The bus (letters, digits, - and _)"],
      ["--hub ID", "This hub's id on the bus (default: a random one)"],
      [
        "--nats-token-file FILE",
        "The NATS token, on FILE's first line (else the MIDISOCK_NATS_TOKEN environment variable, if set and readable: --allow-env=MIDISOCK_NATS_TOKEN)",
      ],
      [
        "--nats-user NAME",
        "A NATS user; give its password with --nats-pass-file",
      ],
      [
        "--nats-pass-file FILE",
        "The password of --nats-user, on FILE's first line (else in MIDISOCK_NATS_PASS, read as MIDISOCK_NATS_TOKEN is)",
      ],
      [
        "--nats-creds FILE",
        "A NATS credentials file (JWT and NKey seed)",
      ],
      [
        "--nats-ca FILE",
        "Dial NATS with TLS, trusting the CAs in FILE (PEM) as well (a tls:// URL, or a server that requires TLS, dials with TLS and the system's CAs alone)",
      ],
    ])
  }

${
    options("LAN options (see docs/lan.md):", [
      [
        "--ipmidi [N]",
        "Join ipMIDI port N (1 to 20, default 1: group 225.0.0.37, UDP port 21928 + N - 1, as ipMIDI and qmidinet use) as one more client of the bus, ipmidi:N; it implies --relay. Each message goes in a datagram of its own, from a port of this server's own; its own datagrams that come back are ignored, and what it hears from the group is never sent back to it",
      ],
      [
        "--ipmidi-interface ADDR",
        "Join the group on, and send from, the interface with this IPv4 address (default: the system's route for 224.0.0.0/4)",
      ],
      [
        "--advertise [NAME]",
        `Publish the server over mDNS/DNS-SD (Bonjour) as NAME (default "midisock on HOSTNAME"; a NAME that looks like HOST:PORT needs --advertise=NAME): the TCP port as _midisock._tcp, with the TXT keys tls=1, token=1 and relay=1 where they hold (never the token), --web's as _http._tcp with path=/, and --midi2's as _midi2._udp with its endpoint name and Product Instance Id. Each goes to stderr, as '${PROGRAM}: advertised "NAME" as _midisock._tcp on port 8080'. On stop it sends goodbyes. It needs --allow-sys=networkInterfaces (and hostname for the default name)`,
      ],
    ])
  }

${
    options("Network MIDI 2.0 options (Windows MIDI Services, UMP over UDP):", [
      [
        "--midi2 [HOST:]PORT",
        `Also be a Network MIDI 2.0 host on UDP PORT (the host defaults to the server's): each remote endpoint that joins is one more client, named ENDPOINT@HOST:PORT, with the same --allow, --max-clients and relay. Its address goes to stderr, as "${PROGRAM}: Network MIDI 2.0 host "midisock" on UDP 127.0.0.1:5673". Lines: # midi2 session NAME, # midi2 end NAME REASON, # midi2 refused ADDRESS REASON, # midi2 drop NAME count=N REASON (what has no MIDI 1.0 form, or was lost; ten lines a second at most, the rest summed), and # midi2 stats when it stops`,
      ],
      [
        "--midi2-name NAME",
        'The UMP endpoint name that endpoints see for this host, as Windows MIDI Services lists it (default "midisock"; at most 98 bytes)',
      ],
      [
        "--midi2-secret-file FILE",
        "Take in only endpoints that answer the challenge with the shared secret in FILE (all of it; a trailing newline is ignored)",
      ],
      [
        "--midi2-users FILE",
        "Take in only endpoints that answer with a user and password of FILE: one user:password a line, UTF-8, # starts a comment line (with --midi2-secret-file, either will do)",
      ],
      [
        "--midi2-protocol 1|2",
        "Send channel voice messages as MIDI 1.0 in UMP (1) or as MIDI 2.0 (2, scaled up); by default 1, until an endpoint asks for 2 with a Stream Configuration Request",
      ],
      [
        "--midi2-group N",
        "The UMP group (0..15) that the bus's messages go out and come in on (default 0); the other groups' messages are counted and dropped",
      ],
      [
        "--midi2-fec N",
        "Repeat the N UMP Data commands before each one (forward error correction, 0..10, default 2)",
      ],
    ])
  }

Exit status: 0 when stopped; 1 if it cannot listen (the address is in use)
or cannot open a MIDI output (the error lists the outputs there are); 2 for
a usage error.`;

/** The options that monitor, send and connect share: how they connect. */
const LINK_OPTIONS: [string, string][] = [
  [
    "--tls",
    "Connect with TLS, trusting the system's certificate authorities; the server's certificate must carry HOST",
  ],
  [
    "--ca FILE",
    "Connect with TLS, trusting the CA certificate in FILE (PEM)",
  ],
  [
    "--token-file FILE",
    "Open with a hello line that carries the token on FILE's first line, for a server with a token (or the MIDISOCK_TOKEN environment variable, if set and readable: --allow-env=MIDISOCK_TOKEN)",
  ],
  ["--name NAME", "Open with a hello line that gives the server this name"],
  [
    "--secret-file FILE",
    "For a midi2://HOST:PORT host that asks for a shared secret: the secret in FILE (all of it; a trailing newline is ignored)",
  ],
  [
    "--user NAME",
    "For a midi2:// host that asks for a user and password; give --password-file",
  ],
  [
    "--password-file FILE",
    "The password of --user, in FILE (as --secret-file)",
  ],
  [
    "--insecure-token",
    "Send the token without TLS to a host that is not this machine's loopback (anyone on the way can read it); without this option, that fails before it connects",
  ],
];

/** `midisock monitor --help`. */
export const MONITOR_HELP: string =
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

${
    options("Options:", [
      ["--json", "Print JSON lines, as serve --json does"],
      HELP_OPTION,
    ])
  }

${
    options("Connection options:", [
      [
        "--no-reconnect",
        "Exit when the connection ends, instead of connecting again",
      ],
      ...LINK_OPTIONS,
    ])
  }

Exit status: 0 on Ctrl-C (SIGINT) or SIGTERM, or with --no-reconnect when
the connection ends (the server closed it, or it was reset); 1 if it
cannot connect at first (the connection is refused), or if the server
turns it away for its token or address, or speaks TLS (or HTTP) where it
expected plain MIDI: the error says why, as "Refused by HOST:PORT: wrong
token"; 2 for a usage error.`;

/** `midisock record --help`. */
export const RECORD_HELP: string =
  `Usage: ${PROGRAM} record HOST:PORT FILE.mid [--ppq N] [--bpm N]
       [--duration SECONDS] [--tls] [--ca FILE] [--token-file FILE]
       [--name NAME]

Connects to a socket-port server and writes each message that the server
sends into FILE.mid, a type 0 Standard MIDI File (a client of a bus does
not know who sent what, so there is one track; serve --record keeps a
track for each client). Delta times come from
each message's arrival time; the file starts with the first message. The
file on disk is a valid MIDI file at all times, to within one second: what
came is written, with an End of Track and the track's length, once a
second, so a kill -9 loses at most the last second. Ctrl-C (SIGINT),
SIGTERM, --duration or the end of the connection ends the file and prints
one line: "recorded N messages in S s to FILE (BYTES bytes)".

${
    options("Options:", [
      ["--ppq N", "Ticks per quarter note, 1..32767 (default 480)"],
      ["--bpm N", "The tempo written in the file (default 120)"],
      ["--duration SECONDS", "Stop after this many seconds"],
      HELP_OPTION,
    ])
  }

${options("Connection options:", LINK_OPTIONS)}

Exit status: 0 when the recording ends (Ctrl-C, SIGTERM, --duration, or
the server closed the connection); 1 if it cannot connect or write FILE;
2 for a usage error.`;

/** `midisock play --help`. */
export const PLAY_HELP: string =
  `Usage: ${PROGRAM} play HOST:PORT FILE.mid [--speed X] [--loop] [--tls]
       [--ca FILE] [--token-file FILE] [--name NAME]

Connects to a socket-port server and plays FILE.mid into it, as aplaymidi
does: a Standard MIDI File of type 0 or 1 (its tracks merged) or 2 (its
tracks one after another), with its full tempo map, or its SMPTE division.
Each message goes at its time from the file's start, on the monotonic
clock, so that no delay adds up. Meta events (tempo, text, End of Track)
steer the player and never go on the wire; a sysex goes whole, also one
that the file continues across F7 packets.

Playback never leaves a note on: when the file ends, on Ctrl-C (SIGINT) or
SIGTERM, it sends a note_off for each note it left on and control_change
64 value 0 for each pedal it left down; if the connection is lost, it sends
them over a new one. It prints one line at the end: "played N messages in
S s", and what it released.

${
    options("Options:", [
      [
        "--speed X",
        "Play X times as fast: 2 is twice as fast, 0.5 half as fast (default 1)",
      ],
      ["--loop", "Play the file again from the start, until stopped"],
      HELP_OPTION,
    ])
  }

${options("Connection options:", LINK_OPTIONS)}

Exit status: 0 when the file ends or Ctrl-C or SIGTERM stops it; 1 if it
cannot read FILE (the error names the chunk and the byte of a malformed
file) or connect, or the connection is lost; 2 for a usage error.`;

/** `midisock ping --help`. */
export const PING_HELP: string =
  `Usage: ${PROGRAM} ping HOST:PORT [--count N] [--interval MS] [--timeout MS]
       [-v] [--tls] [--ca FILE] [--token-file FILE] [--name NAME]

Measures the round trip to a server, and its jitter. Over TCP (and TLS) it
uses midisock's echo: its hello line asks for it, and only a server whose
verdict line says it answers gets echo requests, each a sysex of the
non-commercial ID 0x7D that the server sends back to this client alone and
never relays, so no other client of the bus sees one. A server that cannot
echo (mido's) gets no request: ping says so and exits 1. Over RTP-MIDI
(rtp://HOST[:PORT]) it measures with the session's CK exchange, and over
Network MIDI 2.0 (midi2://HOST:PORT) with Ping and Ping Reply. The last
line on stdout is "rtt p50=... ms p99=... ms max=... ms jitter=... ms
lost=N/M".

${
    options("Options:", [
      ["-c, --count N", "Round trips to measure (default 10)"],
      [
        "-i, --interval MS",
        "From the start of one round trip to the next (default 200)",
      ],
      [
        "-W, --timeout MS",
        "A round trip that takes longer is lost (default 1000)",
      ],
      ["-v, --verbose", "Print one line a round trip"],
      HELP_OPTION,
    ])
  }

${options("Connection options:", LINK_OPTIONS)}

Exit status: 0 once it has measured (Ctrl-C or SIGTERM stops it early);
1 if it cannot connect, the server cannot echo, the connection ends, or
every round trip is lost; 2 for a usage error.`;

/** `midisock send --help`. */
export const SEND_HELP: string =
  `Usage: ${PROGRAM} send HOST:PORT [--hex] [--tls] [--ca FILE]
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

${
    options("Options:", [
      [
        "--hex",
        'Take raw bytes in hex instead, such as "90 3c 64" or "903c64", and send them as they are. Each MESSAGE or line must be whole MIDI messages, one or more, each with its own status byte (no running status), so that every byte belongs to a message; real-time bytes (F8 FA FB FC FE FF) may stand anywhere. A message cut short or unfinished, a data byte with no status byte, a stray F7 or an undefined byte (F4 F5 F9 FD) is an error that names the byte',
      ],
      HELP_OPTION,
    ])
  }

${
    options("Connection options:", [
      [
        "--no-reconnect",
        "Exit 1 when the connection ends while reading stdin, instead of connecting again",
      ],
      ...LINK_OPTIONS,
    ])
  }

Exit status: 0 when everything was sent; 1 if the connection is refused or
fails, if the server turns it away (nothing is delivered; the error says
why, as "Refused by HOST:PORT: wrong token"), or for a bad line on stdin
(the lines before it are sent); 2 for a usage error, such as a bad MESSAGE
argument (then nothing is sent).`;

/** `midisock discover --help`. */
export const DISCOVER_HELP: string =
  `Usage: ${PROGRAM} discover [--json] [--timeout SECONDS] [--kind KIND]...

Lists the MIDI services that answer on the LAN over mDNS/DNS-SD (Bonjour),
one a line as each is found: its kind, its name, its host (an address where
one came), its port and its TXT record's keys:

  midisock "midisock on studio" 192.168.1.20 8080 relay=1
  apple-midi "Studio Mac" 192.168.1.30 5004
  midi2 "Keys" 192.168.1.31 5506 UMPEndpointName=Keys ProductInstanceId=K1

The kinds are midisock (_midisock._tcp, a midisock server), apple-midi
(_apple-midi._udp: a Mac's Network MIDI, rtpMIDI, rtpmidid), midi2
(_midi2._udp, Network MIDI 2.0) and http (_http._tcp, a web page). A
service's name stands where an address goes in monitor, send, record and
connect: NAME, or mdns:NAME. It needs --allow-net and
--allow-sys=networkInterfaces.

${
    options("Options:", [
      [
        "--json",
        'Print JSON lines instead: {"kind":..,"name":..,"host":..,"port":..,"txt":{..}}',
      ],
      [
        "--timeout SECONDS",
        "How long to listen (default 3; services on a LAN answer within a few hundred ms)",
      ],
      [
        "--kind KIND",
        "List only this kind: midisock, apple-midi, midi2 or http; give it once for each",
      ],
      HELP_OPTION,
    ])
  }

Exit status: 0 once the time is up (or on Ctrl-C); 1 if mDNS cannot be
used (port 5353 cannot be bound); 2 for a usage error.`;

/** `midisock ports --help`. */
export const PORTS_HELP: string = `Usage: ${PROGRAM} ports [--json]

Lists the MIDI inputs (keyboards, and other programs' outputs) and outputs
(synths, and other programs' inputs) of this machine, as mido-ports does:

  Inputs:
    Keystation 49:Keystation 49 MIDI 1 20:0
  Outputs:
    FLUID Synth (1234):Synth input port (1234:0) 128:0

Give a name, or a piece of it that no other port's name has, to
serve --out and to connect --in and --out. It needs --allow-ffi
--allow-read --allow-env. On Linux, the ports are ALSA's, or JACK's when
MIDISOCK_RTMIDI names a JACK build of RtMidi (see docs/devices.md).

${
  options("Options:", [
    [
      "--json",
      'Print one JSON line instead: {"inputs":[..],"outputs":[..]}',
    ],
    HELP_OPTION,
  ])
}

Exit status: 0; 1 if MIDI cannot be used (RtMidi cannot start: the error
says why); 2 for a usage error.`;

/** `midisock connect --help`. */
export const CONNECT_HELP: string =
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

${
    options("MIDI device options:", [
      [
        "--in NAME",
        "Play the MIDI input NAME (a keyboard) into the server; give it once for each input",
      ],
      [
        "--out NAME",
        "Play what the server sends on the MIDI output NAME (a synth); give it once for each output",
      ],
      [
        "--virtual NAME",
        "Create a virtual MIDI input NAME that other programs can play into the server (not on Windows)",
      ],
    ])
  }

${
    options("Connection options:", [
      [
        "--no-reconnect",
        "Exit when the connection ends, instead of connecting again",
      ],
      ...LINK_OPTIONS,
    ])
  }

${options("Other options:", [HELP_OPTION])}

Exit status: 0 on Ctrl-C (SIGINT) or SIGTERM, or with --no-reconnect when
the connection ends (the server closed it); 1 if it cannot connect at
first or cannot open a MIDI port (the error lists the ports there are); 2
for a usage error.`;
