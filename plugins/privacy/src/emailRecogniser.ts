import { isAsciiLetter, isDigit, type Finding, type Recogniser } from './recogniser.js';

const AT = 64;
const DOT = 46;
const HYPHEN = 45;
const COLON = 58;

/** Characters of a local part as people write them (RFC 5322's rarer ones, like `/` or `=`, would swallow URL text). */
function isLocalChar(code: number): boolean {
  return isDigit(code) || isAsciiLetter(code) || code === DOT || code === 95 || code === 37 || code === 43 || code === HYPHEN || code === 39;
}

function isDomainChar(code: number): boolean {
  return isDigit(code) || isAsciiLetter(code) || code === DOT || code === HYPHEN;
}

/**
 * Email addresses: a local part, `@`, and a domain of at least two labels ending in an alphabetic
 * (or `xn--`) top-level domain. Scanned outward from each `@` rather than with a regex: every
 * character is looked at at most twice (once from the `@` before it, once from the one after), so
 * the cost is linear whatever the text. Not an address: `@types/node`, `react@18.2.0`,
 * `user@localhost`, SCP-style `user@host:path` (a host and a path), and `git@host`, the SSH login of
 * Git hosting.
 */
export function createEmailRecogniser(placeholder = '<EMAIL>'): Recogniser {
  return {
    name: 'email',
    placeholder,
    trigger: /@/,
    triggerHint: { chars: '@' },
    find(text: string, found: Finding[]): void {
      let floor = 0;
      for (let at = text.indexOf('@'); at !== -1; at = text.indexOf('@', at + 1)) {
        let start = at;
        while (start > floor && isLocalChar(text.charCodeAt(start - 1))) start -= 1;
        floor = at + 1;
        while (start < at && text.charCodeAt(start) === DOT) start += 1;
        if (start === at || text.charCodeAt(at - 1) === DOT || at - start > 256) continue;
        let end = at + 1;
        while (end < text.length && isDomainChar(text.charCodeAt(end))) end += 1;
        while (end > at + 1 && (text.charCodeAt(end - 1) === DOT || text.charCodeAt(end - 1) === HYPHEN)) end -= 1;
        if (!domainValid(text, at + 1, end) || hasDoubleDot(text, start, at)) continue;
        // `host:path` right after the domain is an SCP/SSH remote; "mail me at a@b.com: thanks" keeps its space.
        if (text.charCodeAt(end) === COLON && end + 1 < text.length && text.charCodeAt(end + 1) > 32) continue;
        if (text.charCodeAt(end) === AT) continue;
        // `git@host` is the SSH login of Git hosting (`git clone git@github.com:…`, `ssh git@gitlab.com`), not a mailbox.
        if (at - start === 3 && text.slice(start, at) === 'git') continue;
        found.push({ recogniser: 'email', start, end, placeholder });
      }
    },
  };
}

function hasDoubleDot(text: string, start: number, end: number): boolean {
  for (let index = start + 1; index < end; index += 1) {
    if (text.charCodeAt(index) === DOT && text.charCodeAt(index - 1) === DOT) return true;
  }
  return false;
}

function domainValid(text: string, start: number, end: number): boolean {
  const length = end - start;
  if (length < 4 || length > 253) return false;
  let labels = 0;
  let labelStart = start;
  for (let index = start; index <= end; index += 1) {
    if (index < end && text.charCodeAt(index) !== DOT) continue;
    const labelLength = index - labelStart;
    if (labelLength < 1 || labelLength > 63) return false;
    if (text.charCodeAt(labelStart) === HYPHEN || text.charCodeAt(index - 1) === HYPHEN) return false;
    labels += 1;
    if (index === end) return labels >= 2 && topLevelDomainValid(text, labelStart, end);
    labelStart = index + 1;
  }
  return false;
}

function topLevelDomainValid(text: string, start: number, end: number): boolean {
  if (end - start >= 5 && text.slice(start, start + 4).toLowerCase() === 'xn--') return true;
  if (end - start < 2) return false;
  for (let index = start; index < end; index += 1) {
    if (!isAsciiLetter(text.charCodeAt(index))) return false;
  }
  return true;
}
