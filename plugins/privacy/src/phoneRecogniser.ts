import { nanpValid } from './checksums.js';
import { DIGITS, findWithRegex, type Finding, type Recogniser } from './recogniser.js';

interface PhoneShape {
  digits: number;
  /** Lengths of the digit groups, in order. */
  groups: number[];
  /** One separator between groups (parentheses aside), one pair of parentheses at most, in order. */
  separatorsPlausible: boolean;
  hasDot: boolean;
}

/** One pass over a candidate: digit count, group lengths, and whether its punctuation reads like a phone number. */
function shapeOf(text: string): PhoneShape {
  const groups: number[] = [];
  let digits = 0;
  let run = 0;
  let previousWasSeparator = false;
  let open = 0;
  let close = 0;
  let plausible = true;
  let hasDot = false;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code >= 48 && code <= 57) {
      digits += 1;
      run += 1;
      previousWasSeparator = false;
      continue;
    }
    if (run > 0) groups.push(run);
    run = 0;
    if (code === 40) {
      open += 1;
      if (open > 1 || close > 0 || text.charCodeAt(index + 1) === 41) plausible = false;
    } else if (code === 41) {
      close += 1;
      if (close > open) plausible = false;
    } else if (code === 32 || code === 45 || code === 46) {
      if (previousWasSeparator) plausible = false;
      previousWasSeparator = true;
      if (code === 46) hasDot = true;
    }
  }
  if (run > 0) groups.push(run);
  if (open !== close) plausible = false;
  return { digits, groups, separatorsPlausible: plausible, hasDot };
}

/** Dates written with the same shape as phone numbers: 2024-05-01, 01/05/2024, 1.5.2024. */
function looksLikeDate(groups: readonly number[]): boolean {
  if (groups.length !== 3) return false;
  const [a, b, c] = groups as [number, number, number];
  return (a === 4 && b <= 2 && c <= 2) || (a <= 2 && b <= 2 && c === 4);
}

/** `.` separates groups only in the North American 3-3-4 shape (`415.555.2671`); elsewhere it means versions and decimals. */
function dotsPlausible(shape: PhoneShape): boolean {
  if (!shape.hasDot) return true;
  const lengths = shape.groups.join(',');
  return lengths === '3,3,4' || lengths === '1,3,3,4';
}

function plausiblePhone(text: string, minDigits: number): boolean {
  const shape = shapeOf(text);
  return shape.digits >= minDigits && shape.digits <= 15 && shape.separatorsPlausible && dotsPlausible(shape) && !looksLikeDate(shape.groups);
}

function validInternational(text: string): boolean {
  return plausiblePhone(text, 8);
}

function validNanp(text: string): boolean {
  let digits = text.replace(/\D/g, '');
  if (digits.length === 11 && digits[0] === '1') digits = digits.slice(1);
  return nanpValid(digits);
}

function validAfterKeyword(text: string): boolean {
  return plausiblePhone(text, 7);
}

/**
 * Phone numbers in three forms:
 * - international, E.164-ish: `+` and 8–15 digits in groups (`+44 20 7946 0958`, `+1-415-555-2671`,
 *   `+49 (0)30 123456`);
 * - North American: `(415) 555-2671`, `415-555-2671`, `415.555.2671`, `1-800-555-0199`, with a
 *   valid area code and exchange (2–9 first, not N11);
 * - any 7–15 digit number right after a word that announces one ("phone", "mobile", "call me",
 *   "text me", "fax", "WhatsApp"…), which is how bare `4155552671` or national formats are caught.
 * Dates in the same shapes are not phones. Quantifiers are bounded and candidates start at a `+`,
 * a group boundary or a keyword, so the scan stays linear.
 */
export function createPhoneRecogniser(placeholder = '<PHONE>'): Recogniser {
  const international = /(?<![\w+])\+[1-9][\d ().-]{6,24}\d(?!\w)/g;
  const northAmerican = /(?<![\w+.\-/])(?:1[ .-]?)?(?:\(\d{3}\)[ .-]?|\d{3}[ .-])\d{3}[ .-]\d{4}(?!\w|[.\-/]\d)/g;
  const afterKeyword =
    /(?<![A-Za-z])(?:phone|telephone|tel|mobile|cell(?:phone)?|whatsapp|fax|sms|(?:call|text|ring|reach) (?:me|us|him|her|them)|contact (?:me|us))(?![A-Za-z])[^\d\n]{0,24}(\+?\(?\d[\d ().-]{5,20}\d)(?!\w)/dgi;
  return {
    name: 'phone',
    placeholder,
    trigger: /\d(?:[ ().-]{0,3}\d){6}/,
    triggerHint: { chars: DIGITS },
    find(text: string, found: Finding[]): void {
      findWithRegex(international, text, 'phone', placeholder, found, { validate: validInternational });
      findWithRegex(northAmerican, text, 'phone', placeholder, found, { validate: validNanp });
      findWithRegex(afterKeyword, text, 'phone', placeholder, found, { group: 1, validate: validAfterKeyword });
    },
  };
}
