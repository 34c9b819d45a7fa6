import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import { ConfigError, StrataError, describeError, type Issue } from './errors.js';
import { DEFAULT_EVENT_LIMITS, formatPath, type EventLimits } from './interaction.js';
import { isPluginDefinition, type NamedPluginEntry, type PluginDefinition, type PluginEntry } from './plugin.js';

/** Names of the plugins Strata ships, each published as `@strata/<name>`. */
export const BUILT_IN_PLUGINS = [
  'hot-sqlite',
  'historical-sqlite',
  'json-archive',
  'privacy',
  'retention',
  'quality',
  'alerts',
  'cache',
  'exporters',
  'backup',
  'hot-postgres',
] as const;

/** The plugins used when there is no config file. */
/** No config file: hot SQLite with the privacy processor (pseudonyms and PII scrubbing) on. */
export const EMBEDDED_DEFAULT_PLUGINS: readonly string[] = ['hot-sqlite', 'privacy'];

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Per-sink delivery settings. */
export interface SinkDeliveryOptions {
  /** Most events waiting for this sink; beyond it the oldest are dropped and counted. Default 10,000. */
  maxBacklog?: number;
  /** Attempts per batch before it is dropped and counted. Default 8. */
  maxAttempts?: number;
  /** How long one `consume` call may take before it counts as a retryable failure. Default 10 s. */
  timeoutMs?: number;
  /** First retry delay; doubles per attempt up to `maxBackoffMs`, with jitter. Default 200 ms. */
  initialBackoffMs?: number;
  /** Default 30 s. */
  maxBackoffMs?: number;
}

export interface PipelineOptions {
  /** Events written to the hot tier per transaction. Default 1,500. */
  maxBatchSize?: number;
  /** Longest an accepted event waits before its batch is written. Default 50 ms. */
  maxBatchDelayMs?: number;
  /**
   * Batches handed to the hot tier before the oldest is answered. A hot tier that commits queued
   * batches together (hot-sqlite's writer thread) writes fewer rollup rows per event the more it
   * is given; each batch in flight holds its events in memory until it is answered. Default: what
   * the hot tier asks for (`StorageTier.batchesInFlight`: hot-sqlite 6), else 2.
   */
  maxBatchesInFlight?: number;
  /** Most events waiting for the hot tier; `record` drops (and counts) beyond it, `recordStrict` rejects. Default 100,000. */
  maxQueue?: number;
  /** Delivery settings for every sink, overridable per sink name in `sinks`. */
  sinkDefaults?: SinkDeliveryOptions;
  sinks?: Record<string, SinkDeliveryOptions>;
}

/** A plugin as it may appear in `plugins`. */
export type PluginSpec = string | NamedPluginEntry | PluginEntry | PluginDefinition;

/** The content of `strata.config.ts` / `strata.config.json`. */
export interface StrataConfig {
  /** Where the data lives, relative to the config file. Default `./analytics`. */
  dataDir?: string;
  /** Plugins to compose, in any order (dependencies decide start order). Default: hot-sqlite. */
  plugins?: PluginSpec[];
  pipeline?: PipelineOptions;
  limits?: {
    /** Largest `query` accepted, in bytes. Default 32768. */
    maxQueryBytes?: number;
    /** Allowed clock skew for future timestamps, in hours. Default 24. */
    maxFutureHours?: number;
    /** Extra query types accepted on top of technical, career, mma, fun and general. */
    queryTypes?: string[];
  };
  /** pino level for Strata's logs. Default `info` (the CLI uses `warn`). */
  logLevel?: LogLevel;
  /** One deadline for the whole shutdown, in ms. Default 10,000. */
  shutdownTimeoutMs?: number;
  /** The system monitor: the core's own metrics sampled into `system_performance`. */
  monitor?: {
    /** Default true (createStrata's `monitor: false` and the CLI turn it off). */
    enabled?: boolean;
    /** Sampling interval in ms, at least 1,000. Default 60,000. */
    intervalMs?: number;
    /** A session counts as concurrent while its last event is at most this old, in ms. Default 300,000. */
    activeSessionWindowMs?: number;
    /** Window of the `insights.*` figures (success rate, response time) alert rules read, in ms. Default 900,000. */
    insightsWindowMs?: number;
  };
  access?: {
    /**
     * Who the CLI acts as when `--as` is not given: the audit log records `name`, the role decides
     * what is allowed. Default `{ name: 'cli:<os user>', role: 'admin' }`.
     */
    principal?: { name: string; role: 'admin' | 'analyst' | 'developer' | 'viewer' };
  };
}

