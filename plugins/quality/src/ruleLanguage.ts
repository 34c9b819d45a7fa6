import { INTERACTION_FIELDS, interactionField, type FieldType, type FieldValues } from './interactionFields.js';
import { RuleSyntaxError } from './qualityErrors.js';

/**
 * The business-rule language: conditions over one interaction's fields, such as
 * `responseTime < 60` or `userRating is null or success or userRating <= 3`. It is parsed by hand
 * and run as a tree of closures: nothing is ever passed to eval or `new Function`, a name is
 * looked up only among the known fields and functions, and every expression is type-checked
 * before it runs, so a rule that would compare text with a number is refused at config time.
 * The grammar is in the README.
 */

/** Longest rule accepted, in characters. */
export const MAX_RULE_LENGTH = 2_000;
/** Deepest nesting of parentheses and operators accepted (keeps the parser's recursion bounded). */
export const MAX_RULE_DEPTH = 64;

type Value = number | string | boolean | null;
type Evaluator = (row: FieldValues) => Value;

/** A parsed, type-checked rule ready to run over rows. */
export interface CompiledRule {
  readonly name: string;
  readonly text: string;
  /** The fields the rule reads, so a source fetches only those. */
  readonly fields: readonly string[];
  /**
   * True when the row satisfies the rule, false when it violates it, null when the answer is
   * unknown because a field it needs is null (like an SQL CHECK constraint, unknown is no violation).
   */
  evaluate(row: FieldValues): boolean | null;
}

type TokenKind = 'number' | 'string' | 'identifier' | 'operator' | 'end';

interface Token {
  kind: TokenKind;
  text: string;
  /** 1-based position of the token's first character. */
  position: number;
  value?: number | string;
}

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'is', 'null', 'true', 'false']);
// Longest first, so `<=` is not read as `<` then `=`.
const OPERATORS = ['<=', '>=', '==', '!=', '<>', '&&', '||', '<', '>', '=', '!', '+', '-', '*', '/', '%', '(', ')', ','];

interface FunctionSpec {
  argument: FieldType;
  result: FieldType;
  apply(value: number | string | boolean): Value;
}

const FUNCTIONS = new Map<string, FunctionSpec>([
  ['length', { argument: 'string', result: 'number', apply: (value) => [...(value as string)].length }],
  ['lower', { argument: 'string', result: 'string', apply: (value) => (value as string).toLowerCase() }],
  ['trim', { argument: 'string', result: 'string', apply: (value) => (value as string).trim() }],
  ['abs', { argument: 'number', result: 'number', apply: (value) => Math.abs(value as number) }],
]);

interface Typed {
  type: FieldType;
  run: Evaluator;
}

/** Parses and type-checks `text`; throws RuleSyntaxError naming `name` and the position of the problem. */
export function parseRule(name: string, text: string): CompiledRule {
  if (text.length > MAX_RULE_LENGTH) throw new RuleSyntaxError(name, MAX_RULE_LENGTH + 1, `a rule may be at most ${MAX_RULE_LENGTH} characters long; this one has ${text.length}`);
  const parser = new RuleParser(name, text, new Lexer(name, text));
  const root = parser.parseRule();
  const run = root.run;
  return {
    name,
    text,
    fields: [...parser.fieldsRead],
    evaluate(row) {
      const value = run(row);
      return value === null ? null : (value as boolean);
    },
  };
}

/**
 * Cuts the rule into tokens as the parser asks for them, so the first problem reported is the
 * first one in the text (an unknown field before a stray character further on).
 */
class Lexer {
  private readonly tokens: Token[] = [];
  private index = 0;

  constructor(
    private readonly rule: string,
    private readonly text: string,
  ) {}

  /** The token `at` positions from the start (the end token repeats past the end). */
  token(at: number): Token {
    while (this.tokens.length <= at && this.tokens[this.tokens.length - 1]?.kind !== 'end') this.tokens.push(this.next());
    return this.tokens[Math.min(at, this.tokens.length - 1)]!;
  }

