// Copyright 2026 the midisock authors. MIT license.
// `midisock ports`: lists this machine's MIDI inputs and outputs.

import { parseCommand, UsageError } from "./args.ts";
import { deviceModule } from "./devices.ts";
import { PORTS_HELP, PROGRAM } from "./help.ts";
import { type Lines, stdoutStatus } from "./lines.ts";

/**
 * Runs `midisock ports` with its arguments (after the command word), and
 * prints the list on `out`.
 *
 * @returns The exit status: 0.
 */
export async function ports(args: string[], out: Lines): Promise<number> {
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
