import { join } from 'node:path';
import { ValidationError } from '@strata/core';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AlertStore, buildSilence, checkSummaryTemplate, formatLabelMatcher, matchesAll, parseLabelMatcher, renderSummary, type LabelMatcher } from '../src/index.js';
import { onCleanup, tempDir } from './helpers.js';

const NOW = Date.UTC(2026, 0, 1, 12);
const HOUR = 3_600_000;

function openStore(file = join(tempDir(), 'alerts.db')): AlertStore {
  const store = AlertStore.open(file);
  onCleanup(() => store.close());
  return store;
}

function validationIssues(work: () => unknown): Array<{ path: string; message: string }> {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return [...(error as ValidationError).issues];
  }
  throw new Error('expected a ValidationError');
}

describe('label matchers', () => {
  it('parses the four operators and quoted values', () => {
    expect(parseLabelMatcher('severity=critical')).toEqual({ label: 'severity', op: '=', value: 'critical' });
    expect(parseLabelMatcher('team != db')).toEqual({ label: 'team', op: '!=', value: 'db' });
    expect(parseLabelMatcher('alertname=~High.*')).toEqual({ label: 'alertname', op: '=~', value: 'High.*' });
    expect(parseLabelMatcher('table!~"session.*"')).toEqual({ label: 'table', op: '!~', value: 'session.*' });
  });

  it('explains what is wrong with a bad matcher', () => {
    expect(parseLabelMatcher('severity')).toEqual({ problem: expect.stringContaining('write label=value') });
    expect(parseLabelMatcher('alertname=~(')).toEqual({ problem: expect.stringContaining('is not a regular expression') });
    expect(parseLabelMatcher('1abc=x')).toEqual({ problem: expect.stringContaining('is not a matcher') });
  });

  it('anchors regexes and treats a missing label as empty', () => {
    expect(matchesAll([{ label: 'alertname', op: '=~', value: 'High' }], { alertname: 'HighErrorRate' })).toBe(false);
    expect(matchesAll([{ label: 'alertname', op: '=~', value: 'High.*' }], { alertname: 'HighErrorRate' })).toBe(true);
    expect(matchesAll([{ label: 'team', op: '!=', value: 'db' }], {})).toBe(true);
    expect(matchesAll([{ label: 'team', op: '=', value: '' }], {})).toBe(true);
  });

  it('reads back what it writes, for any label value', () => {
    fc.assert(
      fc.property(fc.constantFrom<LabelMatcher['op']>('=', '!='), fc.string({ maxLength: 30 }), (op, value) => {
        const matcher: LabelMatcher = { label: 'team', op, value };
        expect(parseLabelMatcher(formatLabelMatcher(matcher))).toEqual(matcher);
      }),
    );
  });
});

describe('summary templates', () => {
  it('fills values, labels and percentages', () => {
    const text = renderSummary('{{rule}}: {{value|percent}} {{op}} {{threshold|percent}} on {{labels.table}}{{labels.none}} for {{for}}', {
      value: 0.91234,
      threshold: 0.95,
      op: '<',
      metric: 'quality.completeness',
      rule: 'Incomplete',
      severity: 'warning',
      for: '10m',
      labels: { table: 'user_interactions' },
    });
    expect(text).toBe('Incomplete: 91.2% < 95% on user_interactions for 10m');
  });

  it('names an unknown placeholder or filter', () => {
    expect(checkSummaryTemplate('{{ value }} ok')).toBeUndefined();
    expect(checkSummaryTemplate('{{vlaue}}')).toContain('unknown placeholder {{vlaue}}');
    expect(checkSummaryTemplate('{{value|upper}}')).toContain('unknown filter "upper"');
  });
});

