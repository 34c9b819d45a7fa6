import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import type { ResolvedPlugin } from './config.js';
import { PluginStartError, PluginTimeoutError, StopError, StrataError, toError } from './errors.js';
import type { EventLimits } from './interaction.js';
import { orderPlugins } from './pluginOrder.js';
import { withTimeout } from './timeout.js';
import type { CacheStore } from './cache.js';
import type { ErasureParticipant, Job, JobLock, MetricSource, PluginContribution, Processor, Sink, StorageTier, TierRole } from './types.js';

export interface RegistryEnvironment {
  logger: Logger;
  dataDir: string;
  clock: Clock;
  limits: EventLimits;
  /** The config file in use, or null (embedded default or an inline config). */
  configSource?: string | null;
}

interface LivePlugin {
  name: string;
  contribution: PluginContribution;
  started: boolean;
}

const DEFAULT_START_TIMEOUT_MS = 10_000;

/**
 * Sets plugins up and starts them in dependency order, and stops them in reverse order.
 * `stop` is idempotent, safe before `start`, bounded by one deadline, and reports every failure.
 */
export class PluginRegistry {
  private readonly ordered: ResolvedPlugin[];
  private readonly live: LivePlugin[] = [];
  private stopping: Promise<void> | undefined;

  constructor(
    plugins: readonly ResolvedPlugin[],
    private readonly environment: RegistryEnvironment,
  ) {
    this.ordered = orderPlugins(plugins);
  }

  /** Plugin names in start order. */
  get names(): string[] {
    return this.ordered.map((plugin) => plugin.definition.name);
  }

  async start(): Promise<void> {
    if (this.stopping) throw new StrataError('STRATA_CLOSED', 'registry was stopped; create a new one to start again');
    try {
      for (const plugin of this.ordered) {
        const name = plugin.definition.name;
        const context = {
          name,
          logger: this.environment.logger.child({ plugin: name }),
          dataDir: this.environment.dataDir,
          clock: this.environment.clock,
          limits: this.environment.limits,
          storage: (role: TierRole) => this.storage(role),
          config: {
            source: this.environment.configSource ?? null,
            dataDir: this.environment.dataDir,
            plugins: this.ordered.map((entry) => ({ name: entry.definition.name, version: entry.definition.version, options: entry.options })),
          },
          metricSources: () => this.metricSources(),
          contributions: <T,>(key: string) => this.contributions<T>(key),
        };
        let contribution: PluginContribution;
        try {
          const timeoutMs = plugin.definition.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
          contribution = await withTimeout(
            Promise.resolve().then(() => plugin.definition.setup(context, plugin.options)),
            timeoutMs,
            () => new PluginTimeoutError(name, 'start', timeoutMs),
          );
        } catch (error) {
          if (error instanceof PluginTimeoutError) throw error;
          throw error instanceof StrataError && error.code === 'STRATA_PLUGIN_START_FAILED' ? error : new PluginStartError(name, error);
        }
        this.live.push({ name, contribution, started: false });
      }
      for (const [index, live] of this.live.entries()) {
        const timeoutMs = this.ordered[index]!.definition.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
        if (live.contribution.start) {
          try {
            await withTimeout(Promise.resolve().then(() => live.contribution.start!()), timeoutMs, () => new PluginTimeoutError(live.name, 'start', timeoutMs));
          } catch (error) {
            throw error instanceof PluginTimeoutError ? error : new PluginStartError(live.name, error);
          }
        }
        live.started = true;
      }
    } catch (error) {
      // Leave nothing half-open: whatever was set up is stopped before the error surfaces.
      await this.stop(DEFAULT_START_TIMEOUT_MS).catch((stopError: unknown) => {
        this.environment.logger.error({ err: stopError }, 'cleanup after a failed start also failed');
      });
      throw error;
    }
  }

  storage(role: TierRole): StorageTier | undefined {
    for (const live of this.live) {
      const tier = live.contribution.storage?.find((candidate) => candidate.role === role);
      if (tier) return tier;
    }
    return undefined;
  }

  storageTiers(): StorageTier[] {
    return this.live.flatMap((live) => live.contribution.storage ?? []);
  }

  processors(): Processor[] {
    return this.live.flatMap((live) => live.contribution.processors ?? []);
  }

  sinks(): Sink[] {
    return this.live.flatMap((live) => live.contribution.sinks ?? []);
  }

  jobs(): Job[] {
    return this.live.flatMap((live) => live.contribution.jobs ?? []);
  }

  erasureParticipants(): ErasureParticipant[] {
    return this.live.flatMap((live) => live.contribution.erasure ?? []);
  }

  private readonly coreMetricSources: MetricSource[] = [];

  /** Sources the core itself provides (system monitor, insights figures), listed before the plugins'. */
  addMetricSource(source: MetricSource): void {
    this.coreMetricSources.push(source);
  }

  metricSources(): MetricSource[] {
    return [...this.coreMetricSources, ...this.live.flatMap((live) => live.contribution.metricSources ?? [])];
  }

  contributions<T>(key: string): T[] {
    return this.live.flatMap((live) => (live.contribution.extensions?.[key] ?? []) as T[]);
  }

  cache(): CacheStore | undefined {
    return this.live.find((live) => live.contribution.cache)?.contribution.cache;
  }

  jobLock(): JobLock | undefined {
    return this.live.find((live) => live.contribution.jobLock)?.contribution.jobLock;
  }

  async flush(): Promise<void> {
    for (const live of this.live) await live.contribution.flush?.();
  }

  /**
   * Stops plugins in reverse start order, then closes storage tiers (also in reverse), all within
   * one deadline. A failure or timeout of one never prevents the others from stopping.
   */
  stop(deadlineMs: number): Promise<void> {
    this.stopping ??= this.stopAll(deadlineMs);
    return this.stopping;
  }

  private async stopAll(deadlineMs: number): Promise<void> {
    const deadline = this.environment.clock.now() + deadlineMs;
    const remaining = () => Math.max(0, deadline - this.environment.clock.now());
    const errors: Error[] = [];
    const reversed = [...this.live].reverse();
    for (const live of reversed) {
      if (!live.contribution.stop) continue;
      try {
        await withTimeout(Promise.resolve().then(() => live.contribution.stop!()), remaining(), () => new PluginTimeoutError(live.name, 'stop', deadlineMs));
      } catch (error) {
        errors.push(labelled(live.name, error));
      }
    }
    for (const live of reversed) {
      for (const tier of [...(live.contribution.storage ?? [])].reverse()) {
        try {
          await withTimeout(tier.close(), remaining(), () => new PluginTimeoutError(`${live.name} (${tier.name})`, 'stop', deadlineMs));
        } catch (error) {
          errors.push(labelled(live.name, error));
        }
      }
    }
    if (errors.length > 0) throw new StopError(errors);
  }
}

function labelled(plugin: string, error: unknown): Error {
  const err = toError(error);
  if (err.message.startsWith(`${plugin}:`) || err instanceof PluginTimeoutError) return err;
  const wrapped = new StrataError('STRATA_STOP_FAILED', `${plugin}: ${err.message}`, { cause: err });
  return wrapped;
}
