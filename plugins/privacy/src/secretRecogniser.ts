import { DIGITS, findWithRegex, type Finding, type MatchValidator, type Recogniser } from './recogniser.js';

interface SecretPattern {
  /** What the pattern finds (documentation; the README's table lists the same). */
  kind: string;
  /** Cheap substring test: without it the pattern cannot match. Case-sensitive unless `hintIgnoresCase`. */
  hint: string | readonly string[];
  hintIgnoresCase?: boolean;
  regex?: RegExp;
  /** A hand-written scan, for what a bounded regex cannot find in linear time. */
  scan?: (text: string, found: Array<[number, number]>) => void;
  /** Redact this capture group rather than the whole match (keep `Bearer `, `password=`). */
  group?: number;
  validate?: MatchValidator;
}

const hasDigit = (text: string) => /\d/.test(text);

/** A value after `password:` is a secret only if it does not read like a word ("password: forgotten"). */
function secretValueLooksReal(text: string): boolean {
  return text.length >= 12 || /[^A-Za-z]/.test(text);
}

/** `Basic` credentials decode to `user:password`. */
function basicCredentials(text: string): boolean {
  try {
    return Buffer.from(text, 'base64').toString('latin1').includes(':');
  } catch {
    return false;
  }
}

/**
 * Every pattern starts at a literal prefix and is guarded by a lookbehind on its token alphabet, so
 * a long run of token characters is entered once, not at every position; every quantifier is bounded.
 */
function secretPatterns(): SecretPattern[] {
  return [
    { kind: 'AWS access key id', hint: ['AKIA', 'ASIA', 'ABIA', 'ACCA'], regex: /(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])/g },
    {
      kind: 'AWS secret access key (after its name)',
      hint: 'aws_secret_access_key',
      hintIgnoresCase: true,
      regex: /aws_secret_access_key["']?[ \t]{0,3}[:=][ \t]{0,3}["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])/dgi,
      group: 1,
    },
    { kind: 'GitHub token', hint: ['gh', 'github_pat_'], regex: /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,244})(?![A-Za-z0-9_])/g },
    { kind: 'GitLab token', hint: 'glpat-', regex: /(?<![A-Za-z0-9_-])glpat-[A-Za-z0-9_-]{20,64}(?![A-Za-z0-9_-])/g },
    { kind: 'Slack token', hint: ['xox', 'xapp-'], regex: /(?<![A-Za-z0-9-])(?:xox[abposr]|xapp)-[A-Za-z0-9-]{10,250}(?![A-Za-z0-9-])/g, validate: hasDigit },
    { kind: 'Stripe secret or restricted key', hint: ['sk_live_', 'sk_test_', 'rk_live_', 'rk_test_'], regex: /(?<![A-Za-z0-9_])[sr]k_(?:live|test)_[A-Za-z0-9]{10,247}(?![A-Za-z0-9])/g },
    { kind: 'OpenAI / Anthropic style key (sk-…)', hint: 'sk-', regex: /(?<![A-Za-z0-9_-])sk-[A-Za-z0-9_-]{20,250}(?![A-Za-z0-9_-])/g, validate: hasDigit },
    { kind: 'Google API key', hint: 'AIza', regex: /(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])/g },
    { kind: 'npm token', hint: 'npm_', regex: /(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])/g },
    { kind: 'SendGrid key', hint: 'SG.', regex: /(?<![A-Za-z0-9_-])SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g },
    { kind: 'JSON Web Token', hint: 'eyJ', regex: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,4096}\.eyJ[A-Za-z0-9_-]{5,8192}\.[A-Za-z0-9_-]{0,4096}/g },
    { kind: 'Bearer token', hint: 'earer', hintIgnoresCase: true, regex: /(?<![A-Za-z0-9_])[Bb]earer[ \t]{1,4}([A-Za-z0-9._~+/-]{16,4096}={0,2})/dg, group: 1, validate: hasDigit },
    { kind: 'Basic credentials', hint: 'Basic', regex: /(?<![A-Za-z0-9_])Basic[ \t]{1,4}([A-Za-z0-9+/]{8,4096}={0,2})(?![A-Za-z0-9+/=])/dg, group: 1, validate: basicCredentials },
    { kind: 'credentials in a URL', hint: '://', regex: /:\/\/([^\s/:@]{1,128}:[^\s/@]{1,256})@/dg, group: 1 },
    { kind: 'private key block (PEM)', hint: '-----BEGIN', scan: findPrivateKeyBlocks },
    {
      kind: 'password, secret, API key or token after its name',
      hint: ['pass', 'secret', 'key', 'token'],
      hintIgnoresCase: true,
      regex:
        /(?<![A-Za-z0-9_])(?:password|passwd|passphrase|secret|client[_-]?secret|secret[_-]?key|api[_-]?key|apikey|access[_-]?key|private[_-]?key|access[_-]?token|auth[_-]?token|refresh[_-]?token|api[_-]?token)["']?[ \t]{0,3}[:=][ \t]{0,3}["']?([^\s"'<>,;]{4,256})/dgi,
      group: 1,
      validate: secretValueLooksReal,
    },
  ];
}

