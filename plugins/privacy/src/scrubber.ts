import { ConfigError } from '@strata/core';
import { createBuiltInRecognisers, type BuiltInRecogniserName } from './builtInRecognisers.js';
import { checkCustomRecognisers, createCustomRecogniser, type CustomRecogniserConfig } from './customRecogniser.js';
import type { Finding, Recogniser } from './recogniser.js';

export interface ScrubberOptions {
  /** Turn built-in recognisers off (`{ phone: false }`); every one is on by default. */
  builtIns?: Partial<Record<BuiltInRecogniserName, boolean>>;
  /** A team's own recognisers, checked before use (a bad one throws a ConfigError naming its field). */
  recognisers?: readonly CustomRecogniserConfig[];
}

/** Finds personal data in free text and replaces each finding with its typed placeholder. */
export interface Scrubber {
  readonly recognisers: readonly Recogniser[];
  /**
   * The text with every finding replaced (`<EMAIL>`, `<CARD>`…). Pure, never throws, idempotent:
   * `scrub(scrub(x)) === scrub(x)`. Text holding compatibility characters (full-width digits,
   * ligatures) is scanned in NFKC form and, when something is found, returned in that form, so
   * `４１１１ １１１１ …` cannot slip past a recogniser that reads ASCII digits.
   */
  scrub(text: string): string;
  /** One pass of findings over `text` as given: non-overlapping, in order (leftmost, then longest). */
  find(text: string): Finding[];
}

/**
 * Replacing can expose more: a phone glued to an email is found once the email is a placeholder,
 * and so on along a chain. Passes repeat until nothing is found, which takes two in practice.
 */
const MAX_PASSES = 8;
/**
 * What a text becomes when passes still find something after MAX_PASSES: only text crafted as a
 * long chain of glued identifiers gets there. Returning it half scrubbed would leave what the
 * next passes would have found, and scrubbing again would change it.
 */
export const REDACTED_PLACEHOLDER = '<REDACTED>';
const NON_ASCII = /[^\u0000-\u007f]/;

export function createScrubber(options: ScrubberOptions = {}): Scrubber {
  const custom = options.recognisers ?? [];
  const issues = checkCustomRecognisers(custom);
  if (issues.length > 0) throw new ConfigError(issues, 'privacy recognisers');
  return scrubberOf([...createBuiltInRecognisers(options.builtIns), ...custom.map(createCustomRecogniser)]);
}

/** A scrubber over recognisers already built (in priority order). */
export function scrubberOf(recognisers: readonly Recogniser[]): Scrubber {
  const triggers = recognisers.map((recogniser) => new RegExp(recogniser.trigger.source, recogniser.trigger.flags.replace(/[gy]/g, '')));
  const priority = new Map(recognisers.map((recogniser, index) => [recogniser.name, index]));
  // Most texts (no digit, `@`, `_`, `:` or `=`, no token prefix) stop at one quick test: of the
  // recognisers' hints when each has one, else of the union of every trigger.
  const anyTrigger = triggers.length === 0 ? /(?!)/ : new RegExp(triggers.map((trigger) => `(?:${trigger.source})`).join('|'), triggers.some((trigger) => trigger.ignoreCase) ? 'i' : '');
  const hints = hintTestsOf(recognisers);
  const mayTrigger = hints ? (text: string) => hints.chars.test(text) || (hints.literals?.test(text) ?? false) : (text: string) => anyTrigger.test(text);

  function find(text: string): Finding[] {
    if (!mayTrigger(text)) return [];
    const found: Finding[] = [];
    recognisers.forEach((recogniser, index) => {
      if (triggers[index]!.test(text)) recogniser.find(text, found);
    });
    if (found.length <= 1) return found;
    found.sort((a, b) => a.start - b.start || b.end - b.start - (a.end - a.start) || priority.get(a.recogniser)! - priority.get(b.recogniser)!);
    const kept: Finding[] = [];
    let covered = 0;
    for (const finding of found) {
      if (finding.start < covered) continue;
      kept.push(finding);
      covered = finding.end;
    }
    return kept;
  }

  function scrub(text: string): string {
    // The common case: ASCII text (so not normalised) holding no hint of any trigger, in two quick tests.
    if (hints && !hints.charsOrNonAscii.test(text) && !(hints.literals?.test(text) ?? false)) return text;
    const scanned = NON_ASCII.test(text) ? text.normalize('NFKC') : text;
    const first = find(scanned);
    // Nothing found: the caller's text comes back untouched, even when it is not in NFKC form.
    if (first.length === 0) return text;
    let current = replaceFindings(scanned, first);
    for (let pass = 1; ; pass += 1) {
      const normalised = NON_ASCII.test(current) ? current.normalize('NFKC') : current;
      const findings = find(normalised);
      if (findings.length === 0) return normalised;
      if (pass === MAX_PASSES) return REDACTED_PLACEHOLDER;
      current = replaceFindings(normalised, findings);
    }
  }

  return { recognisers, scrub, find };
}

interface HintTests {
  /** A character of some hint. */
  chars: RegExp;
  /** The same, or any non-ASCII character (a text to normalise). */
  charsOrNonAscii: RegExp;
  /** A literal of some hint; null when no hint has one. */
  literals: RegExp | null;
}

/**
 * The union of the recognisers' trigger hints, or null when one has none (a custom recogniser).
 * A single character class and a single alternation of literals each compile to a fast scan,
 * where the union of every trigger tries each of its alternatives at every position: ~110 ns
 * against ~350 ns for a workload query of ~50 characters.
 */
function hintTestsOf(recognisers: readonly Recogniser[]): HintTests | null {
  if (recognisers.length === 0 || recognisers.some((recogniser) => recogniser.triggerHint === undefined)) return null;
  const chars = [...new Set(recognisers.flatMap((recogniser) => [...recogniser.triggerHint!.chars]))].map(escapeInClass).join('');
  const literals = [...new Set(recognisers.flatMap((recogniser) => recogniser.triggerHint!.literals ?? []))].map(escapeLiteral);
  return {
    chars: chars === '' ? /(?!)/ : new RegExp(`[${chars}]`),
    charsOrNonAscii: new RegExp(`[${chars}\\u0080-\\uffff]`),
    literals: literals.length === 0 ? null : new RegExp(literals.join('|')),
  };
}

function escapeInClass(char: string): string {
  return /[\\\]^[-]/.test(char) ? `\\${char}` : char;
}

function escapeLiteral(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|\/-]/g, '\\$&');
}

function replaceFindings(text: string, findings: readonly Finding[]): string {
  let out = '';
  let from = 0;
  for (const finding of findings) {
    out += text.slice(from, finding.start) + finding.placeholder;
    from = finding.end;
  }
  return out + text.slice(from);
}

/** The scrubber with every built-in recogniser and no custom one. */
const DEFAULT_SCRUBBER = createScrubber();

/** Scrubs text with every built-in recogniser (see `createScrubber` to choose them or add your own). */
export function scrubText(text: string): string {
  return DEFAULT_SCRUBBER.scrub(text);
}