  private next(): Token {
    const { rule, text } = this;
    while (this.index < text.length && /\s/.test(text[this.index]!)) this.index += 1;
    const index = this.index;
    if (index >= text.length) return { kind: 'end', text: '', position: text.length + 1 };
    const char = text[index]!;
    const position = index + 1;
    if (/[0-9]/.test(char) || (char === '.' && /[0-9]/.test(text[index + 1] ?? ''))) {
      const match = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(text.slice(index))!;
      const after = text[index + match[0].length];
      if (after !== undefined && /[A-Za-z_]/.test(after)) throw new RuleSyntaxError(rule, index + match[0].length + 1, `unexpected "${after}" after the number ${match[0]}`);
      const value = Number(match[0]);
      if (!Number.isFinite(value)) throw new RuleSyntaxError(rule, position, `the number ${match[0]} is too large`);
      this.index += match[0].length;
      return { kind: 'number', text: match[0], position, value };
    }
    if (char === "'" || char === '"') {
      let value = '';
      let cursor = index + 1;
      for (;;) {
        if (cursor >= text.length) throw new RuleSyntaxError(rule, position, `the text starting here is never closed; end it with ${char}`);
        const next = text[cursor]!;
        if (next === '\\') {
          const escaped = text[cursor + 1];
          if (escaped !== '\\' && escaped !== "'" && escaped !== '"') {
            throw new RuleSyntaxError(rule, cursor + 1, `"\\" in text may only escape \\, ' or "`);
          }
          value += escaped;
          cursor += 2;
          continue;
        }
        if (next === char) break;
        value += next;
        cursor += 1;
      }
      this.index = cursor + 1;
      return { kind: 'string', text: text.slice(index, cursor + 1), position, value };
    }
    if (/[A-Za-z_]/.test(char)) {
      const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(index))![0];
      this.index += word.length;
      return { kind: 'identifier', text: word, position };
    }
    const operator = OPERATORS.find((candidate) => text.startsWith(candidate, index));
    if (!operator) throw new RuleSyntaxError(rule, position, `unexpected character "${char}"; a rule uses fields, numbers, 'text', comparisons (< <= > >= == !=), + - * / %, and, or, not, in (…), is null`);
    this.index += operator.length;
    return { kind: 'operator', text: operator, position };
  }
}

class RuleParser {
  readonly fieldsRead = new Set<string>();
  private index = 0;
  private depth = 0;

  constructor(
    private readonly rule: string,
    private readonly text: string,
    private readonly lexer: Lexer,
  ) {}

  parseRule(): Typed {
    const start = this.peek();
    if (start.kind === 'end') throw this.error(start, 'the rule is empty; write a condition such as responseTime < 60');
    const root = this.parseOr();
    const rest = this.peek();
    if (rest.kind !== 'end') throw this.error(rest, `unexpected ${describe(rest)}; expected and, or, or the end of the rule`);
    if (root.type !== 'boolean') throw this.error(start, `a rule must be a condition that is true or false (such as responseTime < 60), but this is a ${root.type}`);
    return root;
  }

  private parseOr(): Typed {
    return this.nested(() => {
      let left = this.parseAnd();
      while (this.acceptWord('or') || this.acceptOperator('||')) {
        const operator = this.previous();
        const right = this.parseAnd();
        this.expectType(left, 'boolean', operator, 'or');
        this.expectType(right, 'boolean', operator, 'or');
        const a = left.run;
        const b = right.run;
        left = {
          type: 'boolean',
          run: (row) => {
            const x = a(row);
            if (x === true) return true;
            const y = b(row);
            if (y === true) return true;
            return x === null || y === null ? null : false;
          },
        };
      }
      return left;
    });
  }