const MAX_PEM_BODY = 16_384;

/**
 * `-----BEGIN … PRIVATE KEY-----` through its `-----END … PRIVATE KEY-----` line. A block cut off
 * before its end line is redacted up to the next block or the end of its base64 body. The search
 * for the end line stops at the next `-----BEGIN`, so each character is read a bounded number of times.
 */
function findPrivateKeyBlocks(text: string, found: Array<[number, number]>): void {
  const header = /-----BEGIN (?:[A-Z0-9]{1,10} ){0,3}PRIVATE KEY-----/y;
  const footer = /-----END (?:[A-Z0-9]{1,10} ){0,3}PRIVATE KEY-----/y;
  const bodyChar = /[A-Za-z0-9+/=\s]/;
  // The next `-----END` at or after the current block; it only moves forward, so finding it is linear overall.
  let endAt = -2;
  for (let begin = text.indexOf('-----BEGIN'); begin !== -1; ) {
    const next = text.indexOf('-----BEGIN', begin + 10);
    header.lastIndex = begin;
    if (header.test(text)) {
      const bodyStart = header.lastIndex;
      const limit = Math.min(next === -1 ? text.length : next, bodyStart + MAX_PEM_BODY);
      if (endAt !== -1 && endAt < bodyStart) endAt = text.indexOf('-----END', bodyStart);
      let end = -1;
      while (endAt !== -1 && endAt < limit) {
        footer.lastIndex = endAt;
        if (footer.test(text)) {
          end = footer.lastIndex;
          break;
        }
        endAt = text.indexOf('-----END', endAt + 8);
      }
      if (end === -1) {
        end = bodyStart;
        while (end < limit && bodyChar.test(text[end]!)) end += 1;
      }
      found.push([begin, end]);
    }
    begin = next;
  }
}

function hintPresent(pattern: SecretPattern, text: string, lower: () => string): boolean {
  const hints = typeof pattern.hint === 'string' ? [pattern.hint] : pattern.hint;
  const haystack = pattern.hintIgnoresCase ? lower() : text;
  return hints.some((hint) => haystack.includes(pattern.hintIgnoresCase ? hint.toLowerCase() : hint));
}

/**
 * API keys, tokens and credentials, all replaced by `<SECRET>`: AWS (`AKIA…`), GitHub (`ghp_…`,
 * `github_pat_…`), GitLab, Slack (`xox…`), Stripe (`sk_live_…`, `sk_test_…`), OpenAI-style
 * `sk-…`, Google (`AIza…`), npm, SendGrid, JWTs (`eyJ….eyJ….…`), `Bearer`/`Basic` credentials,
 * `user:password@` in URLs, PEM private keys, and the value after `password=`, `api_key:` and similar.
 */
export function createSecretRecogniser(placeholder = '<SECRET>'): Recogniser {
  const patterns = secretPatterns();
  return {
    name: 'secret',
    placeholder,
    // What every pattern needs beyond letters: a digit (Slack, `sk-`, Bearer are validated to hold
    // one), `_` (GitHub, Stripe, npm), `:` or `=` (URLs, `password=`), or a literal prefix. Plain prose
    // has none of these, and a case-sensitive class test is cheap.
    trigger: /[\d_:=]|eyJ|SG\.|glpat-|-----BEGIN|A(?:KIA|SIA|BIA|CCA|Iza)|Basic/,
    triggerHint: { chars: `${DIGITS}_:=`, literals: ['eyJ', 'SG.', 'glpat-', '-----BEGIN', 'AKIA', 'ASIA', 'ABIA', 'ACCA', 'AIza', 'Basic'] },
    find(text: string, found: Finding[]): void {
      let lowered: string | undefined;
      const lower = () => (lowered ??= text.toLowerCase());
      for (const pattern of patterns) {
        if (!hintPresent(pattern, text, lower)) continue;
        if (pattern.regex) findWithRegex(pattern.regex, text, 'secret', placeholder, found, { group: pattern.group, validate: pattern.validate });
        if (pattern.scan) {
          const spans: Array<[number, number]> = [];
          pattern.scan(text, spans);
          for (const [start, end] of spans) found.push({ recogniser: 'secret', start, end, placeholder });
        }
      }
    },
  };
}
