import { ConfigError, type Issue } from './errors.js';
import type { ResolvedPlugin } from './config.js';

/**
 * Orders plugins so each comes after everything it depends on, keeping config order otherwise.
 * A duplicate name, a missing dependency and a cycle are config errors that name the plugins.
 */
export function orderPlugins(plugins: readonly ResolvedPlugin[]): ResolvedPlugin[] {
  const issues: Issue[] = [];
  const byName = new Map<string, ResolvedPlugin>();
  plugins.forEach((plugin, index) => {
    const name = plugin.definition.name;
    if (byName.has(name)) issues.push({ path: `plugins[${index}]`, message: `duplicate plugin "${name}": each plugin may appear once` });
    else byName.set(name, plugin);
  });
  plugins.forEach((plugin, index) => {
    for (const dependency of plugin.definition.dependsOn ?? []) {
      if (!byName.has(dependency)) {
        issues.push({
          path: `plugins[${index}]`,
          message: `plugin "${plugin.definition.name}" depends on "${dependency}", which is not in the config; add it to plugins`,
        });
      }
    }
  });
  if (issues.length > 0) throw new ConfigError(issues);

  const ordered: ResolvedPlugin[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (plugin: ResolvedPlugin, trail: string[]) => {
    const name = plugin.definition.name;
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      const cycle = [...trail.slice(trail.indexOf(name)), name];
      throw new ConfigError([{ path: 'plugins', message: `dependency cycle: ${cycle.join(' -> ')}` }]);
    }
    state.set(name, 'visiting');
    for (const dependency of plugin.definition.dependsOn ?? []) visit(byName.get(dependency)!, [...trail, name]);
    state.set(name, 'done');
    ordered.push(plugin);
  };
  for (const plugin of byName.values()) visit(plugin, []);
  return ordered;
}
