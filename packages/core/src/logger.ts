import pino, { type Logger } from 'pino';
import type { LogLevel } from './config.js';

/**
 * Strata's root logger. Logs go to stderr so that a host writing its own output (or the CLI's
 * `--json` mode) on stdout is never interleaved with them.
 */
export function createLogger(level: LogLevel): Logger {
  return pino({ name: 'strata', level }, pino.destination({ dest: 2, sync: true }));
}

export type { Logger };
