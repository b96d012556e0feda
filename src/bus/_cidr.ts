// Copyright 2026 the midisock authors. MIT license.
// Private: allow-lists of addresses and CIDR blocks, IPv4 and IPv6.

/** An address as bytes: 4 for IPv4, 16 for IPv6; or undefined if bad. */
export function parseIp(text: string): Uint8Array | undefined {
  const host = text.replace(/%.*$/, ""); // a zone (fe80::1%eth0) is no part
  if (host.includes(":")) return parseIpv6(host);
  return parseIpv4(host);
}

function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^\d{1,3}$/.test(parts[i])) return undefined;
    const n = Number(parts[i]);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

function parseIpv6(text: string): Uint8Array | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === "") return [];
    const out: number[] = [];
    const words = part.split(":");
    for (let i = 0; i < words.length; i++) {
      const word = words[i];
      if (i === words.length - 1 && word.includes(".")) {
        const v4 = parseIpv4(word); // ::ffff:1.2.3.4
        if (!v4) return undefined;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else if (/^[0-9a-f]{1,4}$/i.test(word)) {
        out.push(parseInt(word, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const words = [...head, ...new Array(missing).fill(0), ...tail];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = words[i] >> 8;
    out[2 * i + 1] = words[i] & 0xff;
  }
  return out;
}

/** An IPv4 address mapped into IPv6 (::ffff:a.b.c.d) as its IPv4 bytes. */
function unmap(ip: Uint8Array): Uint8Array {
  if (ip.length !== 16) return ip;
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) return ip;
  if (ip[10] !== 0xff || ip[11] !== 0xff) return ip;
  return ip.subarray(12);
}

interface Block {
  ip: Uint8Array;
  bits: number;
}

function inBlock(ip: Uint8Array, block: Block): boolean {
  if (ip.length !== block.ip.length) return false;
  let bits = block.bits;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((ip[i] & mask) !== (block.ip[i] & mask)) return false;
  }
  return true;
}

/**
 * Parses an allow-list: each entry an address (`127.0.0.1`, `::1`) or a
 * CIDR block (`10.0.0.0/8`, `fd00::/8`). Returns a test for a peer's
 * address; an IPv4 peer of a dual-stack listener (`::ffff:a.b.c.d`)
 * matches as its IPv4 form. Throws a SyntaxError that names a bad entry.
 */
export function allowList(
  entries: readonly string[],
): (host: string) => boolean {
  if (!Array.isArray(entries)) {
    throw new TypeError(
      `Invalid allow option: expected an array of addresses and CIDR blocks, got ${typeof entries}`,
    );
  }
  const blocks = entries.map((entry): Block => {
    const bad = (why: string): never => {
      throw new SyntaxError(
        `Invalid allow entry ${JSON.stringify(entry)}: ${why}`,
      );
    };
    if (typeof entry !== "string") return bad("expected a string");
    const [addr, prefix, ...rest] = entry.trim().split("/");
    if (rest.length > 0) bad("expected ADDRESS or ADDRESS/BITS");
    const ip = parseIp(addr.replace(/^\[(.*)\]$/, "$1"));
    if (!ip) return bad("not an IPv4 or IPv6 address");
    const max = ip.length * 8;
    let bits = max;
    if (prefix !== undefined) {
      if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > max) {
        bad(`the prefix must be a whole number in 0..${max}`);
      }
      bits = Number(prefix);
    }
    const mapped = unmap(ip);
    return mapped === ip
      ? { ip, bits }
      : { ip: mapped, bits: Math.max(0, bits - 96) };
  });
  return (host: string) => {
    const ip = parseIp(host);
    if (!ip) return false;
    const plain = unmap(ip);
    return blocks.some((block) => inBlock(plain, block));
  };
}
