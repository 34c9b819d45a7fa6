import { luhnValid } from './checksums.js';
import { DIGITS, isDigit, isWordChar, type Finding, type Recogniser } from './recogniser.js';

const SPACE = 32;
const HYPHEN = 45;

/**
 * Whether the issuer prefix and length fit a card network: Visa 4 (13, 16, 19 digits), Mastercard
 * 51–55 and 2221–2720 (16), American Express 34/37 (15), Diners 300–305/36/38/39, JCB 3528–3589,
 * Discover, UnionPay and Maestro 5x/6x (14–19). Most numbers that pass Luhn by chance (one in ten)
 * fail here.
 */
export function cardPrefixValid(digits: string): boolean {
  const length = digits.length;
  const two = Number(digits.slice(0, 2));
  const four = Number(digits.slice(0, 4));
  switch (digits[0]) {
    case '4':
      return length === 13 || length === 16 || length === 19;
    case '2':
      return four >= 2221 && four <= 2720 && length === 16;
    case '3':
      if (two === 34 || two === 37) return length === 15;
      if ((four >= 3000 && four <= 3059) || two === 36 || two === 38 || two === 39) return length >= 14 && length <= 19;
      return four >= 3528 && four <= 3589 && length >= 16 && length <= 19;
    case '5':
      if (two >= 51 && two <= 55) return length === 16;
      return (two === 50 || two >= 56) && length >= 13 && length <= 19;
    case '6':
      return length >= 14 && length <= 19;
    default:
      return false;
  }
}

/**
 * Payment card numbers: 13–19 digits, contiguous or in the printed groups separated by one space or
 * hyphen (4-4-4-4, 4-4-4-4-3, Amex 4-6-5, Diners 4-6-4), with a card network's prefix and length and
 * a valid Luhn check digit. A number glued to a word (`ORD-4111…`, `x4111…`) or to a decimal part
 * is not a card. A run of groups is also searched for a card inside it ("order 12 4111 1111 1111
 * 1111"); a candidate starts at a 4-digit group (or is one group of 13–19 digits) and spans at most
 * 19 digits, so the work per group is bounded and the scan is linear. Group positions go into
 * arrays the recogniser reuses, so a long run of numbers allocates nothing per group.
 */
export function createCardRecogniser(placeholder = '<CARD>'): Recogniser {
  const starts: number[] = [];
  const ends: number[] = [];
  const separators: number[] = [];

  /** Reads the groups of the number at `start` into the arrays; returns the index after it. */
  function readGroups(text: string, start: number): number {
    starts.length = 0;
    ends.length = 0;
    separators.length = 0;
    let position = start;
    let separator = 0;
    for (;;) {
      starts.push(position);
      separators.push(separator);
      while (position < text.length && isDigit(text.charCodeAt(position))) position += 1;
      ends.push(position);
      const next = text.charCodeAt(position);
      if ((next !== SPACE && next !== HYPHEN) || !isDigit(text.charCodeAt(position + 1))) return position;
      separator = next;
      position += 1;
    }
  }

  /** The last group of the longest card starting at group `first`, or -1. */
  function longestCardFrom(text: string, first: number): number {
    const firstLength = ends[first]! - starts[first]!;
    if (firstLength >= 13 && firstLength <= 19) return isCard(text, first, first, firstLength) ? first : -1;
    if (firstLength !== 4) return -1;
    let best = -1;
    let digits = 4;
    for (let last = first + 1; last < starts.length; last += 1) {
      if (separators[last] !== separators[first + 1]) break;
      const previous = ends[last - 1]! - starts[last - 1]!;
      // Only the last group may differ from 4 digits, except Amex/Diners' 6-digit middle group.
      const amexMiddle = last === first + 2 && previous === 6;
      if (previous !== 4 && !amexMiddle) break;
      const length = ends[last]! - starts[last]!;
      digits += length;
      if (digits > 19) break;
      if (digits < 13) continue;
      const grouping = amexMiddle ? length === 5 || length === 4 : length >= 1 && length <= 4;
      if (grouping && isCard(text, first, last, digits)) best = last;
    }
    return best;
  }

  function isCard(text: string, first: number, last: number, digitCount: number): boolean {
    let digits = '';
    for (let group = first; group <= last; group += 1) digits += text.slice(starts[group], ends[group]);
    return digits.length === digitCount && cardPrefixValid(digits) && luhnValid(digits);
  }

  return {
    name: 'card',
    placeholder,
    trigger: /\d(?:[ -]?\d){12}/,
    triggerHint: { chars: DIGITS },
    find(text: string, found: Finding[]): void {
      let index = 0;
      while (index < text.length) {
        if (!isDigit(text.charCodeAt(index))) {
          index += 1;
          continue;
        }
        const tokenStart = index;
        index = readGroups(text, index);
        if (!standsAlone(text, tokenStart, index)) continue;
        let first = 0;
        while (first < starts.length) {
          const last = longestCardFrom(text, first);
          if (last === -1) {
            first += 1;
            continue;
          }
          found.push({ recogniser: 'card', start: starts[first]!, end: ends[last]!, placeholder });
          first = last + 1;
        }
      }
    },
  };
}

/** Not glued to a word, a decimal point or a thousands separator on either side. */
function standsAlone(text: string, start: number, end: number): boolean {
  if (start > 0) {
    const before = text.charCodeAt(start - 1);
    if (isWordChar(before)) return false;
    if ((before === 46 || before === 44 || before === HYPHEN || before === 47) && start > 1 && isWordChar(text.charCodeAt(start - 2))) return false;
  }
  if (end < text.length) {
    const after = text.charCodeAt(end);
    if (isWordChar(after)) return false;
    if ((after === 46 || after === 44 || after === 47) && isDigit(text.charCodeAt(end + 1))) return false;
  }
  return true;
}
