import { existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { CONFIG_FILE_NAMES } from '@strata/core';
import { CliError, writeLine, type CommandContext } from './commandContext.js';

export interface InitCommandOptions {
  force?: boolean;
}

export const CONFIG_FILE_NAME = 'strata.config.ts';

/** The config `strata init` writes: the embedded default spelled out, every option shown with its default. */
export function configTemplate(dataDir = './analytics'): string {
  return `import { defineConfig } from '@strata/core';

// Strata configuration. Check it with \`strata validate\`; every option is optional.
export default defineConfig({
  // Where the data lives, relative to this file. \`--data-dir\` overrides it.
  dataDir: ${JSON.stringify(dataDir)},

  // Plugins to compose, in any order: dependencies decide the start order.
  plugins: [
    {
      // Hot tier: recent interactions in one SQLite file (WAL mode, batched transactions).
      name: 'hot-sqlite',
      options: {
        // Database file, relative to dataDir.
        // file: 'comprehensive_metrics.db',
        // 'NORMAL' is fast and safe against a crashed process; 'FULL' also survives power loss.
        // synchronous: 'NORMAL',
        // How long a write waits for another connection's lock, in ms.
        // busyTimeoutMs: 5000,
        // SQLite page cache, in MiB.
        // cacheSizeMb: 32,
      },
    },
    {
      // Privacy: session ids, IPs and user agents become keyed pseudonyms (HMAC-SHA-256) and personal
      // data in queries (emails, phones, cards, IBANs, SSNs, IPs, API keys) becomes <EMAIL>, <CARD>…
      name: 'privacy',
      options: {
        // The key: this environment variable, else this file (created on first run, outside dataDir).
        // keyEnv: 'STRATA_PRIVACY_KEY',
        // keyFile: '~/.config/strata/privacy.key',
      },
    },
  ],

  // How accepted events reach the hot tier.
  // pipeline: {
  //   maxBatchSize: 1500,    // events per transaction
  //   maxBatchDelayMs: 50,   // longest an event waits before its batch is written
  //   maxBatchesInFlight: 6, // batches handed to the hot tier before the oldest is answered (default: the tier's choice)
  //   maxQueue: 100000,      // events waiting for the hot tier; record() drops (and counts) beyond it
  // },

  // Limits applied to every incoming event.
  // limits: {
  //   maxQueryBytes: 32768,
  //   maxFutureHours: 24,
  //   queryTypes: [],        // added to technical, career, mma, fun and general
  // },

  // logLevel: 'info',        // the CLI logs at 'warn' unless --log-level says otherwise
  // shutdownTimeoutMs: 10000,
});
`;
}

export async function initCommand(context: CommandContext, options: InitCommandOptions): Promise<number> {
  const { io } = context;
  const target = join(io.cwd, CONFIG_FILE_NAME);
  if (!options.force) {
    if (existsSync(target)) throw new CliError(`${target} already exists; pass --force to overwrite it`);
    const other = CONFIG_FILE_NAMES.map((name) => join(io.cwd, name)).find((file) => existsSync(file));
    // Another config file would be read instead of (or before) the new one and confuse everyone.
    if (other) throw new CliError(`${other} already exists and would be read instead; remove it or pass --force to write ${CONFIG_FILE_NAME} anyway`);
  }
  writeFileSync(target, configTemplate(context.globals.dataDir ?? './analytics'), 'utf8');
  writeLine(io.stdout, `Wrote ${target}`);
  if (!resolvesFrom(io.cwd, '@strata/core')) {
    writeLine(io.stdout, 'Note: the config imports defineConfig from @strata/core, which this project does not have yet: run `pnpm add -D @strata/core` (or npm i -D).');
  }
  writeLine(io.stdout, 'Next: `strata validate` checks it, `strata ingest <file.jsonl>` loads data, `strata report` summarises it.');
  return 0;
}

function resolvesFrom(directory: string, specifier: string): boolean {
  try {
    createRequire(join(directory, 'package.json')).resolve(specifier);
    return true;
  } catch {
    return false;
  }
}
