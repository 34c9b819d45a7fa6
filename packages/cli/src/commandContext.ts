import { userInfo } from 'node:os';
import {
  ACCESS_ROLES,
  AccessDeniedError,
  AuditLog,
  createStrata,
  isAccessRole,
  missingPermissions,
  type LogLevel,
  type Operation,
  type PluginCatalog,
  type Principal,
  type ResolvedConfig,
  type ScopedStrata,
  type Strata,
} from '@strata/core';
import { cliCatalog } from './catalog.js';

/** Somewhere the CLI writes text: `process.stdout`, `process.stderr`, or a test's capture. */
export interface CliOutput {
  write(text: string): unknown;
  /** Only a TTY gets a progress bar. */
  isTTY?: boolean;
  columns?: number;
}

/** Everything the CLI touches outside itself, so tests can run it in-process and capture its output. */
export interface CliIo {
  stdout: CliOutput;
  stderr: CliOutput;
  /** What `strata ingest -` reads. Default `process.stdin`. */
  stdin: NodeJS.ReadableStream;
  /** Directory the config file is looked up in and `strata init` writes to. Default `process.cwd()`. */
  cwd: string;
  /** Extra plugins resolvable by name, on top of the built-in catalogue (tests use it for fakes). */
  catalog?: PluginCatalog;
  /**
   * Install SIGINT/SIGTERM handlers during long commands so they stop cleanly. Default true;
   * tests running the CLI in-process may turn it off.
   */
  handleSignals?: boolean;
}

/** Options every command accepts. */
export interface GlobalOptions {
  dataDir?: string;
  config?: string;
  logLevel?: LogLevel;
  debug?: boolean;
  /** Role to act as (`--as analyst`); default the config's `access.principal`, else admin. */
  as?: string;
}

/** What a command action receives besides its own arguments. */
export interface CommandContext {
  io: CliIo;
  globals: GlobalOptions;
}

/** An expected failure of the CLI itself (unreadable input, bad flag value): printed without a stack, exit 1. */
export class CliError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
  }
}

export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function catalogFor(io: CliIo): PluginCatalog {
  return { ...cliCatalog, ...io.catalog };
}

/** Builds and starts Strata from the global options. The CLI logs at `warn` unless told otherwise. */
export function openStrata(context: CommandContext): Promise<Strata> {
  const { globals, io } = context;
  return createStrata({
    configPath: globals.config,
    cwd: io.cwd,
    dataDir: globals.dataDir,
    catalog: catalogFor(io),
    logLevel: globals.logLevel,
    defaultLogLevel: 'warn',
    // A command is short-lived; its jobs run only when asked (`strata jobs run`).
    scheduleJobs: false,
    monitor: false,
  });
}

/**
 * Who the command acts as: `--as <role>` (named after the OS user), else the config's
 * `access.principal`, else admin — whoever runs the CLI can read the data files anyway; roles
 * matter where the CLI runs for someone else (a shared box, a wrapper script with `--as`).
 */
export function cliPrincipal(globals: GlobalOptions, configured: Principal | undefined): Principal {
  const name = `cli:${safeUserName()}`;
  if (globals.as !== undefined) {
    if (!isAccessRole(globals.as)) throw new CliError(`--as must be one of ${ACCESS_ROLES.join(', ')}, got ${JSON.stringify(globals.as)}`);
    return { name, role: globals.as };
  }
  return configured ?? { name, role: 'admin' };
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/**
 * Runs `work` with a started Strata — and the same Strata as the command's principal, whose every
 * read, write, export, delete and erase is checked and audited — and closes it on every path; a
 * close failure surfaces only if `work` succeeded.
 */
export async function withStrata<T>(context: CommandContext, work: (strata: Strata, scoped: ScopedStrata) => Promise<T>): Promise<T> {
  const strata = await openStrata(context);
  let result: T;
  try {
    const scoped = strata.as(cliPrincipal(context.globals, strata.config.principal));
    result = await work(strata, scoped);
  } catch (error) {
    await strata.close().catch((closeError: unknown) => {
      strata.logger.error({ err: closeError }, 'close after a failed command also failed');
    });
    throw error;
  }
  await strata.close();
  return result;
}

/**
 * Checks `operation` for the command's principal without starting Strata — for commands that must
 * run while nothing holds the data (restore) — and writes the decision to the same audit log.
 */
export async function authorizeOffline(context: CommandContext, config: ResolvedConfig, operation: Operation, target?: Record<string, unknown>): Promise<void> {
  const principal = cliPrincipal(context.globals, config.principal);
  const audit = new AuditLog(config.dataDir, Date.now);
  const missing = missingPermissions(principal.role, operation);
  const denied = missing.length > 0 ? new AccessDeniedError(principal, operation, missing) : undefined;
  audit.record(principal, operation, { allowed: !denied, ...(target ? { target } : {}), ...(denied ? { reason: denied.message } : {}) });
  await audit.flush();
  if (denied) throw denied;
}

export function writeLine(output: CliOutput, text = ''): void {
  output.write(`${text}\n`);
}

export function writeJson(output: CliOutput, value: unknown): void {
  output.write(`${JSON.stringify(value)}\n`);
}
