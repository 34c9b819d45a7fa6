/**
 * Strict textual IP parsing (RFC 4291 / RFC 5952 for IPv6, dotted decimal without leading zeros for
 * IPv4), with the same verdicts as Node's `net.isIPv4`/`net.isIPv6` on zone-free input. Used both to
 * decide whether a candidate in free text is an address and to canonicalise the `ipAddress` field
 * before it is pseudonymised, so one address written two ways gets one pseudonym.
 */

/** The four octets of a dotted-quad IPv4 address, or null when `text` is not one. */
export function parseIPv4(text: string): number[] | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const octets: number[] = [];
  for (const part of parts) {
    const octet = parseOctet(part);
    if (octet === null) return null;
    octets.push(octet);
  }
  return octets;
}

function parseOctet(part: string): number | null {
  if (part.length === 0 || part.length > 3) return null;
  // A leading zero would be read as octal by some parsers; like Node, refuse it rather than guess.
  if (part.length > 1 && part.charCodeAt(0) === 48) return null;
  let value = 0;
  for (let index = 0; index < part.length; index += 1) {
    const code = part.charCodeAt(index);
    if (code < 48 || code > 57) return null;
    value = value * 10 + (code - 48);
  }
  return value <= 255 ? value : null;
}

/** The eight 16-bit groups of an IPv6 address (`::` expanded, an IPv4 tail folded in), or null. */
export function parseIPv6(text: string): number[] | null {
  if (text.length < 2 || text.length > 45) return null;
  const doubleColon = text.indexOf('::');
  if (doubleColon !== -1 && text.indexOf('::', doubleColon + 1) !== -1) return null;
  const head = doubleColon === -1 ? text : text.slice(0, doubleColon);
  const tail = doubleColon === -1 ? '' : text.slice(doubleColon + 2);
  // Only the last group of the whole address may be an IPv4 tail: before a `::` there is none.
  const headGroups = parseGroups(head, doubleColon === -1);
  if (headGroups === null) return null;
  const tailGroups = doubleColon === -1 ? [] : parseGroups(tail, true);
  if (tailGroups === null) return null;
  const explicit = headGroups.length + tailGroups.length;
  if (doubleColon === -1) return explicit === 8 ? headGroups : null;
  if (explicit > 7) return null;
  return [...headGroups, ...new Array<number>(8 - explicit).fill(0), ...tailGroups];
}

/** Groups of `a:b:c`, the last of which may be dotted IPv4 when `ipv4TailAllowed`. Empty text is no groups. */
function parseGroups(text: string, ipv4TailAllowed: boolean): number[] | null {
  if (text === '') return [];
  const parts = text.split(':');
  const groups: number[] = [];
  for (let index = 0; index < parts.length; index += 1) {
    const part = parts[index]!;
    if (part.includes('.')) {
      if (!ipv4TailAllowed || index !== parts.length - 1) return null;
      const octets = parseIPv4(part);
      if (!octets) return null;
      groups.push((octets[0]! << 8) | octets[1]!, (octets[2]! << 8) | octets[3]!);
      continue;
    }
    if (part.length === 0 || part.length > 4) return null;
    let value = 0;
    for (let at = 0; at < part.length; at += 1) {
      const digit = hexValue(part.charCodeAt(at));
      if (digit < 0) return null;
      value = value * 16 + digit;
    }
    groups.push(value);
  }
  return groups;
}

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  if (code >= 65 && code <= 70) return code - 55;
  return -1;
}

/**
 * One spelling per address: IPv4 as dotted decimal; IPv6 in RFC 5952 form (lower case, the longest
 * run of zero groups compressed); an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) as its IPv4 form.
 * A zone (`%eth0`) is dropped: it names an interface of the host, not the peer. Null when not an IP.
 */
export function canonicalIp(text: string): string | null {
  const trimmed = text.trim();
  // Valid dotted decimal has no leading zeros, so it is already its own canonical spelling (the common case, without allocating).
  if (isIPv4At(trimmed, 0, trimmed.length)) return trimmed;
  const v4 = parseIPv4(trimmed);
  if (v4) return v4.join('.');
  const zone = trimmed.indexOf('%');
  const bare = zone === -1 ? trimmed : trimmed.slice(0, zone);
  const unbracketed = bare.startsWith('[') && bare.endsWith(']') ? bare.slice(1, -1) : bare;
  const groups = parseIPv6(unbracketed);
  if (!groups) return null;
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  }
  return formatIPv6(groups);
}

function formatIPv6(groups: number[]): string {
  let bestStart = -1;
  let bestLength = 0;
  for (let start = 0; start < 8; ) {
    if (groups[start] !== 0) {
      start += 1;
      continue;
    }
    let end = start;
    while (end < 8 && groups[end] === 0) end += 1;
    if (end - start > bestLength) {
      bestStart = start;
      bestLength = end - start;
    }
    start = end;
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestLength < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** Whether `text[start, end)` is an IPv4 address, with the verdict of `parseIPv4` and no allocation. */
export function isIPv4At(text: string, start: number, end: number): boolean {
  let octets = 0;
  let position = start;
  for (;;) {
    const octetStart = position;
    let value = 0;
    while (position < end && position - octetStart < 4) {
      const code = text.charCodeAt(position);
      if (code < 48 || code > 57) break;
      value = value * 10 + (code - 48);
      position += 1;
    }
    const length = position - octetStart;
    if (length === 0 || length > 3 || value > 255 || (length > 1 && text.charCodeAt(octetStart) === 48)) return false;
    octets += 1;
    if (position === end) return octets === 4;
    if (octets === 4 || text.charCodeAt(position) !== 46) return false;
    position += 1;
  }
}

/** Whether `text[start, end)` is an IPv6 address, with the verdict of `parseIPv6` and no allocation. */
export function isIPv6At(text: string, start: number, end: number): boolean {
  if (end - start < 2 || end - start > 45) return false;
  let groups = 0;
  let compressed = false;
  let position = start;
  if (text.charCodeAt(position) === 58) {
    if (text.charCodeAt(position + 1) !== 58) return false;
    compressed = true;
    position += 2;
    if (position === end) return true;
  }
  for (;;) {
    const groupStart = position;
    while (position < end && position - groupStart < 5 && hexValue(text.charCodeAt(position)) >= 0) position += 1;
    if (position < end && text.charCodeAt(position) === 46) {
      // An IPv4 tail ends the address and counts as two groups.
      if (!isIPv4At(text, groupStart, end)) return false;
      groups += 2;
      break;
    }
    const length = position - groupStart;
    if (length < 1 || length > 4) return false;
    groups += 1;
    if (groups > 8) return false;
    if (position === end) break;
    if (text.charCodeAt(position) !== 58) return false;
    position += 1;
    if (position === end) return false;
    if (text.charCodeAt(position) === 58) {
      if (compressed) return false;
      compressed = true;
      position += 1;
      if (position === end) break;
    }
  }
  return compressed ? groups <= 7 : groups === 8;
}
