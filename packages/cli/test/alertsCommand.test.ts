import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AlertHistoryEntry, AlertsOverview, Silence } from '@strata/alerts';
import { describe, expect, it } from 'vitest';
import { lastJson, runInProcess, tempDir } from './helpers.js';

/** A project whose alerts plugin has one rule that always holds: the queue depth is never negative. */
function project(rules: unknown[] = [{ name: 'QueueWatch', metric: 'system.queue_depth', op: '>=', threshold: 0, severity: 'warning', labels: { team: 'data' } }]): string {
  const cwd = tempDir();
  writeFileSync(join(cwd, 'strata.config.json'), JSON.stringify({ plugins: ['hot-sqlite', { name: 'alerts', options: { preset: 'none', rules } }], logLevel: 'silent' }));
  return cwd;
}

describe('strata alerts', () => {
  it('lists rules and alerts after an evaluation, silences and unsilences, and shows the history', async () => {
    const cwd = project();
    const before = await runInProcess(['alerts', 'list', '--json'], { cwd });
    expect(before.code).toBe(0);
    expect(lastJson<AlertsOverview>(before.stdout).rules).toMatchObject([{ name: 'QueueWatch', state: 'not evaluated' }]);

    expect((await runInProcess(['jobs', 'run', 'alerts'], { cwd })).code).toBe(0);
    const listed = lastJson<AlertsOverview>((await runInProcess(['alerts', 'list', '--json'], { cwd })).stdout);
    expect(listed.rules).toMatchObject([{ name: 'QueueWatch', state: 'firing', metric: 'system.queue_depth' }]);
    expect(listed.alerts).toMatchObject([{ rule: 'QueueWatch', status: 'firing', labels: { team: 'data' }, silencedBy: [] }]);

    const silenced = await runInProcess(['alerts', 'silence', 'alertname=QueueWatch', 'team=~da.*', '--for', '2h', '--comment', 'planned load test', '--json'], { cwd });
    expect(silenced.code).toBe(0);
    const silence = lastJson<Silence>(silenced.stdout);
    expect(silence).toMatchObject({ comment: 'planned load test', matchers: [{ label: 'alertname', op: '=', value: 'QueueWatch' }, { label: 'team', op: '=~', value: 'da.*' }] });
    expect(silence.endsAt - silence.startsAt).toBe(2 * 3_600_000);

    const text = await runInProcess(['alerts', 'list'], { cwd });
    expect(text.stdout).toMatch(/^ {2}QueueWatch +system\.queue_depth >= 0 +0s +warning +firing/m);
    expect(text.stdout).toContain(silence.id);
    expect(text.stdout).toContain('alertname=QueueWatch team=~da.*');

    expect((await runInProcess(['jobs', 'run', 'alerts'], { cwd })).code).toBe(0);
    const afterSilence = lastJson<AlertsOverview>((await runInProcess(['alerts', 'list', '--json'], { cwd })).stdout);
    expect(afterSilence.alerts[0]!.silencedBy).toEqual([silence.id]);

    const unsilenced = await runInProcess(['alerts', 'unsilence', silence.id.slice(0, 6)], { cwd });
    expect(unsilenced.code).toBe(0);
    expect(unsilenced.stdout).toContain(`Silence ${silence.id}`);
    expect(lastJson<AlertsOverview>((await runInProcess(['alerts', 'list', '--json'], { cwd })).stdout).silences).toEqual([]);

    const history = lastJson<{ entries: AlertHistoryEntry[] }>((await runInProcess(['alerts', 'history', '--rule', 'QueueWatch', '--since', '1h', '--json'], { cwd })).stdout).entries;
    expect(history.map((entry) => [entry.kind, entry.to, entry.outcome])).toEqual([
      ['silence', 'silenced', null],
      ['notification', 'firing', 'sent'],
      ['state', 'firing', null],
    ]);
    const table = await runInProcess(['alerts', 'history', '--limit', '2'], { cwd });
    expect(table.stdout).toContain('sent firing → log');
    expect(table.stdout).toContain('{team="data"}');
  });

  it('explains a bad matcher, a missing end, an unknown silence and a bad limit', async () => {
    const cwd = project();
    const badMatcher = await runInProcess(['alerts', 'silence', 'severity', '--for', '1h'], { cwd });
    expect(badMatcher.code).toBe(1);
    expect(badMatcher.stderr).toContain('strata: matcher "severity": "severity" is not a matcher; write label=value');
    const noEnd = await runInProcess(['alerts', 'silence', 'severity=warning'], { cwd });
    expect(noEnd.stderr).toContain('give --for <duration> (such as 2h) or --until <date-time>');
    const badFor = await runInProcess(['alerts', 'silence', 'severity=warning', '--for', 'a while'], { cwd });
    expect(badFor.stderr).toContain('--for must be a duration such as 30m, 2h or 1d, got "a while"');
    const past = await runInProcess(['alerts', 'silence', 'severity=warning', '--until', '2020-01-01T00:00:00Z'], { cwd });
    expect(past.stderr).toContain('--until/--for: must be after the start');
    const unknown = await runInProcess(['alerts', 'unsilence', 'feedbeef'], { cwd });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no silence with id "feedbeef"');
    const limit = await runInProcess(['alerts', 'history', '--limit', '0'], { cwd });
    expect(limit.stderr).toContain('--limit must be a whole number from 1 to 10000, got "0"');
  });

  it('says to add the plugin when the config does not list it', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'strata.config.json'), JSON.stringify({ plugins: ['hot-sqlite'] }));
    const run = await runInProcess(['alerts', 'list'], { cwd });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/strata\.config\.json does not list the alerts plugin; add "alerts" to plugins/);
  });

  it('reports a bad rule with its path in the config', async () => {
    const cwd = project([{ name: 'QueueWatch', metric: 'system.queue_depth', op: '>', threshold: 0, for: '5 mins' }]);
    const run = await runInProcess(['alerts', 'list'], { cwd });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('plugins[1].options.rules[0].for: expected a duration such as 30s, 5m or 1h, got "5 mins"');
  });
});

describe('access to alerts', () => {
  it('lets a viewer read alerts but not silence them', async () => {
    const cwd = project();
    expect((await runInProcess(['--as', 'viewer', 'alerts', 'list'], { cwd })).code).toBe(0);
    const denied = await runInProcess(['--as', 'viewer', 'alerts', 'silence', 'alertname=QueueWatch', '--for', '1h'], { cwd });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('lacks the "write" permission needed for alerts.silence');
  });
});
