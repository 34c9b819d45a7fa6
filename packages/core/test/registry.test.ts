import {
  DEFAULT_EVENT_LIMITS,
  PluginRegistry,
  PluginStartError,
  PluginTimeoutError,
  StopError,
  StrataError,
  createLogger,
  definePlugin,
  systemClock,
  type PluginContribution,
  type ResolvedPlugin,
  type StorageTier,
} from '@strata/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { rejectionOf, tempDir } from './fixtures.js';
import { MemoryTier } from './memoryTier.js';

const never = () => new Promise<void>(() => undefined);

interface FakePluginOptions {
  dependsOn?: string[];
  startTimeoutMs?: number;
  start?: () => void | Promise<void>;
  stop?: () => void | Promise<void>;
  storage?: StorageTier[];
  setup?: () => void;
}

/** A plugin that writes `start:<name>` / `stop:<name>` to `log`, then runs the given behaviour. */
function fakePlugin(log: string[], name: string, options: FakePluginOptions = {}): ResolvedPlugin {
  const definition = definePlugin({
    name,
    version: '1.0.0',
    dependsOn: options.dependsOn ?? [],
    options: z.object({}),
    ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }),
    setup: (): PluginContribution => {
      log.push(`setup:${name}`);
      options.setup?.();
      return {
        storage: options.storage,
        start: async () => {
          log.push(`start:${name}`);
          await options.start?.();
        },
        stop: async () => {
          log.push(`stop:${name}`);
          await options.stop?.();
        },
      };
    },
  });
  return { definition, options: {} };
}

function registryOf(plugins: ResolvedPlugin[]): PluginRegistry {
  return new PluginRegistry(plugins, { logger: createLogger('silent'), dataDir: tempDir(), clock: systemClock, limits: DEFAULT_EVENT_LIMITS });
}

describe('PluginRegistry start', () => {
  it('sets up and starts plugins in dependency order', async () => {
    const log: string[] = [];
    const registry = registryOf([fakePlugin(log, 'alerts', { dependsOn: ['hot'] }), fakePlugin(log, 'hot')]);
    await registry.start();
    expect(registry.names).toEqual(['hot', 'alerts']);
    expect(log).toEqual(['setup:hot', 'setup:alerts', 'start:hot', 'start:alerts']);
    await registry.stop(1_000);
  });

  it('fails with a timeout naming the plugin when its setup never finishes, and stops those already set up', async () => {
    const log: string[] = [];
    const hanging = definePlugin({
      name: 'stuck-setup',
      version: '1.0.0',
      dependsOn: ['hot'],
      startTimeoutMs: 30,
      options: z.object({}),
      setup: () => never().then(() => ({})),
    });
    const registry = registryOf([fakePlugin(log, 'hot'), { definition: hanging, options: {} }]);
    const error = await rejectionOf(registry.start());
    expect(error).toBeInstanceOf(PluginTimeoutError);
    expect(error.message).toMatch(/^stuck-setup: start did not finish within 30 ms/);
    expect(log).toEqual(['setup:hot', 'stop:hot']);
  });

  it('gives a plugin the storage tiers of the plugins it depends on during setup', async () => {
    const tier = new MemoryTier('hot-memory');
    let seen: StorageTier | undefined;
    const consumer = definePlugin({
      name: 'consumer',
      version: '1.0.0',
      dependsOn: ['hot'],
      options: z.object({}),
      setup: (context) => {
        seen = context.storage('hot');
        return {};
      },
    });
    const registry = registryOf([{ definition: consumer, options: {} }, fakePlugin([], 'hot', { storage: [tier] })]);
    await registry.start();
    expect(seen).toBe(tier);
    expect(registry.storage('hot')).toBe(tier);
    expect(registry.storage('cold')).toBeUndefined();
    await registry.stop(1_000);
  });

  it('passes validated options to setup and a child logger bound to the plugin name', async () => {
    let received: unknown;
    let bindings: Record<string, unknown> = {};
    const configurable = definePlugin({
      name: 'configurable',
      version: '1.0.0',
      options: z.object({ level: z.number().default(3) }),
      setup: (context, options) => {
        received = options;
        bindings = context.logger.bindings();
        return {};
      },
    });
    const registry = registryOf([{ definition: configurable, options: { level: 7 } }]);
    await registry.start();
    expect(received).toEqual({ level: 7 });
    expect(bindings).toMatchObject({ plugin: 'configurable' });
    await registry.stop(1_000);
  });

  it('fails with PluginTimeoutError naming a plugin whose start hangs', async () => {
    const registry = registryOf([fakePlugin([], 'slowpoke', { start: never, startTimeoutMs: 30 })]);
    const error = await rejectionOf(registry.start());
    expect(error).toBeInstanceOf(PluginTimeoutError);
    expect((error as PluginTimeoutError).code).toBe('STRATA_PLUGIN_TIMEOUT');
    expect((error as PluginTimeoutError).plugin).toBe('slowpoke');
    expect(error.message).toBe(
      'slowpoke: start did not finish within 30 ms; check what it waits for, or raise the startTimeoutMs of the plugin definition',
    );
  });

  it('stops the plugins already started when a later start hangs', async () => {
    const log: string[] = [];
    const registry = registryOf([fakePlugin(log, 'first'), fakePlugin(log, 'second', { dependsOn: ['first'], start: never, startTimeoutMs: 30 })]);
    await expect(registry.start()).rejects.toBeInstanceOf(PluginTimeoutError);
    expect(log).toContain('stop:first');
  });

  it('fails with PluginStartError naming a plugin whose start throws, and stops the ones already started', async () => {
    const log: string[] = [];
    const tier = new MemoryTier();
    const registry = registryOf([
      fakePlugin(log, 'hot', { storage: [tier] }),
      fakePlugin(log, 'broken', { dependsOn: ['hot'], start: () => Promise.reject(new Error('port 6379 refused')) }),
      fakePlugin(log, 'after', { dependsOn: ['broken'] }),
    ]);
    const error = await rejectionOf(registry.start());
    expect(error).toBeInstanceOf(PluginStartError);
    expect((error as PluginStartError).code).toBe('STRATA_PLUGIN_START_FAILED');
    expect(error.message).toBe('broken: failed to start: port 6379 refused');
    expect(log).not.toContain('start:after');
    expect(log).toContain('stop:hot');
    expect(tier.closed).toBe(true);
  });

  it('fails with PluginStartError naming a plugin whose setup throws', async () => {
    const log: string[] = [];
    const registry = registryOf([
      fakePlugin(log, 'hot'),
      fakePlugin(log, 'broken', {
        setup: () => {
          throw new Error('missing key file');
        },
      }),
    ]);
    const error = await rejectionOf(registry.start());
    expect(error).toBeInstanceOf(PluginStartError);
    expect(error.message).toBe('broken: failed to start: missing key file');
    expect(log).not.toContain('start:hot');
  });

  it('refuses to start again after it was stopped', async () => {
    const registry = registryOf([fakePlugin([], 'hot')]);
    await registry.stop(1_000);
    const error = await rejectionOf(registry.start());
    expect(error).toBeInstanceOf(StrataError);
    expect((error as StrataError).code).toBe('STRATA_CLOSED');
  });
});