/** Identity function that gives `strata.config.ts` full typing. */
export function defineConfig(config: StrataConfig): StrataConfig {
  return config;
}

export interface ResolvedSinkDelivery {
  maxBacklog: number;
  maxAttempts: number;
  timeoutMs: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export interface ResolvedPipeline {
  maxBatchSize: number;
  maxBatchDelayMs: number;
  /** Unset: the hot tier's `batchesInFlight`, else 2. */
  maxBatchesInFlight?: number;
  maxQueue: number;
  sinkDefaults: ResolvedSinkDelivery;
  sinks: Record<string, Partial<ResolvedSinkDelivery>>;
}

export interface ResolvedPlugin {
  definition: PluginDefinition;
  /** Options after the plugin's schema applied defaults. */
  options: unknown;
}

/** A validated configuration, ready to build from; nothing in it is validated again. */
export interface ResolvedConfig {
  /** The config file, or null for the embedded default. */
  source: string | null;
  dataDir: string;
  plugins: ResolvedPlugin[];
  pipeline: ResolvedPipeline;
  limits: EventLimits;
  /** The config's `logLevel`, or undefined when it sets none (callers pick their own default). */
  logLevel: LogLevel | undefined;
  shutdownTimeoutMs: number;
  monitor: { enabled: boolean; intervalMs: number; activeSessionWindowMs: number; insightsWindowMs: number };
  /** The configured principal for the CLI, when the config names one. */
  principal: { name: string; role: 'admin' | 'analyst' | 'developer' | 'viewer' } | undefined;
}

const positiveInt = z.number().int().positive();
const sinkDeliverySchema = z
  .object({
    maxBacklog: positiveInt.optional(),
    maxAttempts: positiveInt.optional(),
    timeoutMs: positiveInt.optional(),
    initialBackoffMs: positiveInt.optional(),
    maxBackoffMs: positiveInt.optional(),
  })
  .strict();

const pluginSpecSchema = z.union([
  z.string().min(1),
  z.custom<PluginDefinition | PluginEntry>(
    (value) => isPluginDefinition(value) || (typeof value === 'object' && value !== null && isPluginDefinition((value as PluginEntry).definition)),
  ),
  z.object({ name: z.string().min(1), options: z.unknown().optional(), package: z.string().min(1).optional() }).strict(),
]);

/** The shape of the core's part of the config; plugin options are checked by each plugin's schema. */
export const StrataConfigSchema = z
  .object({
    $schema: z.string().optional(),
    dataDir: z.string().min(1).optional(),
    plugins: z.array(pluginSpecSchema).optional(),
    pipeline: z
      .object({
        maxBatchSize: positiveInt.max(100_000).optional(),
        maxBatchDelayMs: z.number().int().min(0).max(60_000).optional(),
        maxBatchesInFlight: positiveInt.max(64).optional(),
        maxQueue: positiveInt.optional(),
        sinkDefaults: sinkDeliverySchema.optional(),
        sinks: z.record(z.string(), sinkDeliverySchema).optional(),
      })
      .strict()
      .optional(),
    limits: z
      .object({
        maxQueryBytes: positiveInt.optional(),
        maxFutureHours: z.number().min(0).optional(),
        queryTypes: z.array(z.string().min(1).max(64)).optional(),
      })
      .strict()
      .optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
    shutdownTimeoutMs: positiveInt.optional(),
    monitor: z
      .object({
        enabled: z.boolean().optional(),
        intervalMs: z.number().int().min(1_000).optional(),
        activeSessionWindowMs: positiveInt.optional(),
        insightsWindowMs: z.number().int().min(60_000).optional(),
      })
      .strict()
      .optional(),
    access: z
      .object({
        principal: z.object({ name: z.string().min(1), role: z.enum(['admin', 'analyst', 'developer', 'viewer']) }).strict().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** Loads a plugin definition by name; the CLI and applications may add their own. */
export type PluginCatalog = Record<string, () => Promise<PluginDefinition> | PluginDefinition>;

export interface ResolveConfigOptions {
  /** Where the config came from, for messages; null for the embedded default. */
  source?: string | null;
  /** Directory that relative paths and plugin packages are resolved from. Default: the config file's directory, else cwd. */
  baseDir?: string;
  /** Overrides `dataDir` (the CLI's `--data-dir`); relative to `cwd`. */
  dataDir?: string;
  /** Directory a relative `dataDir` override is resolved from. Default `process.cwd()`. */
  cwd?: string;
  catalog?: PluginCatalog;
}

/**
 * Validates a config as a whole and resolves its plugins. Every problem is collected and thrown
 * together in one ConfigError, each with its path.
 */
export async function resolveConfig(config: unknown, options: ResolveConfigOptions = {}): Promise<ResolvedConfig> {
  const source = options.source ?? null;
  const baseDir = options.baseDir ?? (source ? dirname(source) : process.cwd());
  const issues: Issue[] = [];
  const parsed = StrataConfigSchema.safeParse(config ?? {}, { reportInput: true });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      // An entry of `plugins` that is no kind of plugin spec is reported below, with a clearer message.
      if (issue.code === 'invalid_union' && issue.path.length === 2 && issue.path[0] === 'plugins') continue;
      issues.push({ path: formatPath(issue.path), message: describeZodIssue(issue) });
    }
  }
  const raw = (parsed.success ? parsed.data : {}) as StrataConfig;
  const configuredPlugins = typeof config === 'object' && config !== null ? (config as StrataConfig).plugins : undefined;
  // `plugins` of the wrong type is already an issue above; falling back to the default would only add noise.
  const rawPlugins: unknown[] = Array.isArray(configuredPlugins) ? configuredPlugins : configuredPlugins === undefined ? [...EMBEDDED_DEFAULT_PLUGINS] : [];

  const plugins: ResolvedPlugin[] = [];
  for (const [index, spec] of rawPlugins.entries()) {
    const at = `plugins[${index}]`;
    const located = await locatePlugin(spec, baseDir, options.catalog ?? {});
    if ('issue' in located) {
      // A plugin given as a bare string has no `.name` to point at.
      const inner = typeof spec === 'string' ? '' : located.issue.path;
      issues.push({ path: inner ? `${at}.${inner}` : at, message: located.issue.message });
      continue;
    }
    const { definition, rawOptions } = located;
    const checked = definition.options.safeParse(rawOptions ?? {}, { reportInput: true });
    if (!checked.success) {
      for (const issue of checked.error.issues) {
        const inner = formatPath(issue.path);
        issues.push({ path: `${at}.options${inner ? (inner.startsWith('[') ? inner : `.${inner}`) : ''}`, message: describeZodIssue(issue) });
      }
      continue;
    }
    plugins.push({ definition, options: checked.data });
  }

  if (issues.length > 0) throw new ConfigError(issues, source ?? undefined);

  // An override comes from the caller (`--data-dir`), so it is relative to the caller's directory.
  const dataDir = options.dataDir ? resolve(options.cwd ?? process.cwd(), options.dataDir) : resolve(baseDir, raw.dataDir ?? './analytics');
  const pipeline = raw.pipeline ?? {};
  const sinkDefaults = pipeline.sinkDefaults ?? {};
  return {
    source,
    dataDir,
    plugins,
    pipeline: {
      maxBatchSize: pipeline.maxBatchSize ?? 1_500,
      maxBatchDelayMs: pipeline.maxBatchDelayMs ?? 50,
      ...(pipeline.maxBatchesInFlight !== undefined ? { maxBatchesInFlight: pipeline.maxBatchesInFlight } : {}),
      maxQueue: pipeline.maxQueue ?? 100_000,
      sinkDefaults: {
        maxBacklog: sinkDefaults.maxBacklog ?? 10_000,
        maxAttempts: sinkDefaults.maxAttempts ?? 8,
        timeoutMs: sinkDefaults.timeoutMs ?? 10_000,
        initialBackoffMs: sinkDefaults.initialBackoffMs ?? 200,
        maxBackoffMs: sinkDefaults.maxBackoffMs ?? 30_000,
      },
      sinks: pipeline.sinks ?? {},
    },
    limits: {
      maxQueryBytes: raw.limits?.maxQueryBytes ?? DEFAULT_EVENT_LIMITS.maxQueryBytes,
      maxFutureMs: raw.limits?.maxFutureHours !== undefined ? raw.limits.maxFutureHours * 3_600_000 : DEFAULT_EVENT_LIMITS.maxFutureMs,
      queryTypes: [...new Set([...DEFAULT_EVENT_LIMITS.queryTypes, ...(raw.limits?.queryTypes ?? [])])],
    },
    logLevel: raw.logLevel,
    shutdownTimeoutMs: raw.shutdownTimeoutMs ?? 10_000,
    principal: raw.access?.principal,
    monitor: {
      enabled: raw.monitor?.enabled ?? true,
      intervalMs: raw.monitor?.intervalMs ?? 60_000,
      activeSessionWindowMs: raw.monitor?.activeSessionWindowMs ?? 300_000,
      insightsWindowMs: raw.monitor?.insightsWindowMs ?? 900_000,
    },
  };
}

type Located = { definition: PluginDefinition; rawOptions: unknown } | { issue: Issue };

async function locatePlugin(spec: unknown, baseDir: string, catalog: PluginCatalog): Promise<Located> {
  if (isPluginDefinition(spec) && typeof spec !== 'function') return { definition: spec, rawOptions: undefined };
  if (typeof spec === 'function' && isPluginDefinition(spec)) return { definition: spec, rawOptions: undefined };
  if (typeof spec === 'object' && spec !== null && isPluginDefinition((spec as PluginEntry).definition)) {
    return { definition: (spec as PluginEntry).definition, rawOptions: (spec as PluginEntry).options };
  }
  const named: NamedPluginEntry | undefined =
    typeof spec === 'string' ? { name: spec } : typeof spec === 'object' && spec !== null && typeof (spec as NamedPluginEntry).name === 'string' ? (spec as NamedPluginEntry) : undefined;
  if (!named) return { issue: { path: '', message: 'must be a plugin name, { name, options?, package? }, or a plugin from definePlugin' } };

  const fromCatalog = catalog[named.name];
  if (fromCatalog && !named.package) {
    try {
      return { definition: await fromCatalog(), rawOptions: named.options };
    } catch (error) {
      return { issue: { path: 'name', message: `plugin "${named.name}" failed to load: ${describeError(error)}` } };
    }
  }
  const builtIn = (BUILT_IN_PLUGINS as readonly string[]).includes(named.name);
  const packageName = named.package ?? (builtIn ? `@strata/${named.name}` : undefined);
  if (!packageName) {
    const known = [...new Set([...Object.keys(catalog), ...BUILT_IN_PLUGINS])].sort();
    return {
      issue: {
        path: 'name',
        message: `unknown plugin "${named.name}"; known plugins: ${known.join(', ')} (a third-party plugin needs "package": "<npm name>")`,
      },
    };
  }
  const loaded = await importPluginPackage(packageName, baseDir);
  if ('error' in loaded) return { issue: { path: named.package ? 'package' : 'name', message: loaded.error } };
  const definition = pickPluginExport(loaded.module, named.name);
  if (!definition) {
    return { issue: { path: named.package ? 'package' : 'name', message: `${packageName} does not export a plugin named "${named.name}" (expected a definePlugin result as default export or named export)` } };
  }
  return { definition, rawOptions: named.options };
}

async function importPluginPackage(packageName: string, baseDir: string): Promise<{ module: Record<string, unknown> } | { error: string }> {
  // Resolve from the project first (where the team installed its plugins), then from Strata itself.
  const bases = [join(baseDir, 'package.json'), join(process.cwd(), 'package.json')];
  for (const base of bases) {
    let resolved: string;
    try {
      resolved = createRequire(base).resolve(packageName);
    } catch {
      continue;
    }
    try {
      return { module: (await import(pathToFileURL(resolved).href)) as Record<string, unknown> };
    } catch (error) {
      return { error: `${packageName} was found at ${resolved} but failed to load: ${describeError(error)}` };
    }
  }
  try {
    return { module: (await import(packageName)) as Record<string, unknown> };
  } catch (error) {
    const notFound = (error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND';
    return {
      error: notFound
        ? `package ${packageName} is not installed; add it to your project (pnpm add ${packageName})`
        : `${packageName} failed to load: ${describeError(error)}`,
    };
  }
}

function pickPluginExport(module: Record<string, unknown>, name: string): PluginDefinition | undefined {
  const candidates = [module.default, module.plugin, ...Object.values(module)];
  for (const candidate of candidates) {
    if (isPluginDefinition(candidate) && candidate.name === name) return candidate;
  }
  return undefined;
}

function describeZodIssue(issue: z.core.$ZodIssue): string {
  const input = (issue as { input?: unknown }).input;
  if (issue.code === 'invalid_type') {
    return input === undefined ? 'is required' : `expected ${issue.expected}, got ${input === null ? 'null' : Array.isArray(input) ? 'array' : typeof input}`;
  }
  if (issue.code === 'unrecognized_keys') return `unknown key(s) ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
  return issue.message;
}

export const CONFIG_FILE_NAMES = ['strata.config.ts', 'strata.config.mts', 'strata.config.js', 'strata.config.mjs', 'strata.config.json'];

/** Finds the config file in `cwd`; undefined means the embedded default applies. */
export function findConfigFile(cwd: string = process.cwd()): string | undefined {
  for (const name of CONFIG_FILE_NAMES) {
    const candidate = join(cwd, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

export interface LoadConfigOptions {
  /** Explicit config file (`--config`). Without it, `strata.config.*` in cwd, else the embedded default. */
  configPath?: string;
  cwd?: string;
  dataDir?: string;
  catalog?: PluginCatalog;
}

/**
 * Loads and validates the configuration. TypeScript configs are loaded with jiti, which compiles
 * them in memory, so teams need no build step and no loader flags for their config.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<ResolvedConfig> {
  const cwd = options.cwd ?? process.cwd();
  const explicit = options.configPath ? (isAbsolute(options.configPath) ? options.configPath : resolve(cwd, options.configPath)) : undefined;
  if (explicit && !existsSync(explicit)) {
    throw new StrataError('STRATA_CONFIG_NOT_FOUND', `config file ${explicit} does not exist; run \`strata init\` to write one`);
  }
  const file = explicit ?? findConfigFile(cwd);
  if (!file) return resolveConfig({}, { source: null, baseDir: cwd, cwd, dataDir: options.dataDir, catalog: options.catalog });
  const content = await readConfigFile(file);
  return resolveConfig(content, { source: file, cwd, dataDir: options.dataDir, catalog: options.catalog });
}

/**
 * A config imports `defineConfig` from `@strata/core`. A project that installed only the CLI has no
 * `@strata/core` of its own, so the import is pointed at the core that is loading the config.
 */
function coreAliasFor(file: string): Record<string, string> | undefined {
  try {
    createRequire(file).resolve('@strata/core');
    return undefined;
  } catch {
    // not installed next to the config: fall through
  }
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        const { name } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string };
        if (name === '@strata/core') return { '@strata/core': createRequire(manifest).resolve('@strata/core') };
      } catch {
        return undefined;
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

async function readConfigFile(file: string): Promise<unknown> {
  if (file.endsWith('.json')) {
    try {
      const text = readFileSync(file, 'utf8');
      return JSON.parse(text);
    } catch (error) {
      const reason = error instanceof SyntaxError ? `is not valid JSON: ${error.message}` : `could not be read: ${describeError(error)}`;
      throw new StrataError('STRATA_CONFIG_LOAD_FAILED', `${file} ${reason}`, { cause: error });
    }
  }
  try {
    const { createJiti } = await import('jiti');
    const alias = coreAliasFor(file);
    const jiti = createJiti(file, { interopDefault: true, moduleCache: false, fsCache: false, ...(alias ? { alias } : {}) });
    return await jiti.import(file, { default: true });
  } catch (error) {
    throw new StrataError('STRATA_CONFIG_LOAD_FAILED', `could not load ${file}: ${describeError(error)}`, { cause: error });
  }
}
