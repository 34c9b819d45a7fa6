import { isIPv4At, isIPv6At } from './ipAddress.js';
import { DIGITS, findWithRegex, isAsciiLetter, isDigit, type Finding, type Recogniser } from './recogniser.js';

const COLON = 58;
const DOT = 46;
const PERCENT = 37;

function isHex(code: number): boolean {
  return isDigit(code) || (code >= 97 && code <= 102) || (code >= 65 && code <= 70);
}

function isRunChar(code: number): boolean {
  return isHex(code) || code === COLON || code === DOT;
}

function isZoneChar(code: number): boolean {
  return isDigit(code) || isAsciiLetter(code) || code === 95 || code === 46 || code === 45;
}

/**
 * IPv4 and IPv6 addresses, both replaced by `<IP>`. IPv6 candidates are the maximal runs of hex
 * digits, colons and dots around each colon (each character is visited once, so the scan is linear),
 * which are then parsed strictly (with `parseIPv6`'s verdict, without allocating): `::` compression, an IPv4 tail and a `%zone` are understood.
 * Runs glued to a word (`std::vector`) are not addresses, and a candidate must hold a decimal digit,
 * so Rust and C++ paths like `a::b` survive; times (`10:30:00`) and MAC addresses fail the parse.
 */
export function createIpRecogniser(placeholder = '<IP>'): Recogniser {
  // Dotted quads not glued to a word or to more dotted numbers: `v1.2.3.4` and `1.2.3.4.5` are
  // versions; `10.0.0.1:8080` and `10.0.0.0/8` keep their port and prefix. The regex only proposes:
  // `isIPv4At` (`parseIPv4`'s verdict) decides, so `999.1.1.1` and `01.2.3.4` are not addresses.
  const ipv4Candidate = /(?<![\w.])\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?!\w|\.\d)/g;
  return {
    name: 'ip',
    placeholder,
    trigger: /\d\.\d{1,3}\.\d{1,3}\.\d|:[\dA-Fa-f.]*:/,
    triggerHint: { chars: `${DIGITS}:` },
    find(text: string, found: Finding[]): void {
      findWithRegex(ipv4Candidate, text, 'ip', placeholder, found, { validate: (match) => isIPv4At(match, 0, match.length) });
      findIPv6(text, placeholder, found);
    },
  };
}

function findIPv6(text: string, placeholder: string, found: Finding[]): void {
  // `from` is the end of the previous run: runs are maximal, so no left scan re-reads a character.
  let from = 0;
  for (let colon = text.indexOf(':'); colon !== -1; colon = text.indexOf(':', from)) {
    let start = colon;
    while (start > from && isRunChar(text.charCodeAt(start - 1))) start -= 1;
    let end = colon + 1;
    while (end < text.length && isRunChar(text.charCodeAt(end))) end += 1;
    from = end;
    const candidate = trimRun(text, start, end);
    if (!candidate) continue;
    const [candidateStart, candidateEnd] = candidate;
    if (isIPv6At(text, candidateStart, candidateEnd)) {
      found.push({ recogniser: 'ip', start: candidateStart, end: withZone(text, candidateEnd), placeholder });
    }
  }
}

/** The part of a run that could be an address, or null: trailing sentence dots and a lone leading or trailing colon go. */
function trimRun(text: string, start: number, end: number): [number, number] | null {
  // A run glued to a word is part of that word (`std::`, `Foo::Bar`).
  if (start > 0 && isWordGlue(text.charCodeAt(start - 1))) return null;
  if (end < text.length && isWordGlue(text.charCodeAt(end))) return null;
  while (end > start && text.charCodeAt(end - 1) === DOT) end -= 1;
  if (end - start >= 2 && text.charCodeAt(end - 1) === COLON && text.charCodeAt(end - 2) !== COLON) end -= 1;
  if (end - start >= 2 && text.charCodeAt(start) === COLON && text.charCodeAt(start + 1) !== COLON) start += 1;
  let colons = 0;
  let digit = false;
  for (let index = start; index < end; index += 1) {
    const code = text.charCodeAt(index);
    if (code === COLON) colons += 1;
    else if (isDigit(code)) digit = true;
  }
  return colons >= 2 && digit ? [start, end] : null;
}

function isWordGlue(code: number): boolean {
  return isAsciiLetter(code) || code === 95;
}

/** Extends an address over a `%zone` suffix (`fe80::1%eth0`), which names the host's interface. */
function withZone(text: string, end: number): number {
  if (text.charCodeAt(end) !== PERCENT) return end;
  let zoneEnd = end + 1;
  while (zoneEnd < text.length && zoneEnd - end <= 16 && isZoneChar(text.charCodeAt(zoneEnd))) zoneEnd += 1;
  return zoneEnd > end + 1 ? zoneEnd : end;
}
