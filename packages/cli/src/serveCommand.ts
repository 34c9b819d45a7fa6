import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { createStrata, describeError, type ResolvedConfig } from '@strata/core';
import type { AlertsPanelData, DashboardPanels, QualityPanelData, ServerAddress, TokenSpec } from '@strata/server';
import { CliError, catalogFor, writeJson, writeLine, type CommandContext } from './commandContext.js';
import { watchInterruption } from './interruption.js';

export interface ServeCommandOptions {
  port?: string;
  host?: string;
  /** JSON file of `[{ token, name, role }]` (or `{ tokens: [...] }`). */
  tokens?: string;
  bodyLimit?: string;
  maxQueued?: string;
  maxConcurrent?: string;
  maxBatch?: string;
  /** Commander's `--no-jobs`: false turns scheduled jobs off. */
  jobs?: boolean;
  json?: boolean;
}

/** What `strata serve --json` prints once listening: one JSON line. */
export interface ServeStartedOutput extends ServerAddress {
  dashboard: string;
  dataDir: string;
  tokens: Array<{ name: string; role: string }>;
}

/** Looked for in the current directory when `--tokens` is not given. */
export const DEFAULT_TOKENS_FILE = 'strata.tokens.json';

/**
 * `strata serve`: the HTTP API and the dashboard on one long-lived Strata, which (unlike other
 * commands) runs its scheduled jobs and samples system metrics, as an assistant process would.
 * Runs until SIGINT/SIGTERM, then stops accepting, lets in-flight requests finish, writes everything
 * accepted and exits 0. A second signal exits at once.
 */
export async function serveCommand(context: CommandContext, options: ServeCommandOptions): Promise<number> {
  const { io, globals } = context;
  // Loaded here, not at the top: the other commands never load Fastify.
  const { createStrataServer, parseByteSize } = await import('@strata/server');
  const tokens = readTokens(options.tokens, io.cwd);
  const serverOptions = {
    ...(options.port !== undefined ? { port: wholeNumber(options.port, '--port', 0, 65_535) } : {}),
    ...(options.host !== undefined ? { host: options.host } : {}),
    ...(options.bodyLimit !== undefined ? { bodyLimitBytes: byteSize(options.bodyLimit, parseByteSize) } : {}),
    ...(options.maxQueued !== undefined ? { maxQueuedEvents: wholeNumber(options.maxQueued, '--max-queued', 1, Number.MAX_SAFE_INTEGER) } : {}),
    ...(options.maxConcurrent !== undefined ? { maxConcurrentIngests: wholeNumber(options.maxConcurrent, '--max-concurrent', 1, 10_000) } : {}),
    ...(options.maxBatch !== undefined ? { maxEventsPerBatch: wholeNumber(options.maxBatch, '--max-batch', 1, Number.MAX_SAFE_INTEGER) } : {}),
  };

  const strata = await createStrata({
    configPath: globals.config,
    cwd: io.cwd,
    dataDir: globals.dataDir,
    catalog: catalogFor(io),
    logLevel: globals.logLevel,
    defaultLogLevel: 'warn',
    scheduleJobs: options.jobs !== false,
  });
  let server: Awaited<ReturnType<typeof createStrataServer>>;
  let address: ServerAddress;
  try {
    server = await createStrataServer({ strata, tokens, ...serverOptions, panels: await dashboardPanels(strata.config) });
    address = await server.listen();
  } catch (error) {
    await strata.close().catch((closeError: unknown) => strata.logger.error({ err: closeError }, 'close after a failed start also failed'));
    throw error;
  }

  const interruption = watchInterruption(io);
  const stopped = new Promise<void>((resolveStopped) => interruption.onInterrupt(resolveStopped));
  const started: ServeStartedOutput = {
    ...address,
    dashboard: `${address.url}/`,
    dataDir: strata.config.dataDir,
    tokens: server.options.tokens.map((token) => ({ name: token.principal.name, role: token.principal.role })),
  };
  if (options.json) writeJson(io.stdout, started);
  else {
    writeLine(io.stdout, `strata serve: listening on ${address.url} (dashboard: ${started.dashboard}; data: ${started.dataDir})`);
    writeLine(io.stdout, `strata serve: ${started.tokens.length} token(s): ${started.tokens.map((token) => `${token.name} (${token.role})`).join(', ')}; stop with Ctrl-C or SIGTERM`);
  }

  try {
    await stopped;
    await server.close();
  } finally {
    interruption.dispose();
  }
  const counters = strata.metrics();
  if (options.json) writeJson(io.stdout, { stopped: interruption.received ?? null, stored: counters.stored, duplicates: counters.duplicates, rejected: counters.rejected, queued: counters.queued });
  else writeLine(io.stdout, `strata serve: stopped (${interruption.received}); ${counters.stored} event(s) stored while running, ${counters.queued} left queued`);
  return 0;
}

