import { randomBytes } from 'node:crypto';
import { accessSync, constants, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError, StrataError, describeError, loadConfig, orderPlugins, type Issue, type ResolvedConfig } from '@strata/core';
import { catalogFor, openStrata, writeJson, writeLine, type CommandContext } from './commandContext.js';
import { checkServers } from './serverChecks.js';

export interface ValidateCommandOptions {
  json?: boolean;
  /** Also start the plugins and ask every storage tier for its health (opens files, connects to servers). */
  start?: boolean;
}

/** One line of `strata validate`. */
export interface CheckResult {
  name: string;
  ok: boolean;
  /** What was found: the config source, the start order, the data dir. */
  detail: string;
  /** Every problem found, each with its path when it has one. */
  issues: Issue[];
  /** What to do about it, when it failed. */
  hint?: string;
}

export async function validateCommand(context: CommandContext, options: ValidateCommandOptions): Promise<number> {
  const checks = await runChecks(context, options);
  const ok = checks.every((check) => check.ok);
  const { stdout } = context.io;
  if (options.json) {
    writeJson(stdout, { ok, checks });
  } else {
    const width = Math.max(...checks.map((check) => check.name.length));
    for (const check of checks) {
      const continuation = `\n${' '.repeat(width + 8)}`;
      writeLine(stdout, `${check.ok ? 'ok  ' : 'FAIL'}  ${check.name.padEnd(width)}  ${check.detail.split('\n').join(continuation)}`);
      for (const issue of check.issues) writeLine(stdout, `${' '.repeat(width + 8)}- ${issue.path ? `${issue.path}: ` : ''}${issue.message}`);
      if (!check.ok && check.hint) writeLine(stdout, `${' '.repeat(width + 8)}fix: ${check.hint}`);
    }
    writeLine(stdout, ok ? 'All checks passed.' : `${checks.filter((check) => !check.ok).length} check(s) failed.`);
  }
  return ok ? 0 : 1;
}

async function runChecks(context: CommandContext, options: ValidateCommandOptions): Promise<CheckResult[]> {
  const { globals, io } = context;
  const checks: CheckResult[] = [];

  let config: ResolvedConfig | undefined;
  try {
    config = await loadConfig({ configPath: globals.config, cwd: io.cwd, dataDir: globals.dataDir, catalog: catalogFor(io) });
    checks.push({ name: 'config', ok: true, detail: config.source ?? 'no config file: the embedded default (hot-sqlite)', issues: [] });
  } catch (error) {
    checks.push(configFailure(error));
    // Without a config there is no plugin list to order and no data dir to check.
    return checks;
  }

  try {
    const ordered = orderPlugins(config.plugins);
    checks.push({ name: 'plugins', ok: true, detail: `start order: ${ordered.map((plugin) => plugin.definition.name).join(' -> ') || 'none'}`, issues: [] });
  } catch (error) {
    checks.push({
      name: 'plugins',
      ok: false,
      detail: 'the plugins cannot be ordered',
      issues: error instanceof ConfigError ? [...error.issues] : [{ path: '', message: describeError(error) }],
      hint: 'every plugin must appear once, and every dependsOn must name a plugin in the config',
    });
  }

  checks.push(checkDataDir(config.dataDir));
  for (const server of await checkServers(config)) checks.push({ ...server, issues: [] });

  if (options.start && checks.every((check) => check.ok)) checks.push(await checkStorage(context));
  return checks;
}

function configFailure(error: unknown): CheckResult {
  if (error instanceof ConfigError) {
    return { name: 'config', ok: false, detail: 'invalid', issues: [...error.issues], hint: 'fix each field listed above (the path is where it is in the config)' };
  }
  if (error instanceof StrataError && error.code === 'STRATA_CONFIG_NOT_FOUND') {
    return { name: 'config', ok: false, detail: error.message, issues: [], hint: 'check --config, or run `strata init` to write a config' };
  }
  const message = describeError(error);
  const missingCore = /@strata\/core/.test(message) && /cannot find|not found|ERR_MODULE_NOT_FOUND/i.test(message);
  return {
    name: 'config',
    ok: false,
    detail: message,
    issues: [],
    hint: missingCore ? 'the config imports @strata/core: install it in this project (pnpm add -D @strata/core)' : 'fix the syntax error in the config file',
  };
}

/**
 * The data dir must exist and be writable, or be creatable: proven by writing and removing a file,
 * because permission bits lie (read-only mounts, ACLs, root). Nothing is created here.
 */
export function checkDataDir(dataDir: string): CheckResult {
  const name = 'data dir';
  const hint = 'set dataDir in the config, or pass --data-dir, to a folder this user can write';
  let existing = dataDir;
  for (;;) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(existing).isDirectory();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // ENOTDIR: some ancestor is a file; walk up to find it and say so.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') return { name, ok: false, detail: `${dataDir}: cannot inspect ${existing} (${code ?? describeError(error)})`, issues: [], hint };
      const parent = dirname(existing);
      if (parent === existing) return { name, ok: false, detail: `${dataDir}: no existing parent folder`, issues: [], hint };
      existing = parent;
      continue;
    }
    if (!isDirectory) {
      return { name, ok: false, detail: `${dataDir}: cannot be created because ${existing} is a file, not a folder`, issues: [], hint };
    }
    break;
  }
  const probe = join(existing, `.strata-write-test-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    accessSync(existing, constants.W_OK | constants.X_OK);
    writeFileSync(probe, 'strata validate\n', { flag: 'wx' });
    rmSync(probe, { force: true });
  } catch (error) {
    rmSync(probe, { force: true });
    const code = (error as NodeJS.ErrnoException).code ?? describeError(error);
    const what = existing === dataDir ? `${dataDir} is not writable` : `${dataDir} does not exist and ${existing} is not writable, so it cannot be created`;
    return { name, ok: false, detail: `${what} (${code})`, issues: [], hint };
  }
  return { name, ok: true, detail: existing === dataDir ? `${dataDir} (writable)` : `${dataDir} (will be created)`, issues: [] };
}

async function checkStorage(context: CommandContext): Promise<CheckResult> {
  try {
    const strata = await openStrata(context);
    try {
      const status = await strata.status();
      const sick = status.tiers.filter((tier) => !tier.health.ok);
      const cache = await strata.cacheHealth();
      if (cache && !cache.ok) sick.push({ name: 'cache', role: 'hot', health: { ok: false, details: {}, problem: cache.detail } });
      return {
        name: 'storage',
        ok: sick.length === 0,
        detail: [
          ...status.tiers.map((tier) => `${tier.name} (${tier.role}) ${tier.health.ok ? 'healthy' : 'unhealthy'}`),
          ...(cache ? [`cache ${cache.ok ? 'reachable' : 'unreachable'}`] : []),
        ].join(', '),
        issues: sick.map((tier) => ({ path: tier.name, message: tier.health.problem ?? 'reported unhealthy' })),
        hint: 'see the problem listed for each tier',
      };
    } finally {
      await strata.close();
    }
  } catch (error) {
    return { name: 'storage', ok: false, detail: describeError(error), issues: [], hint: 'the plugins could not start; the message names the plugin and the cause' };
  }
}
