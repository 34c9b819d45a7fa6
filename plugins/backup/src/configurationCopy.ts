import { mkdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ResolvedConfig } from '@strata/core';
import { writeFileAtomically } from './durableFiles.js';

/** The configuration in force when a backup is taken, as far as the caller knows it. */
export interface ConfigurationSnapshot {
  /** Absolute path of the config file in use, or null (embedded default or an inline config). */
  source: string | null;
  dataDir: string;
  /** The plugins in force with their options after defaults. */
  plugins: Array<{ name: string; version?: string; options: unknown }>;
  /** Says what is missing when the plugin list is not the whole configuration. */
  note?: string;
}

/** The snapshot of a resolved config (what `createStrata` and the CLI hold). */
export function configurationOf(config: ResolvedConfig): ConfigurationSnapshot {
  return {
    source: config.source,
    dataDir: config.dataDir,
    plugins: config.plugins.map((plugin) => ({ name: plugin.definition.name, version: plugin.definition.version, options: plugin.options })),
  };
}

/** Directory of the configuration copy inside a backup. */
export const CONFIG_DIR = 'config';
export const RESOLVED_CONFIG_FILE = 'resolved-config.json';

/**
 * Writes the configuration copy into `backupDir/config/` and returns the paths written (relative to
 * `backupDir`): the config file's own text when one was used, so a restore can put back exactly what
 * the team wrote; otherwise a JSON of the plugin list and options. The JSON never holds secrets:
 * string values under keys that name one (key, secret, password, token, credential) are redacted,
 * because a config file that reads its key from the environment must not leave it in every backup.
 */
export async function writeConfigurationCopy(backupDir: string, snapshot: ConfigurationSnapshot): Promise<string[]> {
  const directory = join(backupDir, CONFIG_DIR);
  await mkdir(directory, { recursive: true });
  let sourceProblem: string | undefined;
  if (snapshot.source) {
    try {
      const text = await readFile(snapshot.source, 'utf8');
      const name = basename(snapshot.source);
      await writeFileAtomically(join(directory, name), text);
      return [`${CONFIG_DIR}/${name}`];
    } catch (error) {
      sourceProblem = `the config file ${snapshot.source} could not be read at backup time (${(error as Error).message}); this is the configuration Strata had loaded`;
    }
  }
  const document = {
    source: snapshot.source,
    dataDir: snapshot.dataDir,
    plugins: snapshot.plugins.map((plugin) => ({ ...plugin, options: redactSecrets(plugin.options) })),
    ...(snapshot.note || sourceProblem ? { note: [snapshot.note, sourceProblem].filter(Boolean).join('; ') } : {}),
  };
  await writeFileAtomically(join(directory, RESOLVED_CONFIG_FILE), `${JSON.stringify(document, jsonSafe, 2)}\n`);
  return [`${CONFIG_DIR}/${RESOLVED_CONFIG_FILE}`];
}

const SECRET_KEY = /key|secret|password|passphrase|token|credential/i;

/** A copy of `value` with string (and string-array) values under secret-looking keys replaced by `[redacted]`. */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    const secretValue = typeof inner === 'string' || (Array.isArray(inner) && inner.every((item) => typeof item === 'string'));
    out[key] = SECRET_KEY.test(key) && secretValue ? '[redacted]' : redactSecrets(inner);
  }
  return out;
}

/** Options may hold values JSON cannot express (functions of custom notifiers, bigints); they are described, not dropped silently. */
function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'function') return `[function ${value.name || 'anonymous'}]`;
  if (value instanceof RegExp) return value.toString();
  return value;
}
