/**
 * A static check for the regex shape behind most catastrophic backtracking: a group that repeats
 * and holds a quantifier of variable length, one of them unbounded (`(a+)+`, `(\w+\s?)*`,
 * `(x{1,5})+`). Such a pattern can take exponential time on text that almost matches. The check
 * reads the pattern's syntax only; it does not catch overlapping alternatives (`(a|aa)+`), so custom
 * patterns should still prefer bounded quantifiers (`{1,64}` over `+`).
 */

interface Quantifier {
  min: number;
  max: number;
}

interface Frame {
  /** Some quantifier inside can repeat without bound. */
  unbounded: boolean;
  /** Some quantifier inside has min ≠ max. */
  variable: boolean;
}

/** Reads a quantifier at `index`: its bounds and the index after it (a lazy `?` included). */
function readQuantifier(source: string, index: number): { quantifier: Quantifier; next: number } | null {
  const char = source[index];
  let quantifier: Quantifier | null = null;
  let next = index + 1;
  if (char === '*') quantifier = { min: 0, max: Infinity };
  else if (char === '+') quantifier = { min: 1, max: Infinity };
  else if (char === '?') quantifier = { min: 0, max: 1 };
  else if (char === '{') {
    const match = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(index, index + 24));
    if (!match) return null;
    const min = Number(match[1]);
    const max = match[2] === undefined ? min : match[3] === '' ? Infinity : Number(match[3]);
    quantifier = { min, max };
    next = index + match[0].length;
  }
  if (!quantifier) return null;
  if (source[next] === '?') next += 1;
  return { quantifier, next };
}

/** Describes the first nested repetition found, or null when the pattern has none. */
export function findNestedRepetition(source: string): string | null {
  const stack: Array<Frame & { start: number }> = [{ unbounded: false, variable: false, start: 0 }];
  let index = 0;
  while (index < source.length) {
    const char = source[index];
    if (char === '\\') {
      index = applyQuantifier(stack, source, index + 2);
      continue;
    }
    if (char === '[') {
      index += 1;
      if (source[index] === '^') index += 1;
      if (source[index] === ']') index += 1;
      while (index < source.length && source[index] !== ']') index += source[index] === '\\' ? 2 : 1;
      index = applyQuantifier(stack, source, index + 1);
      continue;
    }
    if (char === '(') {
      stack.push({ unbounded: false, variable: false, start: index });
      index += 1;
      continue;
    }
    if (char === ')' && stack.length > 1) {
      const frame = stack.pop()!;
      const read = readQuantifier(source, index + 1);
      const parent = stack[stack.length - 1]!;
      if (read) {
        const { quantifier } = read;
        const repeats = quantifier.max > 1;
        if ((quantifier.max === Infinity && frame.variable) || (repeats && frame.unbounded)) {
          return `the group at character ${frame.start} repeats (${source.slice(index + 1, read.next)}) and holds a variable-length quantifier: ${source.slice(frame.start, read.next)}`;
        }
        parent.unbounded ||= frame.unbounded || quantifier.max === Infinity;
        parent.variable ||= frame.variable || quantifier.min !== quantifier.max;
        index = read.next;
      } else {
        parent.unbounded ||= frame.unbounded;
        parent.variable ||= frame.variable;
        index += 1;
      }
      continue;
    }
    index = applyQuantifier(stack, source, index + 1);
  }
  return null;
}

/** After an atom ending before `index`: records its quantifier, if any, in the innermost group. */
function applyQuantifier(stack: Frame[], source: string, index: number): number {
  const read = readQuantifier(source, index);
  if (!read) return index;
  const frame = stack[stack.length - 1]!;
  frame.unbounded ||= read.quantifier.max === Infinity;
  frame.variable ||= read.quantifier.min !== read.quantifier.max;
  return read.next;
}