  private parseAnd(): Typed {
    let left = this.parseNot();
    while (this.acceptWord('and') || this.acceptOperator('&&')) {
      const operator = this.previous();
      const right = this.parseNot();
      this.expectType(left, 'boolean', operator, 'and');
      this.expectType(right, 'boolean', operator, 'and');
      const a = left.run;
      const b = right.run;
      left = {
        type: 'boolean',
        run: (row) => {
          const x = a(row);
          if (x === false) return false;
          const y = b(row);
          if (y === false) return false;
          return x === null || y === null ? null : true;
        },
      };
    }
    return left;
  }

  private parseNot(): Typed {
    if (this.acceptWord('not') || this.acceptOperator('!')) {
      const operator = this.previous();
      const operand = this.nested(() => this.parseNot());
      this.expectType(operand, 'boolean', operator, 'not');
      const run = operand.run;
      return { type: 'boolean', run: (row) => negate(run(row)) };
    }
    return this.parseComparison();
  }

  private parseComparison(): Typed {
    const left = this.parseSum();
    const token = this.peek();
    if (token.kind === 'operator' && ['<', '<=', '>', '>=', '==', '=', '!=', '<>'].includes(token.text)) {
      this.index += 1;
      const right = this.parseSum();
      return compare(this, token, left, right);
    }
    if (this.isWord(token, 'is')) {
      this.index += 1;
      const negated = this.acceptWord('not');
      const nullToken = this.peek();
      if (!this.acceptWord('null')) throw this.error(nullToken, `expected null after "is${negated ? ' not' : ''}", got ${describe(nullToken)}`);
      const run = left.run;
      return { type: 'boolean', run: negated ? (row) => run(row) !== null : (row) => run(row) === null };
    }
    if (this.isWord(token, 'in') || (this.isWord(token, 'not') && this.isWord(this.peek(1), 'in'))) {
      const negated = this.acceptWord('not');
      const inToken = this.peek();
      this.index += 1;
      return this.parseInList(left, inToken, negated);
    }
    return left;
  }

  private parseInList(left: Typed, inToken: Token, negated: boolean): Typed {
    this.expectOperator('(', 'after "in"');
    const values = new Set<Value>();
    for (;;) {
      const literal = this.parseListLiteral();
      if (literal.type !== left.type) {
        throw this.error(literal.token, `the list after "in" holds ${article(literal.type)}, but the value compared is ${article(left.type)}; use values of one type`);
      }
      values.add(literal.value);
      if (this.acceptOperator(',')) continue;
      this.expectOperator(')', 'to close the list after "in"');
      break;
    }
    if (left.type === 'boolean') throw this.error(inToken, '"in" compares numbers or text; for a true/false field use == true or == false');
    const run = left.run;
    return {
      type: 'boolean',
      run: (row) => {
        const value = run(row);
        if (value === null) return null;
        return values.has(value) !== negated;
      },
    };
  }

  private parseListLiteral(): { type: FieldType; value: number | string | boolean; token: Token } {
    const token = this.peek();
    const negative = token.kind === 'operator' && token.text === '-';
    if (negative) this.index += 1;
    const literal = this.peek();
    if (literal.kind === 'number') {
      this.index += 1;
      return { type: 'number', value: negative ? -(literal.value as number) : (literal.value as number), token };
    }
    if (!negative && literal.kind === 'string') {
      this.index += 1;
      return { type: 'string', value: literal.value as string, token };
    }
    if (!negative && (this.isWord(literal, 'true') || this.isWord(literal, 'false'))) {
      this.index += 1;
      return { type: 'boolean', value: literal.text.toLowerCase() === 'true', token };
    }
    throw this.error(literal, `expected a number, 'text', true or false in the list after "in", got ${describe(literal)}`);
  }

  private parseSum(): Typed {
    let left = this.parseProduct();
    for (;;) {
      const token = this.peek();
      if (token.kind !== 'operator' || (token.text !== '+' && token.text !== '-')) return left;
      this.index += 1;
      const right = this.parseProduct();
      left = arithmetic(this, token, left, right);
    }
  }

