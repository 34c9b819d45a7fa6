import { ConfigError, resolveConfig } from '@strata/core';
import { hotSqlitePlugin } from '@strata/hot-sqlite';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BackupOptionsSchema, backupPlugin, cronExpressionProblem } from '../src/index.js';

async function configIssues(options: unknown): Promise<string[]> {
  try {
    await resolveConfig({ plugins: [hotSqlitePlugin, { name: 'backup', options }] }, { catalog: { backup: () => backupPlugin } });
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.issues.map((issue) => `${issue.path}: ${issue.message}`);
  }
}

describe('backup options', () => {
  it('has defaults for everything', () => {
    expect(BackupOptionsSchema.parse({})).toEqual({
      dir: 'backups',
      schedule: '0 3 * * *',
      tiers: ['hot', 'warm', 'cold'],
      rotate: true,
      keep: { last: 3, daily: 7, weekly: 4, monthly: 6 },
    });
    expect(BackupOptionsSchema.parse({ keep: { daily: 2 } }).keep).toEqual({ last: 3, daily: 2, weekly: 4, monthly: 6 });
    expect(BackupOptionsSchema.parse({ schedule: null }).schedule).toBeNull();
  });

  it('reports every bad option at once, each with its path and the reason', async () => {
    const issues = await configIssues({ dir: '', schedule: '0 25 * * *', keep: { daily: -1, hourly: 3 }, tiers: ['hot', 'lukewarm'], rotate: 'yes', extra: 1 });
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^plugins\[1\]\.options: unknown key\(s\) "extra"$/),
        expect.stringMatching(/^plugins\[1\]\.options\.dir: .*>=1 characters/),
        'plugins[1].options.schedule: "0 25 * * *" is not a cron expression: hour field "25" has 25, outside 0-23',
        expect.stringMatching(/^plugins\[1\]\.options\.keep\.daily: .*>=0/),
        'plugins[1].options.keep: unknown key(s) "hourly"',
        expect.stringMatching(/^plugins\[1\]\.options\.tiers\[1\]: .*"hot"\|"warm"\|"cold"/),
        'plugins[1].options.rotate: expected boolean, got string',
      ]),
    );
    expect(issues).toHaveLength(7);
  });

  it('refuses a tier role listed twice and an empty tier list', async () => {
    expect(await configIssues({ tiers: ['hot', 'hot'] })).toEqual(['plugins[1].options.tiers: lists a role twice']);
    expect(await configIssues({ tiers: [] })).toEqual([expect.stringMatching(/^plugins\[1\]\.options\.tiers: .*>=1 items/)]);
  });
});

describe('cronExpressionProblem', () => {
  it('accepts what the scheduler accepts', () => {
    for (const expression of ['0 3 * * *', '*/15 * * * *', '0 0 * * sun', '0 30 2 * * mon-fri', '0 0 1 jan,jul *', '0 0 L * *', '0 9 * * 1#2', '@daily', '0 0 * * 7', '5-10/2 * * * *']) {
      expect(cronExpressionProblem(expression), expression).toBeUndefined();
    }
  });

  it('says what is wrong with what it refuses', () => {
    expect(cronExpressionProblem('daily')).toMatch(/has 1 field\(s\); a cron expression has five/);
    expect(cronExpressionProblem('60 * * * *')).toBe('minute field "60" has 60, outside 0-59');
    expect(cronExpressionProblem('0 0 0 * *')).toBe('day-of-month field "0" has 0, outside 1-31');
    expect(cronExpressionProblem('0 0 * 13 *')).toBe('month field "13" has 13, outside 1-12');
    expect(cronExpressionProblem('0 0 * * funday')).toMatch(/day-of-week field "funday" has "funday", which is not a day-of-week/);
    expect(cronExpressionProblem('0 0 * * 1/x')).toMatch(/what follows \/ or # must be a number/);
    expect(cronExpressionProblem('0 0 * * 1,,2')).toMatch(/empty list item/);
    expect(cronExpressionProblem('@sometimes')).toMatch(/is not one of @yearly/);
    expect(cronExpressionProblem('0 0 * * 1;')).toMatch(/character/);
  });

  it('accepts every expression built from in-range values, and refuses any out-of-range value', () => {
    const bounds = [
      [0, 59],
      [0, 23],
      [1, 31],
      [1, 12],
      [0, 7],
    ] as const;
    const field = ([min, max]: readonly [number, number]) =>
      fc.oneof(
        fc.constant('*'),
        fc.integer({ min, max }).map(String),
        fc.tuple(fc.integer({ min, max }), fc.integer({ min, max })).map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`),
        fc.integer({ min: 1, max: 30 }).map((step) => `*/${step}`),
        fc.array(fc.integer({ min, max }), { minLength: 1, maxLength: 4 }).map((values) => values.join(',')),
      );
    fc.assert(fc.property(fc.tuple(...bounds.map(field)), (fields) => cronExpressionProblem(fields.join(' ')) === undefined));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 1, max: 40 }), (index, beyond) => {
        const fields = ['0', '0', '1', '1', '0'];
        fields[index] = String(bounds[index]![1] + beyond);
        return cronExpressionProblem(fields.join(' ')) !== undefined;
      }),
    );
  });
});
