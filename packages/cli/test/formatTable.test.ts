import { describe, expect, it } from 'vitest';
import { formatDuration, formatPairs, formatTable } from '../src/formatTable.js';
import { reportQueryFromOptions } from '../src/reportCommand.js';

describe('formatTable', () => {
  it('pads columns to their widest cell and right-aligns numbers', () => {
    const table = formatTable(
      [{ header: 'role' }, { header: 'count', align: 'right' }],
      [
        ['student', 3],
        ['software_engineer', 12_345],
      ],
    );
    expect(table.split('\n')).toEqual([
      '  role               count',
      '  -----------------  -----',
      '  student                3',
      '  software_engineer  12345',
    ]);
  });

  it('cuts long cells at maxWidth with an ellipsis, counting code points', () => {
    const table = formatTable([{ header: 'q', maxWidth: 5 }], [['日本語のテキスト'], ['👩‍💻ab']]);
    const rows = table.split('\n').slice(2);
    expect(rows[0]).toBe('  日本語の…');
    expect([...rows[1]!.trim()].length).toBeLessThanOrEqual(5);
  });

  it('shows control characters as spaces so one value cannot break the layout', () => {
    const table = formatTable([{ header: 'q' }, { header: 'n', align: 'right' }], [['a\nb\tc', 1]]);
    expect(table.split('\n')).toHaveLength(3);
    expect(table).toContain('a b c');
  });

  it('aligns label and value pairs', () => {
    expect(formatPairs([['a', 1], ['long label', 'x']])).toBe('  a           1\n  long label  x');
  });

  it('formats durations for people', () => {
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(12_300)).toBe('12.3 s');
    expect(formatDuration(245_000)).toBe('4 min 05 s');
  });
});

describe('report flags', () => {
  const now = Date.UTC(2026, 5, 15, 12);

  it('reads --since as a duration back from now and --until as a date-time', () => {
    expect(reportQueryFromOptions({ since: '30d', until: '2026-06-15T00:00:00Z', top: '5', role: 'student' }, now)).toEqual({
      range: { from: now - 30 * 86_400_000, to: Date.UTC(2026, 5, 15) },
      topN: 5,
      userRole: 'student',
    });
  });

  it('leaves the range open when no flag narrows it', () => {
    expect(reportQueryFromOptions({}, now)).toEqual({});
  });

  it('refuses a range that ends before it starts', () => {
    expect(() => reportQueryFromOptions({ since: '1d', until: '2d' }, now)).toThrow(/--since .* must be before --until/);
  });
});
