// Copyright 2026 the midisock authors. MIT license.
// `midisock connect`: plays local MIDI inputs into a server, and a server on
// local MIDI outputs.

import { ReconnectingPort } from "../client/reconnecting_port.ts";
import type { DevicePort } from "../device/device_port.ts";
import type { SocketPort } from "../port/socket_port.ts";
import {
  clientLink,
  onePositional,
  parseCommand,
  TLS_CLIENT_OPTIONS,
  UsageError,
} from "./args.ts";
import { busAddress } from "./dial.ts";
import { closeAll, deviceModule, names, openDevices } from "./devices.ts";
import { CONNECT_HELP, PROGRAM } from "./help.ts";
import { type Lines, stdoutStatus } from "./lines.ts";
import { onStop } from "./on_stop.ts";
import { Printer } from "./printer.ts";

/**
 * Runs `midisock connect` with its arguments (after the command word) until
 * the connection ends: by Ctrl-C, SIGTERM, `options.signal`, a failed
 * stdout, or (with --no-reconnect) the server. It prints events on `out`,
 * and the ports it plays on `err`.
 *
 * @returns The exit status: 0.
 */
export async function connectDevices(
  args: string[],
  options: { signal?: AbortSignal },
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
  const where = onePositional("connect", positionals);
  const link = await clientLink(values);
  const bus = busAddress(where, link);
  if (!values.in && !values.out && !values.virtual) {
    throw new UsageError(
      `connect needs a MIDI port: --in NAME, --out NAME or --virtual NAME (see ${PROGRAM} connect --help)`,
    );
  }
  const printer = new Printer(out, false);
  const device = await deviceModule();
  const inputs = await openDevices("input", values.in, values.virtual);
  let outputs: DevicePort[] = [];
  let server: SocketPort | ReconnectingPort;
  try {
    outputs = await openDevices("output", values.out, undefined);
    server = await bus.open({
      reconnect: !values["no-reconnect"],
    });
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
