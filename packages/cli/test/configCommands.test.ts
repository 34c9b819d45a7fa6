import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, lastJson, runInProcess, tempDir } from './helpers.js';

describe('strata init', () => {
  it('writes a commented strata.config.ts that validate accepts', async () => {
    // In the package, so the config's `import ... from '@strata/core'` resolves as in a real project.
    const cwd = tempDir({ inPackage: true });
    const init = await runInProcess(['init'], { cwd });
    expect(init.code).toBe(0);
    const text = readFileSync(join(cwd, 'strata.config.ts'), 'utf8');
    expect(text).toContain("import { defineConfig } from '@strata/core'");
    expect(text).toContain("name: 'hot-sqlite'");
    expect(text).toContain("// synchronous: 'NORMAL'");
    expect(text).toContain('// pipeline: {');

    const validate = await runInProcess(['validate', '--start'], { cwd });
    expect(validate.stdout).toMatch(/^ok\s+config\s+.*strata\.config\.ts$/m);
    expect(validate.stdout).toMatch(/^ok\s+plugins\s+start order: hot-sqlite -> privacy$/m);
    expect(validate.stdout).toMatch(/^ok\s+data dir\s+/m);
    expect(validate.stdout).toMatch(/^ok\s+storage\s+hot-sqlite \(hot\) healthy$/m);
    expect(validate.code).toBe(0);
  });

  it('refuses to overwrite an existing config without --force', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'strata.config.ts'), '// mine\n');
    const again = await runInProcess(['init'], { cwd });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^strata: .*strata\.config\.ts already exists; pass --force/);
    expect(readFileSync(join(cwd, 'strata.config.ts'), 'utf8')).toBe('// mine\n');
    expect((await runInProcess(['init', '--force'], { cwd })).code).toBe(0);
    expect(readFileSync(join(cwd, 'strata.config.ts'), 'utf8')).toContain('defineConfig');
  });
});

describe('strata validate', () => {
  it('fails with a clear message and a fix when the data dir cannot be created', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'plain-file'), 'x');
    const run = await runInProcess(['validate', '--data-dir', join(cwd, 'plain-file', 'analytics')], { cwd });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^ok\s+config/m);
    expect(run.stdout).toMatch(new RegExp(`^FAIL\\s+data dir\\s+.*cannot be created because ${join(cwd, 'plain-file')} is a file`, 'm'));
    expect(run.stdout).toMatch(/^\s+fix: .*--data-dir/m);
    expect(existsSync(join(cwd, 'analytics'))).toBe(false);
  });

  it('lists every config issue with its path', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'strata.config.json'), JSON.stringify({ dataDir: 5, plugins: ['no-such-plugin'], pipeline: { maxQueue: -1 } }));
    const run = await runInProcess(['validate', '--json'], { cwd });
    expect(run.code).toBe(1);
    const result = lastJson<{ ok: boolean; checks: Array<{ name: string; ok: boolean; issues: Array<{ path: string; message: string }> }> }>(run.stdout);
    expect(result.ok).toBe(false);
    const issues = result.checks.find((check) => check.name === 'config')!.issues;
    expect(issues.map((issue) => issue.path)).toEqual(expect.arrayContaining(['dataDir', 'pipeline.maxQueue']));
    expect(issues.find((issue) => issue.path.startsWith('plugins[0]'))?.message).toMatch(/unknown plugin "no-such-plugin"; known plugins: .*hot-sqlite/);
  });

  it('reports a missing --config file', async () => {
    const cwd = tempDir();
    const run = await runInProcess(['validate', '--config', 'nope.config.ts'], { cwd });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^FAIL\s+config\s+.*nope\.config\.ts does not exist/m);
  });

  it('passes with no config file at all (the embedded default) and creates nothing', async () => {
    const cwd = tempDir();
    const run = await runInProcess(['validate'], { cwd });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('All checks passed.');
    expect(readdirSync(cwd)).toEqual([]);
  });
});

