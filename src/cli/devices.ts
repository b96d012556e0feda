// Copyright 2026 the midisock authors. MIT license.
// Local MIDI devices: `ports`, `connect`, and serve's --out and --virtual.
// The device module (and with it RtMidi, and the need for --allow-ffi) is
// loaded only when one of them is used.

import type { DevicePort } from "../device/device_port.ts";

/**
 * The device module, loaded on first use. Its specifier is a variable, so
 * that Deno does not take it (and npm @julusian/midi with it) into the
 * program's graph: a user who never uses a MIDI port never downloads it.
 */
const DEVICE_MODULE = "../device/mod.ts";
export function deviceModule(): Promise<typeof import("../device/mod.ts")> {
  return import(DEVICE_MODULE);
}

/** The names of ports, quoted, for a line on stderr. */
export function names(ports: readonly DevicePort[]): string {
  return ports.map((port) => JSON.stringify(port.name)).join(", ");
}

/**
 * Opens the MIDI ports that the options name (each NAME, then each virtual
 * NAME), or none. If one fails, those opened are closed.
 */
export async function openDevices(
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
export async function closeAll(ports: readonly DevicePort[]): Promise<void> {
  for (const port of ports) await port.close();
}
