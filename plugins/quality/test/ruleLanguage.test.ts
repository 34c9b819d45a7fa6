import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_RULE_DEPTH, MAX_RULE_LENGTH, RuleSyntaxError, parseRule, type FieldValues } from '../src/index.js';

const row: FieldValues = {
  eventId: 'ev-1',
  sessionId: 's-1',
  timestamp: 1_767_225_600_000,
  userRole: 'student',
  query: '  How do I use SQLite?  ',
  queryHash: 'abc',
  queryType: 'technical',
  responseTime: 2.5,
  responseLength: null,
  codeSnippetsShown: 2,
  citationsProvided: 0,
  success: true,
  userRating: null,
  followUpQuery: false,
  conversationTurn: 3,
  ipHash: null,
  userAgentHash: null,
  contentCount: 1,
};

const evaluate = (text: string, values: FieldValues = row) => parseRule('test', text).evaluate(values);

function syntaxError(text: string): RuleSyntaxError {
  try {
    parseRule('my-rule', text);
  } catch (error) {
    if (error instanceof RuleSyntaxError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be refused`);
}

describe('the rule language', () => {
  it.each([
    ['responseTime < 60', true],
    ['responseTime >= 2.5 and responseTime <= 2.5', true],
    ['responseTime * 1000 > 3000', false],
    ['(responseTime + 0.5) / 2 == 1.5', true],
    ['conversationTurn % 2 = 1', true],
    ['-responseTime < 0', true],
    ['userRole == "student" && queryType != \'career\'', true],
    ['userRole in ("student", "recruiter")', true],
    ['queryType not in (\'technical\')', false],
    ['conversationTurn in (1, 2, -3)', false],
    ['success', true],
    ['not success or followUpQuery', false],
    ['!followUpQuery', true],
    ['success == true and followUpQuery = false', true],
    ['responseLength is null', true],
    ['userRole is not null', true],
    ['length(trim(query)) <= 25 and lower(userRole) = "student"', true],
    ['abs(-responseTime) = responseTime', true],
    ['contentCount > 0 OR codeSnippetsShown > 5', true],
    ['timestamp > 1.7e12', true],
    ["userRole == 'it\\'s'", false],
  ])('evaluates %s', (text, expected) => {
    expect(evaluate(text)).toBe(expected);
  });

  it('treats a comparison with a null field as unknown, never as a violation', () => {
    expect(evaluate('userRating >= 4')).toBeNull();
    expect(evaluate('not (userRating >= 4)')).toBeNull();
    expect(evaluate('userRating >= 4 or success')).toBe(true);
    expect(evaluate('userRating >= 4 and not success')).toBe(false);
    expect(evaluate('userRating is null or userRating >= 4')).toBe(true);
    expect(evaluate('responseLength / 0 > 1')).toBeNull();
    expect(evaluate('responseTime / 0 > 1')).toBeNull();
  });

  it('lists the fields a rule reads, so a source fetches only those', () => {
    expect(parseRule('r', 'responseTime < 60 and (userRating is null or success)').fields).toEqual(['responseTime', 'userRating', 'success']);
  });

  it.each([
    ['', 1, 'the rule is empty'],
    ['responseTime <', 15, 'unexpected end of the rule'],
    ['respTime < 60', 1, 'unknown field "respTime"; fields: eventId, sessionId'],
    ['responseTime < 60 ; drop table', 19, 'unexpected character ";"'],
    ['responseTime < "60"', 14, '"<" compares values of one type, but the left side is a number and the right side text'],
    ['responseTime + 1', 1, 'a rule must be a condition that is true or false'],
    ['userRole == \'student', 13, 'the text starting here is never closed'],
    ['(responseTime < 60', 19, 'expected ")" to close the parenthesis opened at position 1'],
    ['responseTime < 60)', 18, 'unexpected ")"; expected and, or, or the end of the rule'],
    ['userRating == null', 15, 'null can only be tested with "is null" or "is not null"'],
    ['success < true', 9, 'cannot order true/false values'],
    ['success and responseTime', 9, 'and needs a true/false value, but got a number'],
    ['query - 1 > 0', 7, '"-" needs a number, but got text'],
    ['eval(query) = 1', 1, 'unknown function "eval"; functions: length(), lower(), trim(), abs()'],
    ['constructor = 1', 1, 'unknown field "constructor"'],
    ['__proto__ is null', 1, 'unknown field "__proto__"'],
    ['userRole in (1, 2)', 14, 'the list after "in" holds a number, but the value compared is text'],
    ['userRole is empty', 13, 'expected null after "is"'],
    ['responseTime < 6O', 17, 'unexpected "O" after the number 6'],
    ['responseTime < 1e999', 16, 'the number 1e999 is too large'],
    ["query = 'a\\b'", 11, '"\\" in text may only escape'],
  ])('refuses %j at position %i naming the rule', (text, position, reason) => {
    const error = syntaxError(text);
    expect(error.code).toBe('STRATA_CONFIG_INVALID');
    expect(error.position).toBe(position);
    expect(error.message).toBe(`quality: rule "my-rule" at position ${position}: ${error.reason}`);
    expect(error.reason).toContain(reason);
  });

  it('refuses rules that are too long or nested too deeply', () => {
    expect(syntaxError(`responseTime < ${'1'.repeat(MAX_RULE_LENGTH)}`).reason).toMatch(/at most 2000 characters/);
    expect(syntaxError(`${'('.repeat(MAX_RULE_DEPTH + 1)}success${')'.repeat(MAX_RULE_DEPTH + 1)}`).reason).toMatch(/nested more than 64 levels/);
    expect(syntaxError(`${'not '.repeat(MAX_RULE_DEPTH + 1)}success`).reason).toMatch(/nested more than 64 levels/);
  });

  it('either parses any text or refuses it with a RuleSyntaxError at a position inside it', () => {
    const alphabet = fc.constantFrom(...'responseTime userRating success query 0123456789.eE+-*/%<>=!&|()\'", in is not null and or true'.split(''));
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: alphabet, maxLength: 60 })), (text) => {
        try {
          const rule = parseRule('fuzz', text);
          const outcome = rule.evaluate(row);
          expect(outcome === null || typeof outcome === 'boolean').toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(RuleSyntaxError);
          const { position } = error as RuleSyntaxError;
          expect(position >= 1 && position <= text.length + 1).toBe(true);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('compares numbers as JavaScript does', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 }), fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 }), (a, b) => {
        const values = { ...row, responseTime: a, userRating: b };
        expect(parseRule('p', 'responseTime < userRating').evaluate(values)).toBe(a < b);
        expect(parseRule('p', 'responseTime - userRating >= 0').evaluate(values)).toBe(a - b >= 0);
      }),
    );
  });
});
