import type { Logger } from '@strata/core';
import { assertOutsideDataDir, createKeyFile, defaultKeyFile, readKeyFile, resolveKeyFile } from './keyFile.js';
import { PrivacyKeyError, decodeKey, decodeKeyList, type PrivacyKey, type PrivacyKeyring } from './privacyKey.js';

export interface LoadPrivacyKeysOptions {
  /** Environment variable holding the current key. */
  keyEnv: string;
  /** Environment variable holding previous keys (comma or space separated), kept for lookups. */
  previousKeysEnv: string;
  /** Key file as configured (`~/…`, absolute, or relative to `cwd`); default `defaultKeyFile()`. */
  keyFile?: string;
  /** Create the key file with a new key when neither the variable nor the file exists. */
  createKeyFile: boolean;
  /** The data directory: the key file must not be inside it. */
  dataDir: string;
  env?: Readonly<Record<string, string | undefined>>;
  cwd?: string;
  logger?: Pick<Logger, 'info' | 'warn'>;
}

export interface LoadedPrivacyKeys {
  keyring: PrivacyKeyring;
  /** Where the current key came from, for logs: `environment variable X` or `key file /path`. */
  source: string;
  /** The key file used or created, when a file was used. */
  keyFile?: string;
  /** True when this call created the key file. */
  created: boolean;
}

/**
 * Finds the privacy key: the environment variable `keyEnv` first, then the key file, else (when
 * allowed) a new key file is created and where it went is logged. The key never comes from the
 * data directory or the database. Errors name the variable or file and say what to do.
 */
export function loadPrivacyKeys(options: LoadPrivacyKeysOptions): LoadedPrivacyKeys {
  const env = options.env ?? process.env;
  const previousText = env[options.previousKeysEnv];
  const previousFromEnv = previousText !== undefined && previousText.trim() !== '' ? decodeKeyList(previousText, options.previousKeysEnv) : [];
  const fromEnv = env[options.keyEnv];
  if (fromEnv !== undefined) {
    const current = decodeKey(fromEnv, options.keyEnv);
    return { keyring: keyring(current, previousFromEnv), source: `environment variable ${options.keyEnv}`, created: false };
  }

  const file = options.keyFile ? resolveKeyFile(options.keyFile, options.cwd, env) : defaultKeyFile(env);
  assertOutsideDataDir(file, options.dataDir);
  const read = readKeyFile(file);
  if (read) {
    if (read.readableByOthers) {
      options.logger?.warn({ keyFile: file }, `privacy key file ${file} can be read by other users; restrict it with chmod 600`);
    }
    return { keyring: keyring(read.current, [...read.previous, ...previousFromEnv]), source: `key file ${file}`, keyFile: file, created: false };
  }
  if (!options.createKeyFile) {
    throw new PrivacyKeyError(
      `no key: ${options.keyEnv} is not set and key file ${file} does not exist (createKeyFile is false); set ${options.keyEnv} to at least 32 random bytes in hex or base64 (openssl rand -base64 32), or write such a key into ${file}`,
    );
  }
  const { key, created } = createKeyFile(file);
  if (created) {
    options.logger?.warn(
      { keyFile: file, keyId: key.id },
      `created a new privacy key in ${file} (key id ${key.id}); back it up apart from the data: pseudonyms made with another key do not join with these`,
    );
  }
  return { keyring: keyring(key, previousFromEnv), source: `key file ${file}`, keyFile: file, created };
}

/** Previous keys without repeats and without the current key. */
function keyring(current: PrivacyKey, previous: readonly PrivacyKey[]): PrivacyKeyring {
  const seen = new Set([current.id]);
  const unique = previous.filter((key) => !seen.has(key.id) && seen.add(key.id));
  return { current, previous: unique };
}