/** The tokens file: `--tokens <file>`, else `strata.tokens.json` in the current directory. Entries are checked by the server. */
function readTokens(option: string | undefined, cwd: string): TokenSpec[] {
  const file = option !== undefined ? (isAbsolute(option) ? option : resolve(cwd, option)) : join(cwd, DEFAULT_TOKENS_FILE);
  if (!existsSync(file)) {
    throw new CliError(
      option !== undefined
        ? `--tokens: ${file} does not exist`
        : `strata serve needs bearer tokens: write ${DEFAULT_TOKENS_FILE} here (or pass --tokens <file>) holding [{ "token": "<sha256 hex of the token, or the name of an environment variable holding it>", "name": "ops", "role": "admin" }]`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CliError(`${file} is not valid JSON (${describeError(error)}); it must hold an array of { token, name, role }`);
  }
  const list = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && 'tokens' in parsed ? (parsed as { tokens: unknown }).tokens : parsed;
  if (!Array.isArray(list)) throw new CliError(`${file} must hold an array of { token, name, role } (or { "tokens": [...] })`);
  return list as TokenSpec[];
}

function wholeNumber(text: string, flag: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new CliError(`${flag} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`);
  }
  return value;
}

function byteSize(text: string, parse: (text: string) => number | undefined): number {
  const bytes = parse(text);
  if (bytes === undefined) throw new CliError(`--body-limit must be a size such as 5mb, 512kb or 1048576 (bytes), got ${JSON.stringify(text)}`);
  return bytes;
}

/** Readers for the dashboard's alerts and quality panels, for the plugins the config lists. */
async function dashboardPanels(config: ResolvedConfig): Promise<DashboardPanels> {
  const panels: DashboardPanels = {};
  const names = new Set(config.plugins.map((plugin) => plugin.definition.name));
  if (names.has('alerts')) {
    const { AlertStore, alertsOverview, alertsSettingsOf } = await import('@strata/alerts');
    const settings = alertsSettingsOf(config);
    if (settings) {
      panels.alerts = async (): Promise<AlertsPanelData> => {
        // Opened per request: the plugin's own connection writes; this one only reads what it wrote.
        const store = AlertStore.open(settings.file);
        try {
          const overview = alertsOverview(store, settings.rules, Date.now());
          return {
            rules: overview.rules.map((rule) => ({ name: rule.name, metric: rule.metric, severity: rule.severity, state: rule.state, since: rule.since })),
            alerts: overview.alerts.map((alert) => ({
              rule: alert.rule,
              status: alert.status,
              severity: alert.severity,
              summary: alert.summary,
              value: alert.value,
              activeSince: alert.activeSince,
              firingSince: alert.firingSince,
              silenced: alert.silencedBy.length > 0,
            })),
            silences: overview.silences.length,
          };
        } finally {
          store.close();
        }
      };
    }
  }
  const quality = config.plugins.find((plugin) => plugin.definition.name === 'quality');
  if (quality) {
    const { QualityStore } = await import('@strata/quality');
    const options = quality.options as { file: string; busyTimeoutMs: number };
    const file = isAbsolute(options.file) ? options.file : join(config.dataDir, options.file);
    panels.quality = async (): Promise<QualityPanelData> => {
      const store = QualityStore.open({ file, busyTimeoutMs: options.busyTimeoutMs });
      try {
        const latest = store.latest();
        return {
          latest: latest && {
            runId: latest.runId,
            finishedAt: latest.finishedAt,
            status: latest.status,
            counts: latest.counts,
            checks: latest.results.map((result) => ({ check: result.check, status: result.status, observed: result.observed, unit: result.unit, threshold: result.threshold, message: result.message })),
          },
        };
      } finally {
        store.close();
      }
    };
  }
  return panels;
}
