import type { z } from 'zod';
import type { PluginContext, PluginContribution } from './types.js';

/** A plugin: a name, its options schema, and a setup that returns what it contributes. */
export interface PluginDefinition<Options extends z.ZodType = z.ZodType> {
  /** Unique name used in config files (`hot-sqlite`) and in log lines. */
  readonly name: string;
  readonly version: string;
  /** Plugins that must be set up and started before this one. */
  readonly dependsOn?: readonly string[];
  /** Validates the options from the config file; its defaults apply. */
  readonly options: Options;
  /** How long `start` may take before it fails with STRATA_PLUGIN_TIMEOUT. Default 10 s. */
  readonly startTimeoutMs?: number;
  /** Builds the plugin from validated options. Must not start background work: `start` does. */
  setup(context: PluginContext, options: z.output<Options>): PluginContribution | Promise<PluginContribution>;
}

/** A plugin with the options it was given in a config. */
export interface PluginEntry<Options extends z.ZodType = z.ZodType> {
  readonly definition: PluginDefinition<Options>;
  readonly options?: z.input<Options>;
}

/** A plugin named in a config file, resolved through the catalogue or `package`. */
export interface NamedPluginEntry {
  /** A known plugin name (`hot-sqlite`) or the plugin's name inside `package`. */
  readonly name: string;
  readonly options?: unknown;
  /** npm package that exports the plugin (default export or `plugin`), for third-party plugins. */
  readonly package?: string;
}

/**
 * Declares a plugin. The returned object is both the definition and a function that pairs it with
 * options for a config file: `plugins: [hotSqlite({ synchronous: 'FULL' })]`.
 */
export function definePlugin<Options extends z.ZodType>(
  definition: PluginDefinition<Options>,
): PluginDefinition<Options> & ((options?: z.input<Options>) => PluginEntry<Options>) {
  const withOptions = (options?: z.input<Options>): PluginEntry<Options> => ({ definition, options });
  // A function's own `name` is read-only, so it is redefined rather than assigned.
  Object.defineProperty(withOptions, 'name', { value: definition.name });
  const { name: _name, ...rest } = definition;
  return Object.assign(withOptions, rest) as unknown as PluginDefinition<Options> & ((options?: z.input<Options>) => PluginEntry<Options>);
}

export function isPluginDefinition(value: unknown): value is PluginDefinition {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as PluginDefinition).setup === 'function' &&
    typeof (value as PluginDefinition).name === 'string'
  );
}