  private parseProduct(): Typed {
    let left = this.parseUnary();
    for (;;) {
      const token = this.peek();
      if (token.kind !== 'operator' || !['*', '/', '%'].includes(token.text)) return left;
      this.index += 1;
      const right = this.parseUnary();
      left = arithmetic(this, token, left, right);
    }
  }

  private parseUnary(): Typed {
    const token = this.peek();
    if (token.kind === 'operator' && token.text === '-') {
      this.index += 1;
      const operand = this.nested(() => this.parseUnary());
      this.expectType(operand, 'number', token, 'the minus sign');
      const run = operand.run;
      return {
        type: 'number',
        run: (row) => {
          const value = run(row);
          return value === null ? null : -(value as number);
        },
      };
    }
    return this.parsePrimary();
  }

  private parsePrimary(): Typed {
    const token = this.peek();
    if (token.kind === 'number') {
      this.index += 1;
      const value = token.value as number;
      return { type: 'number', run: () => value };
    }
    if (token.kind === 'string') {
      this.index += 1;
      const value = token.value as string;
      return { type: 'string', run: () => value };
    }
    if (token.kind === 'operator' && token.text === '(') {
      this.index += 1;
      const inner = this.nested(() => this.parseOr());
      this.expectOperator(')', 'to close the parenthesis opened at position ' + token.position);
      return inner;
    }
    if (token.kind === 'identifier') {
      const word = token.text.toLowerCase();
      if (word === 'true' || word === 'false') {
        this.index += 1;
        const value = word === 'true';
        return { type: 'boolean', run: () => value };
      }
      if (word === 'null') throw this.error(token, 'null can only be tested with "is null" or "is not null"');
      if (KEYWORDS.has(word)) throw this.error(token, `unexpected "${token.text}"; expected a field, a number or 'text'`);
      if (FUNCTIONS.has(token.text)) return this.parseCall(token);
      const field = interactionField(token.text);
      if (!field) {
        if (this.followedByParenthesis()) throw this.error(token, `unknown function "${token.text}"; functions: ${[...FUNCTIONS.keys()].map((fn) => `${fn}()`).join(', ')}`);
        throw this.error(token, `unknown field "${token.text}"; fields: ${INTERACTION_FIELDS.map((candidate) => candidate.name).join(', ')}`);
      }
      this.index += 1;
      this.fieldsRead.add(field.name);
      const fieldName = field.name;
      return { type: field.type, run: (row) => row[fieldName] ?? null };
    }
    if (token.kind === 'end') throw this.error(token, 'unexpected end of the rule; expected a field, a number or \'text\'');
    throw this.error(token, `unexpected ${describe(token)}; expected a field, a number or 'text'`);
  }

  /** Whether the token after the current one is `(`; a problem further on is left for later. */
  private followedByParenthesis(): boolean {
    try {
      const next = this.peek(1);
      return next.kind === 'operator' && next.text === '(';
    } catch (error) {
      if (error instanceof RuleSyntaxError) return false;
      throw error;
    }
  }

  private parseCall(nameToken: Token): Typed {
    const spec = FUNCTIONS.get(nameToken.text)!;
    this.index += 1;
    this.expectOperator('(', `after ${nameToken.text}`);
    const argument = this.nested(() => this.parseOr());
    this.expectType(argument, spec.argument, nameToken, `${nameToken.text}()`);
    this.expectOperator(')', `to close ${nameToken.text}(`);
    const run = argument.run;
    return {
      type: spec.result,
      run: (row) => {
        const value = run(row);
        return value === null ? null : spec.apply(value);
      },
    };
  }

