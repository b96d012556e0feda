// Copyright 2026 the midisock authors. MIT license.

import { FIELD_TO_TEXT, FIELDS, TEXT_TO_FIELD, TYPES } from "./specs.ts";
import { build, validate } from "./_validate.ts";
import type { Message } from "./message.ts";

/**
 * Formats a time as mido's str() does: an integer-valued number below 1e16
 * in magnitude as an int (`2`, not `2.0`), and any other number as Python's
 * repr(float). That is the shortest text that reads back as the same double
 * (JavaScript and Python agree on those digits), in fixed notation when the
 * decimal exponent is in -4..15, and otherwise in exponent notation with a
 * sign and at least two digits: `1e-05`, `2.5e+20`. Every integer from 1e16
 * up is beyond 2 ** 53, where a double no longer holds each integer, so it
 * is written as the float that it is.
 */
function pythonNumber(x: number): string {
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return String(x);
  const [mantissa, exponent] = x.toExponential().split("e");
  const exp = Number(exponent);
  if (exp >= -4 && exp < 16) return String(x);
  const digits = String(Math.abs(exp)).padStart(2, "0");
  return `${mantissa}e${exp < 0 ? "-" : "+"}${digits}`;
}

/**
 * Formats a message in mido's text format, exactly as mido's `str(msg)`:
 * the type, then each field as `name=value` in mido's order and with mido's
 * snake_case names, then `time`. A missing time is written as `time=0`.
 *
 * A time is written as mido writes it, with Python's repr(): `time=0.5`,
 * `time=1e-05`, `time=2.5e+20`. JavaScript has one number type, so an
 * integer-valued time below 1e16 in magnitude is written as an int
 * (`time=1`, as mido writes the int 1) where mido would write the float 1.0
 * as `time=1.0`. From 1e16 up, where a double no longer holds every integer,
 * it is written as Python writes a float (`time=1e+16`).
 *
 * @param msg The message.
 * @returns One line of text.
 *
 * @example Formatting messages
 * ```ts
 * import { formatMessage, message } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   formatMessage(message("note_on", { note: 60 })),
 *   "note_on channel=0 note=60 velocity=64 time=0",
 * );
 * assert.equal(
 *   formatMessage(message("sysex", { data: [1, 2, 3] })),
 *   "sysex data=(1,2,3) time=0",
 * );
 * assert.equal(
 *   formatMessage(message("quarter_frame", { frameType: 2, frameValue: 5 })),
 *   "quarter_frame frame_type=2 frame_value=5 time=0",
 * );
 * ```
 */
export function formatMessage(msg: Message): string {
  validate(msg); // a hand-written message is checked as encode() checks it
  const spec = TYPES[msg.type];
  const m = msg as unknown as Record<string, unknown>;
  let text: string = msg.type;
  for (const name of spec.fields) {
    const value = m[name];
    if (name === "data") {
      text += ` data=(${
        Array.prototype.join.call((value ?? []) as ArrayLike<number>, ",")
      })`;
    } else {
      text += ` ${FIELD_TO_TEXT[name]}=${value ?? FIELDS[name].default}`;
    }
  }
  return `${text} time=${pythonNumber(msg.time ?? 0)}`;
}

const INTEGER = /^[+-]?\d+$/;
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function fail(word: string, text: string, why: string): never {
  throw new SyntaxError(
    `Cannot parse ${JSON.stringify(word)} in ${JSON.stringify(text)}: ${why}`,
  );
}

/**
 * Parses mido's text format, the reverse of {@linkcode formatMessage} and of
 * mido's `str(msg)`. Missing fields take mido's defaults, and `time` is kept
 * if the text has one. `sysex data=()` gives an empty sysex (mido fails on
 * it).
 *
 * @param text One message, such as `"note_on channel=0 note=60 velocity=64"`.
 * @returns A frozen message.
 * @throws {SyntaxError} For bad text. The error names the word at fault.
 *
 * @example Parsing text
 * ```ts
 * import { parseMessage } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseMessage("note_on note=60 velocity=100"), {
 *   type: "note_on",
 *   channel: 0,
 *   note: 60,
 *   velocity: 100,
 * });
 * assert.deepEqual(parseMessage("sysex data=() time=0"), {
 *   type: "sysex",
 *   data: new Uint8Array(0),
 *   time: 0,
 * });
 * ```
 *
 * @example Bad text names the word at fault
 * ```ts
 * import { parseMessage } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => parseMessage("note_on note=300"), {
 *   name: "SyntaxError",
 *   message:
 *     'Cannot parse "note=300" in "note_on note=300": Invalid note_on note: expected an integer in 0..127, got 300',
 * });
 * ```
 */
export function parseMessage(text: string): Message {
  if (typeof text !== "string") {
    throw new TypeError(
      `Cannot parse a message from ${typeof text}: expected a string`,
    );
  }
  const words = text.trim().split(/\s+/);
  const type = words[0];
  if (type === "") {
    throw new SyntaxError(
      "Cannot parse an empty message: expected a message type",
    );
  }
  if (!Object.hasOwn(TYPES, type)) {
    fail(
      type,
      text,
      `unknown message type, expected one of ${Object.keys(TYPES).join(", ")}`,
    );
  }
  const spec = TYPES[type];
  const fields: Record<string, unknown> = {};
  const wordOf: Record<string, string> = {};
  for (const word of words.slice(1)) {
    const eq = word.indexOf("=");
    if (eq <= 0) fail(word, text, "expected name=value");
    const name = word.slice(0, eq);
    const value = word.slice(eq + 1);
    const field = name === "time" ? "time" : TEXT_TO_FIELD[name];
    if (
      field === undefined || (field !== "time" && !spec.fields.includes(field))
    ) {
      const allowed = [...spec.fields.map((f) => FIELD_TO_TEXT[f]), "time"];
      fail(
        word,
        text,
        `${type} has no field ${name}, its fields are ${allowed.join(", ")}`,
      );
    }
    if (Object.hasOwn(fields, field)) {
      fail(word, text, `${name} is given twice`);
    }
    wordOf[field] = word;
    if (field === "time") {
      if (!FLOAT.test(value)) fail(word, text, "time must be a number");
      fields.time = Number(value);
    } else if (field === "data") {
      if (!value.startsWith("(") || !value.endsWith(")")) {
        fail(word, text, "data must be in parentheses, such as data=(1,2,3)");
      }
      const inner = value.slice(1, -1);
      const items = inner === "" ? [] : inner.split(",");
      fields.data = items.map((item) => {
        if (!INTEGER.test(item)) {
          fail(
            word,
            text,
            `data byte ${JSON.stringify(item)} is not an integer`,
          );
        }
        return Number(item);
      });
    } else {
      if (!INTEGER.test(value)) fail(word, text, `${name} must be an integer`);
      fields[field] = Number(value);
    }
  }
  try {
    return build(type, fields) as Message;
  } catch (error) {
    const field = Object.keys(wordOf).find((f) =>
      (error as Error).message.startsWith(`Invalid ${type} ${f}`)
    );
    fail(field ? wordOf[field] : text, text, (error as Error).message);
  }
}
