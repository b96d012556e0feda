// Copyright 2026 the midisock authors. MIT license.
// `midisock serve`: a server that prints what its clients send, and can
// relay it, play it on MIDI outputs, bridge it over NATS and serve it to
// browsers.

import { PortServer } from "../bus/port_server.ts";
import type { ReleaseEvent } from "../bus/events.ts";
import type { DevicePort } from "../device/device_port.ts";
import { WebGateway } from "../gateway/web_gateway.ts";
import type { Message } from "../midi/message.ts";
import type { NatsBridge } from "../nats/nats_bridge.ts";
import type { NatsBridgeOptions } from "../nats/join_nats.ts";
import type { SocketPort } from "../port/socket_port.ts";
import { formatAddress, parseAddress } from "../transport/address.ts";
import { openFileLimit } from "../transport/listen.ts";
import { RecordingFile } from "../smf/recording_file.ts";
import { IPMIDI_GROUP, ipMidiUdpPort } from "../transport/ipmidi_transport.ts";
import { oneLine } from "../util/error_text.ts";
import {
  address,
  envReadable,
  onePositional,
  optionalValue,
  parseCommand,
  readSecret,
  readText,
  readToken,
  usage,
  UsageError,
} from "./args.ts";
import { closeAll, names, openDevices } from "./devices.ts";
import { mdnsModule } from "./discover.ts";
import { ipMidiNumber, keepIpMidi } from "./ipmidi.ts";
import { PROGRAM, SERVE_HELP } from "./help.ts";
import { type Lines, stdoutStatus } from "./lines.ts";
import { onStop } from "./on_stop.ts";
import { Printer } from "./printer.ts";
import {
  MIDI2_SERVE_OPTIONS,
  midi2Options,
  midi2Summary,
  startMidi2,
} from "./midi2.ts";
import type { Midi2Listener } from "../transport/midi2/midi2_listener.ts";
import { rtpListenAddress, startRtp } from "./rtp.ts";
import type { RtpListener } from "../transport/rtp/rtp_listener.ts";

/**
 * Runs `midisock serve` with its arguments (after the command word) until
 * the server is closed: by Ctrl-C, SIGTERM, `options.signal`, or a failed
 * stdout. It prints messages and events on `out`, and where it listens on
 * `err`.
 *
 * @returns The exit status: 0.
 */
