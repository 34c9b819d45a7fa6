import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createStrata, type JobProgress } from '@strata/core';
import { hotSqlitePlugin } from '@strata/hot-sqlite';
import { generateWorkload } from '@strata/testing';
import { describe, expect, it } from 'vitest';
import { backupPlugin, backupSettingsOf, listBackups, verifyBackup } from '../src/index.js';
import { tempDir } from './helpers.js';

describe('the backup plugin', () => {
  it('contributes a backup job on a daily schedule that backs up, verifies and rotates', async () => {
    const cwd = tempDir('strata-backup-plugin-');
    // Listed before the storage plugin: the job looks the tiers up when it runs.
    const strata = await createStrata({ config: { plugins: [backupPlugin({ keep: { last: 1, daily: 0, weekly: 0, monthly: 0 } }), hotSqlitePlugin] }, cwd, logLevel: 'silent', scheduleJobs: false });
    try {
      const job = strata.jobs().find((candidate) => candidate.name === 'backup');
      expect(job?.schedule).toBe('0 3 * * *');
      for (const event of generateWorkload({ events: 500, seed: 4 })) expect(strata.record(event)).toBe(true);
      await strata.flush();
      const progress: JobProgress[] = [];
      const first = await strata.runJob('backup', { onProgress: (event) => progress.push(event) });
      const second = await strata.runJob('backup');
      expect(first.summary).toMatch(/^backup \S+: hot-sqlite, 2 file\(s\), [\d.]+ [KM]B written and verified in [\d.]+ s; rotation kept 1, removed 0$/);
      expect(second.summary).toMatch(/rotation kept 1, removed 1$/);
      expect(progress.at(-1)).toMatchObject({ unit: 'bytes verified' });
      expect(progress.at(-1)?.done).toBe(progress.at(-1)?.total);

      const backupsDir = join(cwd, 'analytics', 'backups');
      expect(readdirSync(backupsDir)).toEqual([second.id]);
      const [entry] = await listBackups(backupsDir);
      const report = await verifyBackup(entry!);
      expect(report.ok).toBe(true);
      expect(report.manifest?.files.find((file) => file.kind === 'tier')?.sqlite?.tables.user_interactions).toBe(500);
      // A plugin is not handed the config file, so the job's copy says what it could record.
      expect(report.manifest?.config).toEqual({ source: null, files: ['config/resolved-config.json'] });
    } finally {
      await strata.close();
    }
  });

  it('runs only on demand when schedule is null, and backs up into dir', async () => {
    const cwd = tempDir('strata-backup-plugin-');
    const elsewhere = join(tempDir('strata-backup-elsewhere-'), 'nightly');
    const strata = await createStrata({ config: { plugins: [hotSqlitePlugin, backupPlugin({ schedule: null, dir: elsewhere })] }, cwd, logLevel: 'silent', scheduleJobs: false });
    try {
      expect(strata.jobs().find((job) => job.name === 'backup')?.schedule).toBeUndefined();
      expect(backupSettingsOf(strata.config)).toMatchObject({ backupsDir: elsewhere, configured: true, options: { schedule: null } });
      const report = await strata.runJob('backup');
      expect(readdirSync(elsewhere)).toEqual([report.id]);
    } finally {
      await strata.close();
    }
  });

  it('gives the defaults when the config does not list the plugin', async () => {
    const cwd = tempDir('strata-backup-plugin-');
    const strata = await createStrata({ config: { plugins: [hotSqlitePlugin] }, cwd, logLevel: 'silent', scheduleJobs: false });
    try {
      expect(backupSettingsOf(strata.config)).toMatchObject({ backupsDir: join(cwd, 'analytics', 'backups'), configured: false, options: { dir: 'backups', rotate: true } });
    } finally {
      await strata.close();
    }
  });
});
