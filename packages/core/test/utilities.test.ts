import {
  ClosedError,
  ConfigError,
  PermanentError,
  PluginStartError,
  PluginTimeoutError,
  QueueFullError,
  RetryableError,
  StopError,
  StorageError,
  StrataError,
  ValidationError,
  definePlugin,
  hashQuery,
  isPluginDefinition,
  normalizeQuery,
  parseDuration,
  requireDuration,
} from '@strata/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

describe('errors', () => {
  it.each([
    [new ConfigError([{ path: 'dataDir', message: 'is required' }]), 'ConfigError', 'STRATA_CONFIG_INVALID'],
    [new ValidationError([{ path: 'query', message: 'is required' }]), 'ValidationError', 'STRATA_VALIDATION_FAILED'],
    [new PluginTimeoutError('hot-sqlite', 'start', 10), 'PluginTimeoutError', 'STRATA_PLUGIN_TIMEOUT'],
    [new PluginStartError('hot-sqlite', new Error('x')), 'PluginStartError', 'STRATA_PLUGIN_START_FAILED'],
    [new StopError([new Error('x')]), 'StopError', 'STRATA_STOP_FAILED'],
    [new QueueFullError(5), 'QueueFullError', 'STRATA_QUEUE_FULL'],
    [new ClosedError(), 'ClosedError', 'STRATA_CLOSED'],
    [new StorageError('x'), 'StorageError', 'STRATA_STORAGE_FAILED'],
    [new RetryableError('x'), 'RetryableError', 'STRATA_SINK_RETRYABLE'],
    [new PermanentError('x'), 'PermanentError', 'STRATA_SINK_PERMANENT'],
  ])('%s is a StrataError with its class name and a stable code', (error, name, code) => {
    expect(error).toBeInstanceOf(StrataError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe(name);
    expect(error.code).toBe(code);
  });

  it('keeps the cause of a PluginStartError', () => {
    const cause = new Error('EADDRINUSE');
    expect(new PluginStartError('api', cause).cause).toBe(cause);
  });

  it('lists every issue of a ConfigError on its own line with its path', () => {
    const error = new ConfigError(
      [
        { path: 'plugins[2].options.hotDays', message: 'expected number' },
        { path: '', message: 'unknown key(s) "x"' },
      ],
      '/app/strata.config.ts',
    );
    expect(error.message).toBe('invalid configuration in /app/strata.config.ts:\n  - plugins[2].options.hotDays: expected number\n  - unknown key(s) "x"');
  });

  it('carries the delay a RetryableError asks for', () => {
    expect(new RetryableError('slow down', { retryAfterMs: 1_500 }).retryAfterMs).toBe(1_500);
  });
});

describe('definePlugin', () => {
  const plugin = definePlugin({ name: 'demo', version: '1.2.3', options: z.object({ level: z.number().default(1) }), setup: () => ({}) });

  it('returns a definition that keeps its name and version', () => {
    expect(isPluginDefinition(plugin)).toBe(true);
    expect(plugin.name).toBe('demo');
    expect(plugin.version).toBe('1.2.3');
  });

  it('pairs the definition with options when called', () => {
    const entry = plugin({ level: 4 });
    expect(entry.options).toEqual({ level: 4 });
    expect(isPluginDefinition(entry.definition)).toBe(true);
    expect(entry.definition.name).toBe('demo');
  });

  it.each([[null], [{}], [{ name: 'x' }], ['demo']])('does not take %j for a plugin definition', (value) => {
    expect(isPluginDefinition(value)).toBe(false);
  });
});

describe('normalizeQuery and hashQuery', () => {
  it('groups queries that differ only in case, spacing and trailing punctuation', () => {
    expect(normalizeQuery('  How do I   DEPLOY?! ')).toBe('how do i deploy');
    expect(normalizeQuery('how do i deploy')).toBe('how do i deploy');
  });

  it('folds compatibility forms of Unicode', () => {
    expect(normalizeQuery('ﬁle Ｎode')).toBe('file node');
  });

  it('hashes the same normalised query to the same short hex string', () => {
    expect(hashQuery('how do i deploy')).toMatch(/^[0-9a-f]{16}$/);
    expect(hashQuery(normalizeQuery('How do I deploy?'))).toBe(hashQuery(normalizeQuery('how do i deploy')));
    expect(hashQuery('a')).not.toBe(hashQuery('b'));
  });
});

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['15m', 900_000],
    ['12h', 43_200_000],
    ['30d', 2_592_000_000],
    ['1.5h', 5_400_000],
    [' 2 W ', 1_209_600_000],
    ['1y', 31_536_000_000],
  ])('reads %j', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([['30'], ['d'], ['-1d'], ['1 day'], ['']])('returns undefined for %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('throws a config error naming the field for text that is not a duration', () => {
    expect(() => requireDuration('soon', 'retention.hotDays')).toThrow(
      expect.objectContaining({ code: 'STRATA_CONFIG_INVALID', message: 'retention.hotDays: expected a duration such as 30d, 12h or 15m, got "soon"' }),
    );
  });
});

describe('createQueryKeyer', () => {
  it('gives the same key as normalizeQuery and hashQuery, from the memo or not', async () => {
    const { createQueryKeyer } = await import('@strata/core');
    const keyer = createQueryKeyer(2);
    for (const query of ['How do I deploy?', 'how do i  deploy', 'Other', 'Third one', 'How do I deploy?']) {
      const normalized = normalizeQuery(query);
      expect(keyer(query)).toEqual({ normalized, hash: hashQuery(normalized) });
    }
  });
});