export async function serve(
  args: string[],
  options: { signal?: AbortSignal },
  out: Lines,
  err: Lines,
): Promise<number> {
  // --ipmidi [N]: N is the next word if it is a number.
  args = optionalValue(args, "--ipmidi", (next) => /^\d+$/.test(next), "1");
  // --advertise [NAME]: the next word, unless it looks like HOST:PORT.
  args = optionalValue(
    args,
    "--advertise",
    (next) => !looksLikeAddress(next),
    "",
  );
  const { values, positionals } = parseCommand("serve", args, {
    options: {
      relay: { type: "boolean" },
      ...MIDI2_SERVE_OPTIONS,
      json: { type: "boolean" },
      quiet: { type: "boolean", short: "q" },
      "max-sysex": { type: "string" },
      allow: { type: "string", multiple: true },
      "max-clients": { type: "string" },
      "max-pending": { type: "string" },
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
      record: { type: "string" },
      rtp: { type: "string" },
      "rtp-name": { type: "string" },
      ipmidi: { type: "string" },
      "ipmidi-interface": { type: "string" },
      advertise: { type: "string" },
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
  const maxPending = values["max-pending"] === undefined
    ? undefined
    : wholeNumber("--max-pending", values["max-pending"], "connections");
  if (maxPending === 0) {
    throw new UsageError(
      `Invalid --max-pending "0": expected at least 1 connection (see ${PROGRAM} serve --help)`,
    );
  }
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
  const midi2 = await midi2Options(values, host);
  const ipmidi = ipMidiOption(values.ipmidi, values["ipmidi-interface"]);
  const web = webAddress(
    values.web,
    values["web-origin"],
    values["web-host"],
    host,
  );
  const rtpWhere = rtpOption(values.rtp, values["rtp-name"], host);
  const printer = new Printer(out, !!values.json, !!values.quiet);
  // The NATS client and the MIDI outputs first: a module that cannot be
  // loaded, or a name that matches no output, fails before the server
  // listens.
  const natsClient = nats === undefined ? undefined : await natsModule();
  const mdns = values.advertise === undefined ? undefined : await mdnsModule();
  const outputs = await openDevices("output", values.out, values.virtual);
  // Each option is the library's: --relay is PortServer's relay, and so on.
  const relay = !!values.relay || nats !== undefined || ipmidi !== undefined;
  let server: PortServer;
  try {
    server = new PortServer(host, port, {
      relay,
      maxSysexBytes,
      allow: values.allow,
      maxClients,
      maxPending,
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
  // What starts beside the server. If a part fails to start, what started
  // before it is closed (the MIDI outputs too), and the error says why:
  // `usageFor`'s errors are usage errors.
  let gateway: WebGateway | undefined;
  let rtp: RtpListener | undefined;
  let midi2Host: Midi2Listener | undefined;
  let bridge: NatsBridge | undefined;
  let ipmidiLink: { stop(): Promise<void> } | undefined;
  const stop = () =>
    Promise.all([
      server.close(),
      gateway?.close(),
      rtp?.close(),
      midi2Host?.close(),
    ]);
  let removeStop = () => {};
  const abandon = async (
    error: unknown,
    usageFor?: typeof SyntaxError | typeof RangeError,
  ): Promise<never> => {
    removeStop();
    await bridge?.close();
    await stop();
    await closeAll(outputs);
    if (usageFor && error instanceof usageFor) throw usage(error, "serve");
    throw error;
  };
  // The browser gateway, beside the TCP port: its WebSockets are clients.
  if (web) {
    try {
      gateway = new WebGateway(server, { ...web, tls });
    } catch (error) {
      return await abandon(error, SyntaxError);
    }
    gateway.addEventListener("reject", (event) => printer.reject(event));
    gateway.addEventListener("accepterror", (event) => {
      printer.acceptError(event.error ?? event.message);
    });
  }
  // RTP-MIDI beside the TCP port: each participant is a client.
  if (rtpWhere) {
    try {
      rtp = await startRtp(
        server,
        { ...rtpWhere, maxSysexBytes },
        printer.line.bind(printer),
      );
    } catch (error) {
      return await abandon(error);
    }
  }
  // What the bus plays, kept with a track for each client (--record).
  let recording: RecordingFile | undefined;
  let flusher: ReturnType<typeof setInterval> | undefined;
  let flushing = Promise.resolve();
  if (values.record !== undefined) {
    try {
      recording = await RecordingFile.create(values.record, { format: 1 });
    } catch (error) {
      return await abandon(
        new Error(`Cannot record to ${values.record}: ${oneLine(error)}`),
      );
    }
    // At least once a second, what came is on disk, in a complete file.
    flusher = setInterval(() => {
      flushing = flushing.then(() => recording!.flush());
    }, 1000);
  }
  const recordingStarted = performance.now();
  // Read from the start, so that every message is printed (and relayed).
  const messages = server.withPorts();
  removeStop = onStop(stop, options.signal);
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
      if (event.lostMessages) printer.lost(client.name, event.lostMessages);
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

  if (midi2) {
    try {
      midi2Host = await startMidi2(server, midi2, printer.line.bind(printer));
    } catch (error) {
      return await abandon(error, RangeError);
    }
  }
  let advertisement: { close(): Promise<void> } | undefined;
  if (nats && natsClient) {
    try {
      bridge = await natsClient.startBridge(
        server,
        nats,
        printer.line.bind(printer),
      );
    } catch (error) {
      return await abandon(error, RangeError);
    }
  }
  if (ipmidi) {
    try {
      ipmidiLink = await keepIpMidi(server, ipmidi);
    } catch (error) {
      return await abandon(error);
    }
  }
  try {
    await err.write(
      `${PROGRAM}: listening on ${
        server.addrs.map((a) => formatAddress(a.hostname, a.port)).join(", ")
      }`,
    );
    if (midi2Host) {
      await err.write(
        `${PROGRAM}: Network MIDI 2.0 host "${midi2Host.name}" on UDP ${
          midi2Host.addrs.map((a) => formatAddress(a.hostname, a.port))
            .join(", ")
        }`,
      );
    }
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
    // A client and a web connection each hold a file descriptor; past the
    // limit, connections wait unanswered in the system's queue. (The
    // default maxClients leaves room for the web page's.)
    const limit = maxClients === undefined ? undefined : openFileLimit();
    const web = gateway?.maxHttpConnections ?? 0;
    if (limit !== undefined && maxClients! + web > limit) {
      await err.write(
        `${PROGRAM}: warning: --max-clients ${maxClients}${
          gateway ? ` and ${web} web connections need` : " needs"
        } more file descriptors than this process may open (${limit}); past that, connections wait unanswered: raise ulimit -n or lower --max-clients`,
      );
    }
    const open = !values.allow && token === undefined;
    if (open && server.addrs.some((a) => !isLoopback(a.hostname))) {
      // A token in MIDISOCK_TOKEN that Deno did not let serve read.
      const unread = values["token-file"] === undefined &&
          !envReadable("MIDISOCK_TOKEN")
        ? " (MIDISOCK_TOKEN, if set, was not read: that needs --allow-env=MIDISOCK_TOKEN)"
        : "";
      await err.write(
        `${PROGRAM}: warning: anyone who can reach this port can play on the bus; give --allow or a token to say who may${unread}`,
      );
    }
    if (rtp) {
      await err.write(
        `${PROGRAM}: RTP-MIDI sessions on ${
          formatAddress(rtp.hostname, rtp.port)
        } (data port ${rtp.port + 1}), named ${
          JSON.stringify(rtpWhere!.name ?? "midisock")
        }`,
      );
      if (token !== undefined || (!values.allow && !isLoopback(rtp.hostname))) {
        await err.write(
          `${PROGRAM}: ${
            token !== undefined
              ? "warning: "
              : "warning: anyone who can reach the RTP port can play on the bus; "
          }RTP participants are admitted by the allow-list only (RTP-MIDI has no token)${
            values.allow ? "" : "; give --allow to say who may"
          }`,
        );
      }
    }
    if (ipmidi) {
      await err.write(
        `${PROGRAM}: on ipMIDI port ${ipmidi.port} (${IPMIDI_GROUP}:${
          ipMidiUdpPort(ipmidi.port)
        }${ipmidi.interface ? ` on ${ipmidi.interface}` : ""})`,
      );
    }
    if (outputs.length > 0) {
      await err.write(`${PROGRAM}: playing the bus on ${names(outputs)}`);
    }
    if (mdns) {
      // The bus, its page, and what else listens, as one name.
      advertisement = await mdns.startAdvertising(
        mdns.serveServices({
          bus: { port: server.port, tls: !!tls, token: !!token, relay },
          web: gateway?.port,
          more: [
            ...(rtp ? [mdns.appleMidiService(rtp.port)] : []),
            ...(midi2Host
              ? [mdns.midi2Service(midi2Host.port, {
                endpointName: midi2Host.name,
                productInstanceId: midi2Host.productInstanceId,
              })]
              : []),
          ],
        }),
        values.advertise || mdns.defaultServiceName(),
        (line) => err.write(`${PROGRAM}: ${line}`),
      );
      if (server.addrs.every((a) => isLoopback(a.hostname))) {
        await err.write(
          `${PROGRAM}: warning: advertised, but listening on loopback only: other machines cannot connect; give 0.0.0.0:PORT to listen on every interface`,
        );
      }
    }
    // Ends when the server is closed and everything it had is printed.
    for await (const { port: client, message, time } of messages) {
      recording?.add(message, time, client.name);
      await printer.message(client.name, message);
      if (outputs.length > 0) await play(outputs, message, printer);
      count(client);
    }
  } finally {
    removeStop();
    await advertisement?.close(); // goodbyes first, while it still listens
    await bridge?.close();
    await midi2Host?.close();
    await Promise.all([server.close(), gateway?.close(), rtp?.close()]);
    await ipmidiLink?.stop();
    if (midi2Host) {
      const { json, text } = midi2Summary(midi2Host);
      await printer.line(json, text);
    }
    for (const left of [...leaving.values()]) left.line();
    await closeAll(outputs); // each releases the notes it holds
    if (recording) {
      clearInterval(flusher);
      await flushing;
      await recording.close();
      const seconds = (performance.now() - recordingStarted) / 1000;
      await err.write(
        `${PROGRAM}: recorded ${recording.messages} messages in ${
          seconds.toFixed(1)
        } s to ${values.record} (${recording.size} bytes)`,
      );
    }
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

/** serve's --rtp and --rtp-name, or undefined without --rtp. */
function rtpOption(
  text: string | undefined,
  name: string | undefined,
  serverHost: string,
): { host: string; port: number; name?: string } | undefined {
  if (text === undefined) {
    if (name !== undefined) {
      throw new UsageError(
        `--rtp-name needs --rtp (see ${PROGRAM} serve --help)`,
      );
    }
    return undefined;
  }
  return { ...rtpListenAddress(text, serverHost), name };
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

/** Whether a word after --advertise is serve's address rather than a name. */
function looksLikeAddress(text: string): boolean {
  return /^(\[[^\]]*\]|[^\s:]*):\d+$/.test(text) || /^\d+$/.test(text);
}

/** serve's --ipmidi [N] and --ipmidi-interface ADDR, or undefined. */
function ipMidiOption(
  port: string | undefined,
  iface: string | undefined,
): { port: number; interface?: string } | undefined {
  if (port === undefined) {
    if (iface !== undefined) {
      throw new UsageError(
        `--ipmidi-interface needs --ipmidi (see ${PROGRAM} serve --help)`,
      );
    }
    return undefined;
  }
  return { port: ipMidiNumber(port, "--ipmidi"), interface: iface };
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

/**
 * serve's NATS bridge, loaded only with --nats, by a specifier that Deno
 * does not follow ahead of time, as the device module is: a user who never
 * gives --nats never downloads npm @nats-io/nats-core. From a checkout the
 * module is a file, which Deno lets a program load after it started only
 * with read access to it (in a terminal, Deno asks): without it, the error
 * names --nats and the flag to give.
 */
const NATS_MODULE = new URL("./nats.ts", import.meta.url);
async function natsModule(): Promise<typeof import("./nats.ts")> {
  try {
    return await import(NATS_MODULE.href);
  } catch (error) {
    const read = NATS_MODULE.protocol === "file:" &&
      Deno.permissions.querySync({ name: "read", path: NATS_MODULE })
          .state !== "granted";
    if (!read) throw error;
    const src = new URL("../", NATS_MODULE).pathname.replace(/\/$/, "");
    throw new Error(
      `Cannot load the NATS client for --nats from ${NATS_MODULE.pathname}: no read access to it; run again with --allow-read=${src} (or --allow-read)`,
    );
  }
}
