import { IBAN_LENGTHS } from './checksums.js';
import { DIGITS, isAsciiLetter, isDigit, type Finding, type Recogniser } from './recogniser.js';

function isAlphanumeric(code: number): boolean {
  return isDigit(code) || isAsciiLetter(code);
}

/**
 * IBANs, compact (`GB82WEST12345698765432`) or in groups separated by single spaces
 * (`DE89 3704 0044 0532 0130 00`): a known country, exactly that country's length, and the
 * ISO 13616 mod-97 checksum. From each possible start the scan reads at most the country's length
 * (34 characters at most), so it is linear in the text.
 */
export function createIbanRecogniser(placeholder = '<IBAN>'): Recogniser {
  // A country code and check digits at the start of a word: where an IBAN can begin.
  const ibanStart = /(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}/g;
  return {
    name: 'iban',
    placeholder,
    trigger: /[A-Za-z]{2}\d{2}/,
    triggerHint: { chars: DIGITS },
    find(text: string, found: Finding[]): void {
      ibanStart.lastIndex = 0;
      for (let match = ibanStart.exec(text); match !== null; match = ibanStart.exec(text)) {
        const end = readIban(text, match.index);
        if (end === -1) continue;
        found.push({ recogniser: 'iban', start: match.index, end, placeholder });
        ibanStart.lastIndex = end;
      }
      ibanStart.lastIndex = 0;
    },
  };
}

/** The end of the IBAN starting at `start`, or -1 when there is none. Reads the text in place, allocating nothing per candidate. */
function readIban(text: string, start: number): number {
  const length = IBAN_LENGTHS[text.slice(start, start + 2).toUpperCase()];
  if (length === undefined) return -1;
  let count = 4;
  let position = start + 4;
  while (count < length && position < text.length) {
    const code = text.charCodeAt(position);
    if (isAlphanumeric(code)) {
      count += 1;
      position += 1;
    } else if (code === 32 && isAlphanumeric(text.charCodeAt(position + 1))) {
      position += 1;
    } else {
      break;
    }
  }
  if (count !== length) return -1;
  if (position < text.length && isAlphanumeric(text.charCodeAt(position))) return -1;
  return mod97IsOne(text, start, position) ? position : -1;
}

/** ISO 13616 check over `text[start, end)`, spaces skipped: the first four characters count last, letters as 10..35. */
function mod97IsOne(text: string, start: number, end: number): boolean {
  let remainder = 0;
  const add = (code: number) => {
    const upper = code >= 97 ? code - 32 : code;
    remainder = upper <= 57 ? (remainder * 10 + (upper - 48)) % 97 : (remainder * 100 + (upper - 55)) % 97;
  };
  for (let index = start + 4; index < end; index += 1) {
    const code = text.charCodeAt(index);
    if (code !== 32) add(code);
  }
  for (let index = start; index < start + 4; index += 1) add(text.charCodeAt(index));
  return remainder === 1;
}
