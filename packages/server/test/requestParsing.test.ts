import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { customRange, daysOf, presetRange } from '../dashboard/ranges.js';
import { describeJsonProblem, entriesFromJson, entriesFromNdjson, type JsonTextParser } from '../src/ingestBody.js';
import { parseRange } from '../src/queryParameters.js';

const plainParse: JsonTextParser = (text) => {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, reason: describeJsonProblem(text) };
  }
};

const DAY_MS = 86_400_000;

describe('NDJSON batches', () => {
  it('gives back every value in order, indexed by its line, whatever blank lines surround it', () => {
    const line = fc.oneof(
      fc.record({ value: fc.jsonValue(), blank: fc.constant(false) }),
      fc.record({ value: fc.constant(null), blank: fc.constant(true) }),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 30 }), fc.boolean(), fc.constantFrom('\n', '\r\n'), (lines, trailingNewline, newline) => {
        const text = lines.map((entry) => (entry.blank ? '  ' : JSON.stringify(entry.value))).join(newline) + (trailingNewline ? newline : '');
        const expected = lines.flatMap((entry, index) => (entry.blank ? [] : [{ index, event: JSON.parse(JSON.stringify(entry.value)) as unknown }]));
        expect(entriesFromNdjson(text, plainParse)).toEqual(expected);
      }),
    );
  });

  it('reports a line that is not JSON with its line number and keeps the others', () => {
    expect(entriesFromNdjson('{"a":1}\n{"a":\n[1]', plainParse)).toEqual([
      { index: 0, event: { a: 1 } },
      { index: 1, unparsable: expect.stringMatching(/^line 2: not valid JSON \(/) },
      { index: 2, event: [1] },
    ]);
  });
});

describe('JSON batches', () => {
  it('reads an array as the batch and an object as a batch of one', () => {
    expect(entriesFromJson([{ a: 1 }, 2])).toEqual([
      { index: 0, event: { a: 1 } },
      { index: 1, event: 2 },
    ]);
    expect(entriesFromJson({ a: 1 })).toEqual([{ index: 0, event: { a: 1 } }]);
    expect(() => entriesFromJson('text')).toThrow(/expected a JSON array of interactions \(or one interaction object\), got string/);
  });
});

describe('query ranges', () => {
  const now = Date.UTC(2026, 10, 25, 12);

  it('reads ISO dates, epoch ms and durations back from now', () => {
    expect(parseRange({ from: '2026-11-01', to: String(Date.UTC(2026, 10, 20)) }, now)).toEqual({ from: Date.UTC(2026, 10, 1), to: Date.UTC(2026, 10, 20) });
    expect(parseRange({ from: '7d' }, now)).toEqual({ from: now - 7 * DAY_MS });
    expect(parseRange({}, now)).toEqual({});
  });

  it('names both ends when both are wrong', () => {
    expect(() => parseRange({ from: 'soon', to: '2026-13-01' }, now)).toThrow(/query\.from: must be an ISO-8601 date-time.*; query\.to: is not a real date-time/);
  });
});

describe('dashboard ranges', () => {
  const now = Date.UTC(2026, 10, 25, 15, 30);

  it('ends a preset with today and spans whole UTC days', () => {
    expect(presetRange('7d', now)).toEqual({ preset: '7d', from: Date.UTC(2026, 10, 19), to: Date.UTC(2026, 10, 26), days: 7 });
    expect(daysOf(presetRange('30d', now))).toHaveLength(30);
  });

  it('takes a custom range with both dates included, and refuses one that ends before it starts', () => {
    expect(customRange('2026-11-01', '2026-11-10')).toEqual({ preset: 'custom', from: Date.UTC(2026, 10, 1), to: Date.UTC(2026, 10, 11), days: 10 });
    expect(customRange('2026-11-10', '2026-11-01')).toEqual({ error: 'the end date is before the start date' });
    expect(customRange('', '2026-11-01')).toEqual({ error: 'pick both dates' });
  });
});
