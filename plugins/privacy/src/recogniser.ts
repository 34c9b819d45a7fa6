/** A span of text a recogniser found: `[start, end)` in the text it was given. */
export interface Finding {
  /** The recogniser that found it (`email`, `card`, or a custom name). */
  recogniser: string;
  start: number;
  end: number;
  /** What replaces the span (`<EMAIL>`). */
  placeholder: string;
}

/**
 * Finds one kind of personal data in free text. `trigger` is a cheap test run first: when it does
 * not match, the text cannot hold a finding and `find` is skipped. Every built-in recogniser runs
 * in time linear in the text (bounded quantifiers, scans anchored on rare characters).
 */
export interface Recogniser {
  readonly name: string;
  readonly placeholder: string;
  /** Non-global; false means `find` would find nothing. */
  readonly trigger: RegExp;
  /**
   * Optional, for speed: what every match of `trigger` holds. When each recogniser of a scrubber
   * has one, a text holding none of them is passed with two quick tests instead of the union of
   * every trigger (most texts stop there). A hint that misses a match of its trigger would let
   * personal data through, so every built-in's hint is property-tested against its trigger.
   */
  readonly triggerHint?: TriggerHint;
  /** Appends what it finds to `found`, in any order; spans may overlap other recognisers' spans. */
  find(text: string, found: Finding[]): void;
}

/** Every match of a trigger holds one of `chars` or one of `literals` (case-sensitive). */
export interface TriggerHint {
  readonly chars: string;
  readonly literals?: readonly string[];
}

/** The ASCII digits, which most triggers need. */
export const DIGITS = '0123456789';

/** Decides whether a regex match is really the thing (a checksum, a range check). */
export type MatchValidator = (match: string) => boolean;

export interface RegexFinderOptions {
  /** Report this capture group's span instead of the whole match (the token after `Bearer `). */
  group?: number;
  validate?: MatchValidator;
  /**
   * What a validator that throws means. Built-in validators never throw; for a custom one, `match`
   * (the default) fails closed: when in doubt, the text is redacted.
   */
  onValidatorError?: 'match' | 'skip';
}

/**
 * Runs a global regex over the text and reports each validated match. The regex must have the `g`
 * flag, and the `d` flag when `group` is set. A zero-length match is skipped, never looped on.
 */
export function findWithRegex(regex: RegExp, text: string, name: string, placeholder: string, found: Finding[], options: RegexFinderOptions = {}): void {
  regex.lastIndex = 0;
  for (let match = regex.exec(text); match !== null; match = regex.exec(text)) {
    if (match[0].length === 0) {
      regex.lastIndex += 1;
      continue;
    }
    let start = match.index;
    let end = start + match[0].length;
    let value = match[0];
    if (options.group !== undefined) {
      const span = match.indices?.[options.group];
      const groupText = match[options.group];
      if (!span || groupText === undefined || groupText.length === 0) continue;
      [start, end] = span;
      value = groupText;
    }
    if (options.validate && !runValidator(options.validate, value, options.onValidatorError ?? 'match')) continue;
    found.push({ recogniser: name, start, end, placeholder });
  }
  regex.lastIndex = 0;
}

function runValidator(validate: MatchValidator, value: string, onError: 'match' | 'skip'): boolean {
  try {
    return validate(value) === true;
  } catch {
    return onError === 'match';
  }
}

/** Character tests shared by the hand-written scanners (ASCII only, by char code). */
export function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

export function isAsciiLetter(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

/** Letter, digit or underscore: what glues a number to a word (`ORD4111…`, `v1.2.3.4`). */
export function isWordChar(code: number): boolean {
  return isDigit(code) || isAsciiLetter(code) || code === 95;
}
