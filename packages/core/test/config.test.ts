import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BUILT_IN_PLUGINS,
  ConfigError,
  DEFAULT_QUERY_TYPES,
  StrataError,
  defineConfig,
  definePlugin,
  findConfigFile,
  loadConfig,
  resolveConfig,
  type PluginCatalog,
} from '@strata/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { tempDir } from './fixtures.js';
import { MemoryTier, memoryTierPlugin } from './memoryTier.js';

const fakeHot = memoryTierPlugin(new MemoryTier());
const tuned = definePlugin({
  name: 'tuned',
  version: '1.0.0',
  options: z.object({ someField: z.number().int().positive().default(5), mode: z.enum(['fast', 'safe']).default('safe') }).strict(),
  setup: () => ({}),
});
const catalog: PluginCatalog = { 'hot-sqlite': () => fakeHot, tuned: () => tuned };

async function configErrorOf(work: Promise<unknown>): Promise<ConfigError> {
  try {
    await work;
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

async function strataErrorOf(work: Promise<unknown>): Promise<StrataError> {
  try {
    await work;
  } catch (error) {
    if (error instanceof StrataError) return error;
    throw error;
  }
  throw new Error('expected a StrataError');
}

describe('resolveConfig', () => {
  it('fills every default and resolves dataDir against the base directory', async () => {
    const resolved = await resolveConfig({ plugins: ['hot-sqlite'] }, { baseDir: '/srv/app', catalog });
    expect(resolved.dataDir).toBe('/srv/app/analytics');
    expect(resolved.source).toBeNull();
    expect(resolved.pipeline).toEqual({
      maxBatchSize: 1_500,
      maxBatchDelayMs: 50,
      maxQueue: 100_000,
      sinkDefaults: { maxBacklog: 10_000, maxAttempts: 8, timeoutMs: 10_000, initialBackoffMs: 200, maxBackoffMs: 30_000 },
      sinks: {},
    });
    expect(resolved.limits).toEqual({ maxQueryBytes: 32_768, maxFutureMs: 24 * 3_600_000, queryTypes: [...DEFAULT_QUERY_TYPES] });
    expect(resolved.logLevel).toBeUndefined();
    expect(resolved.shutdownTimeoutMs).toBe(10_000);
  });

  it('applies a plugin schema defaults to its options', async () => {
    const resolved = await resolveConfig({ plugins: ['hot-sqlite', { name: 'tuned', options: { mode: 'fast' } }] }, { catalog });
    expect(resolved.plugins.map((plugin) => [plugin.definition.name, plugin.options])).toEqual([
      ['hot-sqlite', {}],
      ['tuned', { someField: 5, mode: 'fast' }],
    ]);
  });

  it('accepts plugins given as definePlugin results, with or without options', async () => {
    const resolved = await resolveConfig({ plugins: [fakeHot, tuned({ someField: 9 })] }, { catalog: {} });
    expect(resolved.plugins.map((plugin) => plugin.options)).toEqual([{}, { someField: 9, mode: 'safe' }]);
  });

  it('converts limits: hours to ms and extra query types on top of the defaults', async () => {
    const resolved = await resolveConfig({ plugins: ['hot-sqlite'], limits: { maxQueryBytes: 100, maxFutureHours: 2, queryTypes: ['billing', 'general'] } }, { catalog });
    expect(resolved.limits).toEqual({ maxQueryBytes: 100, maxFutureMs: 7_200_000, queryTypes: [...DEFAULT_QUERY_TYPES, 'billing'] });
  });

  it('lets an explicit dataDir override the config one', async () => {
    const resolved = await resolveConfig({ plugins: ['hot-sqlite'], dataDir: './from-config' }, { baseDir: '/srv/app', dataDir: '/var/data', catalog });
    expect(resolved.dataDir).toBe('/var/data');
  });

  it('reports every problem at once, each with its path', async () => {
    const error = await configErrorOf(
      resolveConfig(
        {
          plugins: ['hot-sqlite', { name: 'tuned', options: { someField: 'lots', mode: 'turbo' } }],
          pipeline: { maxBatchSize: 0, maxBatchDelayMs: 'soon' },
          logLevel: 'loud',
        },
        { catalog },
      ),
    );
    expect(error.code).toBe('STRATA_CONFIG_INVALID');
    expect(error.issues.map((issue) => issue.path).sort()).toEqual([
      'logLevel',
      'pipeline.maxBatchDelayMs',
      'pipeline.maxBatchSize',
      'plugins[1].options.mode',
      'plugins[1].options.someField',
    ]);
    expect(error.issues.find((issue) => issue.path === 'plugins[1].options.someField')?.message).toBe('expected number, got string');
    expect(error.issues.find((issue) => issue.path === 'pipeline.maxBatchDelayMs')?.message).toBe('expected number, got string');
    for (const issue of error.issues) expect(error.message).toContain(`${issue.path}: ${issue.message}`);
  });

  it('names unknown keys in the config and in plugin options', async () => {
    const error = await configErrorOf(resolveConfig({ plugins: ['hot-sqlite', { name: 'tuned', options: { sumField: 1 } }], pipline: {} }, { catalog }));
    expect(error.issues).toEqual([
      { path: '', message: 'unknown key(s) "pipline"' },
      { path: 'plugins[1].options', message: 'unknown key(s) "sumField"' },
    ]);
  });

  it('lists the known plugins when a plugin name is unknown', async () => {
    const error = await configErrorOf(resolveConfig({ plugins: ['hot-sqlite', 'hot-sqlit'] }, { catalog }));
    expect(error.issues).toHaveLength(1);
    const [issue] = error.issues;
    expect(issue?.path).toBe('plugins[1]');
    expect(issue?.message).toContain('unknown plugin "hot-sqlit"; known plugins: ');
    for (const known of [...BUILT_IN_PLUGINS, 'tuned']) expect(issue?.message).toContain(known);
  });

  it('points at the name of an unknown plugin given as an object', async () => {
    const error = await configErrorOf(resolveConfig({ plugins: ['hot-sqlite', { name: 'mystery' }] }, { catalog }));
    expect(error.issues.map((issue) => issue.path)).toEqual(['plugins[1].name']);
  });

  it('reports a plugin entry that is no kind of plugin once, with what is expected', async () => {
    const error = await configErrorOf(resolveConfig({ plugins: ['hot-sqlite', 42] }, { catalog }));
    expect(error.issues).toEqual([{ path: 'plugins[1]', message: 'must be a plugin name, { name, options?, package? }, or a plugin from definePlugin' }]);
  });

  it('reports plugins of the wrong type without loading the default plugin', async () => {
    const error = await configErrorOf(resolveConfig({ plugins: 'hot-sqlite' }, { catalog: {} }));
    expect(error.issues).toEqual([{ path: 'plugins', message: 'expected array, got string' }]);
  });

  it('reports a config that is not an object', async () => {
    const error = await configErrorOf(resolveConfig([], { catalog }));
    expect(error.issues).toContainEqual({ path: '', message: 'expected object, got array' });
  });

  it('names a catalogue entry that fails to load', async () => {
    const broken: PluginCatalog = {
      ...catalog,
      flaky: () => {
        throw new Error('native module missing');
      },
    };
    const error = await configErrorOf(resolveConfig({ plugins: ['hot-sqlite', { name: 'flaky' }] }, { catalog: broken }));
    expect(error.issues).toEqual([{ path: 'plugins[1].name', message: 'plugin "flaky" failed to load: native module missing' }]);
  });

  it('suggests installing a third-party package that is not installed', async () => {
    const error = await configErrorOf(resolveConfig({ plugins: ['hot-sqlite', { name: 'custom', package: 'strata-plugin-does-not-exist' }] }, { catalog }));
    expect(error.issues).toEqual([
      {
        path: 'plugins[1].package',
        message: 'package strata-plugin-does-not-exist is not installed; add it to your project (pnpm add strata-plugin-does-not-exist)',
      },
    ]);
  });

  it('returns the same object from defineConfig', () => {
    const config = { dataDir: './x' };
    expect(defineConfig(config)).toBe(config);
  });
});

describe('loadConfig', () => {
  it('loads a strata.config.ts written in TypeScript from the working directory', async () => {
    const directory = tempDir();
    writeFileSync(
      join(directory, 'strata.config.ts'),
      [
        "type Level = 'warn' | 'info';",
        "const level: Level = 'warn';",
        'export default {',
        "  dataDir: './data',",
        "  plugins: ['hot-sqlite', { name: 'tuned', options: { someField: 2 } }],",
        '  pipeline: { maxBatchSize: 250 },',
        '  logLevel: level,',
        '};',
      ].join('\n'),
    );
    const resolved = await loadConfig({ cwd: directory, catalog });
    expect(resolved.source).toBe(join(directory, 'strata.config.ts'));
    expect(resolved.dataDir).toBe(join(directory, 'data'));
    expect(resolved.pipeline.maxBatchSize).toBe(250);
    expect(resolved.logLevel).toBe('warn');
    expect(resolved.plugins.map((plugin) => plugin.options)).toEqual([{}, { someField: 2, mode: 'safe' }]);
  });

  it('loads a config that imports defineConfig from @strata/core in a project without its own copy', async () => {
    const directory = tempDir();
    writeFileSync(
      join(directory, 'strata.config.ts'),
      ["import { defineConfig } from '@strata/core';", "export default defineConfig({ dataDir: './typed', pipeline: { maxBatchSize: 77 } });"].join('\n'),
    );
    const resolved = await loadConfig({ cwd: directory, catalog });
    expect(resolved.dataDir).toBe(join(directory, 'typed'));
    expect(resolved.pipeline.maxBatchSize).toBe(77);
  });

  it('resolves a dataDir override against the caller\'s directory, not the config file\'s', async () => {
    const directory = tempDir();
    mkdirSync(join(directory, 'conf'));
    writeFileSync(join(directory, 'conf', 'strata.config.json'), JSON.stringify({ plugins: ['hot-sqlite'] }));
    const resolved = await loadConfig({ cwd: directory, configPath: 'conf/strata.config.json', dataDir: 'mine', catalog });
    expect(resolved.dataDir).toBe(join(directory, 'mine'));
  });

  it('leaves logLevel unset when the config sets none, so callers choose their default', async () => {
    const resolved = await loadConfig({ cwd: tempDir(), catalog });
    expect(resolved.logLevel).toBeUndefined();
  });

  it('loads a strata.config.json given as an explicit path relative to cwd', async () => {
    const directory = tempDir();
    mkdirSync(join(directory, 'conf'));
    writeFileSync(join(directory, 'conf', 'strata.config.json'), JSON.stringify({ plugins: ['hot-sqlite'], dataDir: 'store', shutdownTimeoutMs: 1234 }));
    const resolved = await loadConfig({ cwd: directory, configPath: 'conf/strata.config.json', catalog });
    expect(resolved.source).toBe(join(directory, 'conf', 'strata.config.json'));
    expect(resolved.dataDir).toBe(join(directory, 'conf', 'store'));
    expect(resolved.shutdownTimeoutMs).toBe(1234);
  });

  it('names the config file in the message of an invalid config', async () => {
    const directory = tempDir();
    const file = join(directory, 'strata.config.json');
    writeFileSync(file, JSON.stringify({ plugins: ['hot-sqlite'], pipeline: { maxQueue: -5 } }));
    const error = await configErrorOf(loadConfig({ cwd: directory, catalog }));
    expect(error.message).toContain(`invalid configuration in ${file}`);
    expect(error.issues.map((issue) => issue.path)).toEqual(['pipeline.maxQueue']);
  });

  it('fails with STRATA_CONFIG_LOAD_FAILED for JSON that does not parse', async () => {
    const directory = tempDir();
    writeFileSync(join(directory, 'strata.config.json'), '{ "plugins": ["hot-sqlite", }');
    const error = await strataErrorOf(loadConfig({ cwd: directory, catalog }));
    expect(error.code).toBe('STRATA_CONFIG_LOAD_FAILED');
    expect(error.message).toContain('strata.config.json is not valid JSON');
  });

  it('fails with STRATA_CONFIG_LOAD_FAILED for a config path that is a directory', async () => {
    const directory = tempDir();
    mkdirSync(join(directory, 'strata.config.json'));
    const error = await strataErrorOf(loadConfig({ cwd: directory, catalog }));
    expect(error.code).toBe('STRATA_CONFIG_LOAD_FAILED');
    expect(error.message).toContain('could not be read');
  });

  it('fails with STRATA_CONFIG_LOAD_FAILED for a TypeScript config that does not compile', async () => {
    const directory = tempDir();
    writeFileSync(join(directory, 'strata.config.ts'), 'export default { plugins: [ ;\n');
    const error = await strataErrorOf(loadConfig({ cwd: directory, catalog }));
    expect(error.code).toBe('STRATA_CONFIG_LOAD_FAILED');
    expect(error.message).toContain(`could not load ${join(directory, 'strata.config.ts')}`);
  });

  it('fails with STRATA_CONFIG_NOT_FOUND when an explicit config path does not exist', async () => {
    const directory = tempDir();
    const error = await strataErrorOf(loadConfig({ cwd: directory, configPath: 'missing.config.ts', catalog }));
    expect(error.code).toBe('STRATA_CONFIG_NOT_FOUND');
    expect(error.message).toContain(join(directory, 'missing.config.ts'));
  });

  it('uses the embedded default (hot-sqlite and privacy under ./analytics) when there is no config file', async () => {
    const directory = tempDir();
    expect(findConfigFile(directory)).toBeUndefined();
    const resolved = await loadConfig({ cwd: directory, catalog });
    expect(resolved.source).toBeNull();
    expect(resolved.plugins.map((plugin) => plugin.definition.name)).toEqual(['hot-sqlite', 'privacy']);
    expect(resolved.dataDir).toBe(join(directory, 'analytics'));
  });

  it('prefers strata.config.ts over strata.config.json in the same directory', async () => {
    const directory = tempDir();
    writeFileSync(join(directory, 'strata.config.json'), '{}');
    writeFileSync(join(directory, 'strata.config.ts'), 'export default {};\n');
    expect(findConfigFile(directory)).toBe(join(directory, 'strata.config.ts'));
  });
});
