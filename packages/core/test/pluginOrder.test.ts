import { ConfigError, definePlugin, orderPlugins, type ResolvedPlugin } from '@strata/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

function plugin(name: string, dependsOn: string[] = []): ResolvedPlugin {
  return { definition: definePlugin({ name, version: '1.0.0', dependsOn, options: z.object({}), setup: () => ({}) }), options: {} };
}

function names(plugins: ResolvedPlugin[]): string[] {
  return plugins.map((entry) => entry.definition.name);
}

function configErrorOf(work: () => unknown): ConfigError {
  try {
    work();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('orderPlugins', () => {
  it('puts every plugin after the plugins it depends on', () => {
    const ordered = names(orderPlugins([plugin('alerts', ['cache', 'hot']), plugin('cache', ['hot']), plugin('hot')]));
    expect(ordered).toEqual(['hot', 'cache', 'alerts']);
  });

  it('keeps config order for plugins that do not depend on each other', () => {
    expect(names(orderPlugins([plugin('c'), plugin('a'), plugin('b')]))).toEqual(['c', 'a', 'b']);
  });

  it('reports a missing dependency as a config error naming both plugins', () => {
    const error = configErrorOf(() => orderPlugins([plugin('hot'), plugin('retention', ['json-archive'])]));
    expect(error.code).toBe('STRATA_CONFIG_INVALID');
    expect(error.issues).toEqual([
      { path: 'plugins[1]', message: 'plugin "retention" depends on "json-archive", which is not in the config; add it to plugins' },
    ]);
  });

  it('reports a cycle as a config error that shows the loop', () => {
    const error = configErrorOf(() => orderPlugins([plugin('a', ['b']), plugin('b', ['a'])]));
    expect(error.code).toBe('STRATA_CONFIG_INVALID');
    expect(error.message).toContain('a -> b -> a');
  });

  it('shows only the plugins in the loop when the cycle is reached through another plugin', () => {
    const error = configErrorOf(() => orderPlugins([plugin('entry', ['x']), plugin('x', ['y']), plugin('y', ['z']), plugin('z', ['x'])]));
    expect(error.message).toContain('dependency cycle: x -> y -> z -> x');
  });

  it('reports a plugin that depends on itself as a cycle', () => {
    expect(configErrorOf(() => orderPlugins([plugin('self', ['self'])])).message).toContain('self -> self');
  });

  it('reports a duplicate name as a config error naming the plugin and where it repeats', () => {
    const error = configErrorOf(() => orderPlugins([plugin('hot'), plugin('cache'), plugin('hot')]));
    expect(error.issues).toEqual([{ path: 'plugins[2]', message: 'duplicate plugin "hot": each plugin may appear once' }]);
  });

  it('reports a duplicate and a missing dependency together', () => {
    const error = configErrorOf(() => orderPlugins([plugin('hot'), plugin('hot'), plugin('alerts', ['cache'])]));
    expect(error.issues.map((issue) => issue.path)).toEqual(['plugins[1]', 'plugins[2]']);
  });
});
