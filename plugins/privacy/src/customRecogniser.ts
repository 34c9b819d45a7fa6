import type { Issue } from '@strata/core';
import { ibanValid, luhnValid } from './checksums.js';
import { BUILT_IN_PLACEHOLDERS, BUILT_IN_RECOGNISERS } from './builtInRecognisers.js';
import { findWithRegex, type Finding, type MatchValidator, type Recogniser } from './recogniser.js';
import { findNestedRepetition } from './regexSafety.js';

/** Checks a custom recogniser can use from a JSON config, where no function can be written. */
export const NAMED_VALIDATORS = {
  /** The digits of the match pass the Luhn check (card-like numbers, many national ids). */
  luhn: (match: string) => luhnValid(match.replace(/\D/g, '')),
  /** The match, spaces removed, is a valid IBAN. */
  iban: (match: string) => ibanValid(match.replace(/\s/g, '')),
} as const satisfies Record<string, MatchValidator>;

export type NamedValidator = keyof typeof NAMED_VALIDATORS;

/**
 * A team's own recogniser, from config: `{ name: 'employee-id', pattern: '\\bEMP-\\d{6}\\b' }`.
 * In a TypeScript config `pattern` may be a RegExp and `validate` a function.
 */
export interface CustomRecogniserConfig {
  /** Letters, digits, `-` and `_`; not a built-in name. Used in findings and messages. */
  name: string;
  /** A JavaScript regular expression (source text, or a RegExp in a TS config). */
  pattern: string | RegExp;
  /** Regex flags among `i`, `m`, `s`, `u` (`g` and `d` are added as needed). */
  flags?: string;
  /** What replaces a match, like `<EMPLOYEE_ID>`. Default: `<` + the name in upper case + `>`. */
  placeholder?: string;
  /** Redact only this capture group of each match (keep a label such as `employee id: `). */
  group?: number;
  /** A check a match must pass: `luhn`, `iban`, or (TS config) a function. One that throws counts as a match. */
  validate?: NamedValidator | MatchValidator;
}

export const RECOGNISER_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/;
export const PLACEHOLDER_FORMAT = /^<[A-Z][A-Z0-9_]{0,31}>$/;
const ALLOWED_FLAGS = /^[imsu]*$/;

export function defaultPlaceholder(name: string): string {
  return `<${name.toUpperCase().replace(/-/g, '_')}>`;
}

function sourceAndFlags(config: CustomRecogniserConfig): { source: string; flags: string } {
  if (config.pattern instanceof RegExp) {
    return { source: config.pattern.source, flags: (config.flags ?? config.pattern.flags).replace(/[gyd]/g, '') };
  }
  return { source: config.pattern, flags: config.flags ?? '' };
}

/**
 * Every problem with a list of custom recognisers, each with its path (`recognisers[1].pattern`),
 * without running them on any data: the pattern compiles, cannot match the empty string, has no
 * nested repetition, does not match any placeholder (scrubbed text would be scrubbed again), and
 * names and placeholders are unique.
 */
export function checkCustomRecognisers(configs: readonly CustomRecogniserConfig[], pathPrefix = 'recognisers'): Issue[] {
  const issues: Issue[] = [];
  const names = new Set<string>(BUILT_IN_RECOGNISERS);
  const placeholders = new Set<string>(Object.values(BUILT_IN_PLACEHOLDERS));
  for (const config of configs) placeholders.add(config.placeholder ?? defaultPlaceholder(String(config.name)));
  configs.forEach((config, index) => {
    const at = `${pathPrefix}[${index}]`;
    if (typeof config.name !== 'string' || !RECOGNISER_NAME.test(config.name)) {
      issues.push({ path: `${at}.name`, message: 'must be 1–32 letters, digits, "-" or "_", starting with a letter' });
    } else if (names.has(config.name)) {
      issues.push({ path: `${at}.name`, message: `"${config.name}" is already used by ${(BUILT_IN_RECOGNISERS as readonly string[]).includes(config.name) ? 'a built-in recogniser (disable it with builtIns instead)' : 'another recogniser'}` });
    } else {
      names.add(config.name);
    }
    const placeholder = config.placeholder ?? (typeof config.name === 'string' ? defaultPlaceholder(config.name) : '');
    if (!PLACEHOLDER_FORMAT.test(placeholder)) {
      issues.push({ path: config.placeholder === undefined ? `${at}.name` : `${at}.placeholder`, message: `placeholder ${JSON.stringify(placeholder)} must look like <EMPLOYEE_ID>: "<", an upper-case letter, up to 31 upper-case letters, digits or "_", ">"` });
    }
    const { source, flags } = sourceAndFlags(config);
    if (!ALLOWED_FLAGS.test(flags)) {
      issues.push({ path: `${at}.flags`, message: `must use only the flags i, m, s and u, got ${JSON.stringify(flags)}` });
      return;
    }
    let regex: RegExp;
    try {
      regex = new RegExp(source, `${flags}g`);
    } catch (error) {
      issues.push({ path: `${at}.pattern`, message: `does not compile: ${error instanceof Error ? error.message : String(error)}` });
      return;
    }
    if (new RegExp(`^(?:${source})`, flags).test('')) {
      issues.push({ path: `${at}.pattern`, message: 'matches the empty string; a recogniser must match at least one character' });
      return;
    }
    const nested = findNestedRepetition(source);
    if (nested) issues.push({ path: `${at}.pattern`, message: `may backtrack catastrophically: ${nested}; use a bounded quantifier such as {1,64} instead` });
    for (const other of placeholders) {
      regex.lastIndex = 0;
      if (regex.test(other)) {
        issues.push({ path: `${at}.pattern`, message: `matches the placeholder ${other}, so scrubbed text would be scrubbed again; make the pattern stricter` });
        break;
      }
    }
    if (config.group !== undefined) {
      const groups = new RegExp(`${source}|`, flags).exec('')!.length - 1;
      if (!Number.isInteger(config.group) || config.group < 1 || config.group > groups) {
        issues.push({ path: `${at}.group`, message: `must name one of the pattern's ${groups} capture group(s) (1–${groups})` });
      }
    }
    if (typeof config.validate === 'string' && !(config.validate in NAMED_VALIDATORS)) {
      issues.push({ path: `${at}.validate`, message: `must be one of ${Object.keys(NAMED_VALIDATORS).join(', ')} (or a function in a TypeScript config)` });
    }
  });
  return issues;
}

/** Builds a recogniser from a config that `checkCustomRecognisers` accepted. */
export function createCustomRecogniser(config: CustomRecogniserConfig): Recogniser {
  const { source, flags } = sourceAndFlags(config);
  const regex = new RegExp(source, `${flags}g${config.group !== undefined ? 'd' : ''}`);
  const placeholder = config.placeholder ?? defaultPlaceholder(config.name);
  const validate = typeof config.validate === 'string' ? NAMED_VALIDATORS[config.validate] : config.validate;
  return {
    name: config.name,
    placeholder,
    // A custom pattern has no cheap pre-test of its own; it runs on every text that is scrubbed.
    trigger: /[\s\S]/,
    find(text: string, found: Finding[]): void {
      findWithRegex(regex, text, config.name, placeholder, found, { group: config.group, validate, onValidatorError: 'match' });
    },
  };
}