describe('PluginRegistry stop', () => {
  it('stops plugins in reverse start order', async () => {
    const log: string[] = [];
    const registry = registryOf([fakePlugin(log, 'c', { dependsOn: ['b'] }), fakePlugin(log, 'b', { dependsOn: ['a'] }), fakePlugin(log, 'a')]);
    await registry.start();
    log.length = 0;
    await registry.stop(1_000);
    expect(log).toEqual(['stop:c', 'stop:b', 'stop:a']);
  });

  it('closes storage tiers only after every plugin stopped', async () => {
    const log: string[] = [];
    const tier = new MemoryTier();
    tier.onClose = () => log.push('close:tier');
    const registry = registryOf([fakePlugin(log, 'hot', { storage: [tier] }), fakePlugin(log, 'sink', { dependsOn: ['hot'] })]);
    await registry.start();
    log.length = 0;
    await registry.stop(1_000);
    expect(log).toEqual(['stop:sink', 'stop:hot', 'close:tier']);
  });

  it('returns the same promise when called again and stops each plugin once', async () => {
    const log: string[] = [];
    const registry = registryOf([fakePlugin(log, 'hot')]);
    await registry.start();
    const first = registry.stop(1_000);
    const second = registry.stop(1_000);
    expect(second).toBe(first);
    await first;
    await registry.stop(1_000);
    expect(log.filter((entry) => entry === 'stop:hot')).toHaveLength(1);
  });

  it('resolves when start never ran', async () => {
    const log: string[] = [];
    await expect(registryOf([fakePlugin(log, 'hot')]).stop(1_000)).resolves.toBeUndefined();
    expect(log).toEqual([]);
  });

  it('stops the other plugins and closes tiers when one stop hangs, within the one deadline', async () => {
    const log: string[] = [];
    const tier = new MemoryTier();
    const registry = registryOf([
      fakePlugin(log, 'first', { storage: [tier] }),
      fakePlugin(log, 'stuck', { dependsOn: ['first'], stop: never }),
      fakePlugin(log, 'last', { dependsOn: ['stuck'] }),
    ]);
    await registry.start();
    const error = await rejectionOf(registry.stop(50));
    expect(error).toBeInstanceOf(StopError);
    expect((error as StopError).errors).toHaveLength(1);
    const [timeout] = (error as StopError).errors;
    expect(timeout).toBeInstanceOf(PluginTimeoutError);
    expect((timeout as PluginTimeoutError).plugin).toBe('stuck');
    expect(timeout?.message).toContain('raise shutdownTimeoutMs');
    expect(log.filter((entry) => entry.startsWith('stop:'))).toEqual(['stop:last', 'stop:stuck', 'stop:first']);
    expect(tier.closed).toBe(true);
  });

  it('finishes even when every plugin stop hangs', async () => {
    const registry = registryOf([fakePlugin([], 'a', { stop: never }), fakePlugin([], 'b', { stop: never }), fakePlugin([], 'c', { stop: never })]);
    await registry.start();
    const error = await rejectionOf(registry.stop(40));
    expect((error as StopError).errors.map((inner) => (inner as PluginTimeoutError).plugin)).toEqual(['c', 'b', 'a']);
  });

  it('reports every error from plugin stops and tier closes, each naming its plugin', async () => {
    const tier = new MemoryTier('broken-tier');
    tier.close = () => Promise.reject(new Error('database is locked'));
    const registry = registryOf([
      fakePlugin([], 'hot', { storage: [tier] }),
      fakePlugin([], 'cache', { stop: () => Promise.reject(new Error('redis gone')) }),
      fakePlugin([], 'alerts', { stop: () => Promise.reject(new Error('webhook down')) }),
    ]);
    await registry.start();
    const error = await rejectionOf(registry.stop(1_000));
    expect(error).toBeInstanceOf(StopError);
    expect((error as StopError).code).toBe('STRATA_STOP_FAILED');
    expect((error as StopError).errors.map((inner) => inner.message)).toEqual(['alerts: webhook down', 'cache: redis gone', 'hot: database is locked']);
    expect(error.message).toContain('shutdown finished with 3 error(s)');
  });
});