  private nested<T>(parse: () => T): T {
    this.depth += 1;
    if (this.depth > MAX_RULE_DEPTH) throw this.error(this.peek(), `the rule is nested more than ${MAX_RULE_DEPTH} levels deep; simplify it`);
    try {
      return parse();
    } finally {
      this.depth -= 1;
    }
  }

  expectType(operand: Typed, type: FieldType, at: Token, what: string): void {
    if (operand.type !== type) throw this.error(at, `${what} needs ${article(type)}, but got ${article(operand.type)}`);
  }

  private expectOperator(text: string, why: string): void {
    const token = this.peek();
    if (!this.acceptOperator(text)) throw this.error(token, `expected "${text}" ${why}, got ${describe(token)}`);
  }

  private acceptOperator(text: string): boolean {
    const token = this.peek();
    if (token.kind === 'operator' && token.text === text) {
      this.index += 1;
      return true;
    }
    return false;
  }

  private acceptWord(word: string): boolean {
    if (this.isWord(this.peek(), word)) {
      this.index += 1;
      return true;
    }
    return false;
  }

  private isWord(token: Token, word: string): boolean {
    return token.kind === 'identifier' && token.text.toLowerCase() === word;
  }

  private peek(ahead = 0): Token {
    return this.lexer.token(this.index + ahead);
  }

  private previous(): Token {
    return this.lexer.token(this.index - 1);
  }

  error(token: Token, reason: string): RuleSyntaxError {
    return new RuleSyntaxError(this.rule, Math.min(token.position, this.text.length + 1), reason);
  }
}

function compare(parser: RuleParser, token: Token, left: Typed, right: Typed): Typed {
  const operator = token.text === '=' ? '==' : token.text === '<>' ? '!=' : token.text;
  if (left.type !== right.type) {
    throw parser.error(token, `"${token.text}" compares values of one type, but the left side is ${article(left.type)} and the right side ${article(right.type)}`);
  }
  if (left.type === 'boolean' && operator !== '==' && operator !== '!=') {
    throw parser.error(token, `"${token.text}" cannot order true/false values; use == or !=`);
  }
  const a = left.run;
  const b = right.run;
  const test = COMPARISONS[operator]!;
  return {
    type: 'boolean',
    run: (row) => {
      const x = a(row);
      const y = b(row);
      return x === null || y === null ? null : test(x, y);
    },
  };
}

type Comparable = number | string | boolean;
const COMPARISONS: Record<string, (x: Comparable, y: Comparable) => boolean> = {
  '<': (x, y) => x < y,
  '<=': (x, y) => x <= y,
  '>': (x, y) => x > y,
  '>=': (x, y) => x >= y,
  '==': (x, y) => x === y,
  '!=': (x, y) => x !== y,
};

function arithmetic(parser: RuleParser, token: Token, left: Typed, right: Typed): Typed {
  parser.expectType(left, 'number', token, `"${token.text}"`);
  parser.expectType(right, 'number', token, `"${token.text}"`);
  const a = left.run;
  const b = right.run;
  const apply = ARITHMETIC[token.text]!;
  return {
    type: 'number',
    run: (row) => {
      const x = a(row);
      const y = b(row);
      if (x === null || y === null) return null;
      const result = apply(x as number, y as number);
      // Division by zero has no answer: unknown, as in SQL, rather than Infinity.
      return Number.isFinite(result) ? result : null;
    },
  };
}

const ARITHMETIC: Record<string, (x: number, y: number) => number> = {
  '+': (x, y) => x + y,
  '-': (x, y) => x - y,
  '*': (x, y) => x * y,
  '/': (x, y) => x / y,
  '%': (x, y) => x % y,
};

function negate(value: Value): Value {
  return value === null ? null : !value;
}

function article(type: FieldType): string {
  return type === 'boolean' ? 'a true/false value' : type === 'number' ? 'a number' : 'text';
}

function describe(token: Token): string {
  if (token.kind === 'end') return 'the end of the rule';
  return `"${token.text}"`;
}