describe('strata status', () => {
  it('shows the row count, tier health and dead-letter files', async () => {
    const cwd = tempDir();
    expect((await runInProcess(['ingest', fixture('bad-input.jsonl'), '--json'], { cwd })).code).toBe(2);
    const json = await runInProcess(['status', '--json'], { cwd });
    expect(json.code).toBe(0);
    const status = lastJson<{
      dataDir: string;
      configSource: string | null;
      plugins: string[];
      interactions: number;
      tiers: Array<{ name: string; role: string; health: { ok: boolean } }>;
      deadLetterFiles: Array<{ file: string; lines: number }>;
    }>(json.stdout);
    expect(status).toMatchObject({ dataDir: join(cwd, 'analytics'), configSource: null, plugins: ['hot-sqlite', 'privacy'], interactions: 7 });
    expect(status.tiers).toEqual([expect.objectContaining({ name: 'hot-sqlite', role: 'hot', health: expect.objectContaining({ ok: true }) })]);
    expect(status.deadLetterFiles.reduce((sum, file) => sum + file.lines, 0)).toBe(20);

    const text = await runInProcess(['status'], { cwd });
    expect(text.stdout).toMatch(/^interactions\s+7$/m);
    expect(text.stdout).toMatch(/^\s+hot-sqlite \(hot\): ok$/m);
    expect(text.stdout).toContain('Dead letters: 20 in');
  });
});

describe('strata demo', () => {
  it('generates a workload, ingests it and reports on it', async () => {
    const cwd = tempDir();
    const run = await runInProcess(['demo', '--events', '600', '--seed', '2', '--json'], { cwd });
    expect(run.code).toBe(0);
    const result = lastJson<{ file: string; ingest: { stored: number; rejected: number }; report: { totals: { interactions: number } } }>(run.stdout);
    expect(result.file).toBe(join(cwd, 'analytics', 'demo', 'events.jsonl'));
    expect(readFileSync(result.file, 'utf8').trim().split('\n')).toHaveLength(600);
    expect(result.ingest).toMatchObject({ stored: 600, rejected: 0 });
    expect(result.report.totals.interactions).toBe(600);

    const text = await runInProcess(['demo', '--events', '600', '--seed', '2'], { cwd });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/duplicates\s+600/);
    expect(text.stdout).toContain('Top 10 queries');
  });
});

describe('strata validate --start with a Redis cache that does not answer', () => {
  it('fails naming Redis and how to fix it', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'strata.config.json'), JSON.stringify({ plugins: ['hot-sqlite', { name: 'cache', options: { store: 'redis', redis: { url: 'redis://127.0.0.1:1', connectTimeoutMs: 300 } } }] }));
    const run = await runInProcess(['validate', '--start'], { cwd });
    expect(run.code).toBe(1);
    // The server check runs before any plugin starts, so it is what reports the dead Redis.
    expect(run.stdout).toMatch(/FAIL\s+redis\s+cannot reach Redis at 127\.0\.0\.1:1/);
  });
});

describe('strata validate with PostgreSQL and Redis in the config', () => {
  it('says whether each server answers, without starting anything, and how to fix it when not', async () => {
    const cwd = tempDir();
    writeFileSync(
      join(cwd, 'strata.config.json'),
      JSON.stringify({
        plugins: [
          { name: 'hot-postgres', options: { connectionString: 'postgres://postgres@127.0.0.1:1/test', connectTimeoutMs: 2_000 } },
          { name: 'cache', options: { store: 'redis', redis: { url: 'redis://127.0.0.1:1' } } },
        ],
      }),
    );
    const run = await runInProcess(['validate'], { cwd });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/FAIL\s+postgres\s+hot-postgres: cannot reach PostgreSQL at 127\.0\.0\.1:1/);
    expect(run.stdout).toMatch(/FAIL\s+redis\s+cannot reach Redis at 127\.0\.0\.1:1/);
    expect(run.stdout).toContain('fix: start Redis there or fix cache.options.redis.url');
  });

  it('passes when the local servers answer', async (context) => {
    const cwd = tempDir();
    writeFileSync(
      join(cwd, 'strata.config.json'),
      JSON.stringify({ plugins: [{ name: 'hot-postgres', options: { connectionString: 'postgres://postgres@127.0.0.1:5432/test' } }, { name: 'cache', options: { store: 'redis' } }] }),
    );
    const run = await runInProcess(['validate'], { cwd });
    if (run.code !== 0 && process.env.CI !== 'true') {
      console.warn(`[validate servers] skipped: local PostgreSQL or Redis did not answer:\n${run.stdout}`);
      return context.skip();
    }
    expect(run.stdout).toMatch(/ok\s+postgres\s+PostgreSQL at 127\.0\.0\.1:5432, database test, answers/);
    expect(run.stdout).toMatch(/ok\s+redis\s+Redis at 127\.0\.0\.1:6379 answers/);
  });
});
