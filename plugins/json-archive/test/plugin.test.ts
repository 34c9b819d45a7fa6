import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, PluginRegistry, createLogger, definePlugin, resolveConfig, systemClock, DEFAULT_EVENT_LIMITS, type StorageTier } from '@strata/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { JsonArchive, JsonArchiveOptionsSchema, JsonArchiveTier, jsonArchivePlugin } from '../src/index.js';

let directory: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'json-archive-plugin-'));
});
afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

const catalog = { 'json-archive': () => jsonArchivePlugin };

describe('options', () => {
  it('defaults to dir "archive" under the data dir (analytics/archive) and gzip level 6', () => {
    expect(JsonArchiveOptionsSchema.parse({})).toEqual({ dir: 'archive', gzipLevel: 6, lockTimeoutMs: 30_000 });
  });

  it('reports every bad option at once, with its path and the rule', async () => {
    const error = await resolveConfig({ plugins: [{ name: 'json-archive', options: { gzipLevel: 0, lockTimeoutMs: 'soon', dir: '', level: 9 } }] }, { catalog }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues.map((issue) => `${issue.path}: ${issue.message}`);
    expect(issues).toEqual(
      expect.arrayContaining([
        'plugins[0].options.gzipLevel: must be an integer from 1 (fastest) to 9 (smallest)',
        'plugins[0].options.lockTimeoutMs: expected number, got string',
        'plugins[0].options.dir: must not be empty',
        'plugins[0].options: unknown key(s) "level"',
      ]),
    );
  });
});

describe('the plugin', () => {
  it('contributes a cold tier over analytics/archive whose archive another plugin reaches through storage("cold")', async () => {
    let seen: StorageTier | undefined;
    const retentionLike = definePlugin({
      name: 'uses-cold',
      version: '0.0.0',
      dependsOn: ['json-archive'],
      options: z.object({}),
      setup(context) {
        seen = context.storage('cold');
        return {};
      },
    });
    const config = await resolveConfig({ plugins: ['json-archive', retentionLike] }, { catalog });
    const registry = new PluginRegistry(config.plugins, { logger: createLogger('silent'), dataDir: directory, clock: systemClock, limits: DEFAULT_EVENT_LIMITS });
    await registry.start();
    try {
      expect(seen).toBeInstanceOf(JsonArchiveTier);
      const tier = seen as JsonArchiveTier;
      expect(tier.role).toBe('cold');
      expect(tier.archive).toBeInstanceOf(JsonArchive);
      expect(tier.archive.dir).toBe(join(directory, 'archive'));
      expect((await tier.health()).ok).toBe(true);
    } finally {
      await registry.stop(5_000);
    }
  });

  it('uses an absolute dir as given', async () => {
    const dir = join(directory, 'elsewhere', 'cold');
    const config = await resolveConfig({ plugins: [{ name: 'json-archive', options: { dir } }] }, { catalog });
    const registry = new PluginRegistry(config.plugins, { logger: createLogger('silent'), dataDir: join(directory, 'data'), clock: systemClock, limits: DEFAULT_EVENT_LIMITS });
    await registry.start();
    try {
      expect((registry.storage('cold') as JsonArchiveTier).archive.dir).toBe(dir);
    } finally {
      await registry.stop(5_000);
    }
  });
});