describe('silences', () => {
  it('builds a silence from matchers and a duration', () => {
    const silence = buildSilence({ matchers: ['alertname=HighErrorRate', { label: 'severity', op: '=', value: 'critical' }], durationMs: 2 * HOUR, comment: 'deploy', createdBy: 'ops' }, NOW);
    expect(silence).toMatchObject({ startsAt: NOW, endsAt: NOW + 2 * HOUR, comment: 'deploy', createdBy: 'ops', id: expect.stringMatching(/^[0-9a-f]{12}$/) });
    expect(silence.matchers).toHaveLength(2);
  });

  it('reports every problem of a bad request with its field', () => {
    expect(validationIssues(() => buildSilence({ matchers: [], durationMs: HOUR }, NOW))).toEqual([{ path: 'matchers', message: expect.stringContaining('at least one matcher') }]);
    const issues = validationIssues(() => buildSilence({ matchers: ['severity', 'ok=fine', 'alertname=~['], endsAt: NOW - HOUR }, NOW));
    expect(issues.map((issue) => issue.path)).toEqual(['matchers[0]', 'matchers[2]', 'endsAt']);
    expect(validationIssues(() => buildSilence({ matchers: ['a=b'] }, NOW))[0]!.message).toContain('a silence needs an end');
    expect(validationIssues(() => buildSilence({ matchers: ['a=b'], startsAt: NOW - 2 * HOUR, durationMs: HOUR }, NOW))[0]!.message).toContain('already past');
  });

  it('are active only inside their window, and ending one keeps it on record', () => {
    const store = openStore();
    const later = store.addSilence(buildSilence({ matchers: ['a=b'], startsAt: NOW + HOUR, durationMs: HOUR }, NOW));
    const now = store.addSilence(buildSilence({ matchers: ['a=c'], durationMs: HOUR }, NOW));
    expect(store.activeSilences(NOW).map((silence) => silence.id)).toEqual([now.id]);
    expect(store.activeSilences(NOW + HOUR + 1).map((silence) => silence.id)).toEqual([later.id]);
    expect(store.silences(NOW).map((silence) => silence.id)).toEqual([now.id, later.id]);
    const ended = store.expireSilence(now.id.slice(0, 5), NOW + 60_000);
    expect(ended.endsAt).toBe(NOW + 60_000);
    expect(store.activeSilences(NOW + 60_000)).toEqual([]);
    expect(store.silences(NOW + 60_000, { all: true })).toHaveLength(2);
  });

  it('refuses an unknown or ambiguous silence id', () => {
    const store = openStore();
    expect(() => store.expireSilence('feedbeef', NOW)).toThrow(/no silence with id "feedbeef"/);
    const a = store.addSilence({ ...buildSilence({ matchers: ['a=b'], durationMs: HOUR }, NOW), id: 'abcd01' });
    store.addSilence({ ...buildSilence({ matchers: ['a=b'], durationMs: HOUR }, NOW), id: 'abcd02' });
    expect(() => store.expireSilence('abcd', NOW)).toThrow(/more than one silence id starts with "abcd"/);
    expect(store.expireSilence(a.id, NOW).id).toBe('abcd01');
  });
});

describe('the alert store', () => {
  it('caps history queries and prunes by age', () => {
    const store = openStore();
    const base = { kind: 'state' as const, fingerprint: null, labels: {}, from: null, to: null, value: null, notifier: null, outcome: null, notificationId: null, message: 'x' };
    store.appendHistory(Array.from({ length: 30 }, (_, index) => ({ ...base, at: NOW + index, rule: index % 2 === 0 ? 'Even' : 'Odd' })));
    expect(store.history({ limit: 0 })).toHaveLength(1);
    expect(store.history({ rule: 'Even', limit: 100 })).toHaveLength(15);
    expect(store.history({ since: NOW + 25 }).map((entry) => entry.at)).toEqual([NOW + 29, NOW + 28, NOW + 27, NOW + 26, NOW + 25]);
    expect(store.pruneHistory(NOW + 10)).toBe(10);
    expect(store.history({ limit: 1_000 })).toHaveLength(20);
  });

  it('refuses a file written by a newer version, saying what to do', () => {
    const file = join(tempDir(), 'alerts.db');
    const db = new Database(file);
    db.pragma('user_version = 99');
    db.close();
    expect(() => AlertStore.open(file)).toThrow(/has schema 99, newer than this @strata\/alerts understands \(1\); upgrade @strata\/alerts/);
  });

  it('says where it cannot write', () => {
    const blocker = join(tempDir(), 'not-a-dir');
    const store = openStore(join(tempDir(), 'ok.db'));
    store.close();
    // A file where a directory should be: the store cannot create its folder.
    Database(blocker).close();
    expect(() => AlertStore.open(join(blocker, 'alerts.db'))).toThrow(/alerts: cannot open .*not-a-dir\/alerts\.db .*; set the data dir or the alerts plugin's file option to a writable place/);
  });
});
