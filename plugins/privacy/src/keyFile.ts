import { closeSync, fchmodSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, realpathSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { describeError } from '@strata/core';
import { GENERATE_HINT, MIN_KEY_BYTES, PrivacyKeyError, decodeKey, privacyKey, type PrivacyKey } from './privacyKey.js';

/**
 * Where the key lives when nothing says otherwise: the user's configuration directory
 * (`$XDG_CONFIG_HOME/strata/privacy.key`, else `~/.config/strata/privacy.key`), never the data
 * directory, so a copy or backup of the data does not carry the key that protects it.
 */
export function defaultKeyFile(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const configHome = env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : join(env.HOME || homedir(), '.config');
  return join(configHome, 'strata', 'privacy.key');
}

/** `~/…` is the home directory; other relative paths are relative to `cwd`. */
export function resolveKeyFile(file: string, cwd: string = process.cwd(), env: Readonly<Record<string, string | undefined>> = process.env): string {
  if (file === '~' || file.startsWith('~/')) return join(env.HOME || homedir(), file.slice(1));
  return resolve(cwd, file);
}

/** The real path of `path`, or of its nearest existing ancestor joined with the rest. */
function realPathOf(path: string): string {
  const missing: string[] = [];
  let current = resolve(path);
  for (;;) {
    try {
      return join(realpathSync(current), ...missing.reverse());
    } catch {
      const parent = dirname(current);
      if (parent === current) return join(current, ...missing.reverse());
      missing.push(basename(current));
      current = parent;
    }
  }
}

/** Refuses a key file inside the data directory (symbolic links resolved). */
export function assertOutsideDataDir(keyFile: string, dataDir: string): void {
  const fromData = relative(realPathOf(dataDir), realPathOf(keyFile));
  if (fromData === '' || (!fromData.startsWith(`..${sep}`) && fromData !== '..' && !isAbsolute(fromData))) {
    throw new PrivacyKeyError(
      `key file ${keyFile} is inside the data directory ${dataDir}; a copy or backup of the data would carry the key that protects it. Move it outside the data directory (the default is ~/.config/strata/privacy.key) and set keyFile to its path`,
    );
  }
}

/** The keys in a key file: the first key line is the current key, later ones are previous keys. `#` starts a comment line. */
export function parseKeyFile(text: string, file: string): { current: PrivacyKey; previous: PrivacyKey[] } {
  const lines = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  if (lines.length === 0) throw new PrivacyKeyError(`key file ${file} holds no key; ${GENERATE_HINT} and write it on the first line`);
  const [current, ...previous] = lines.map((line, index) => decodeKey(line, `key file ${file}${lines.length > 1 ? ` (line ${index + 1} of its keys)` : ''}`));
  return { current: current!, previous };
}

export interface KeyFileRead {
  current: PrivacyKey;
  previous: PrivacyKey[];
  /** Group or others may read the file. */
  readableByOthers: boolean;
}

/** Reads a key file; undefined when it does not exist. */
export function readKeyFile(file: string): KeyFileRead | undefined {
  let text: string;
  let mode: number;
  try {
    text = readFileSync(file, 'utf8');
    mode = statSync(file).mode;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PrivacyKeyError(`cannot read key file ${file} (${describeError(error)}); check its permissions, or set STRATA_PRIVACY_KEY instead`, { cause: error });
  }
  return { ...parseKeyFile(text, file), readableByOthers: process.platform !== 'win32' && (mode & 0o077) !== 0 };
}

/**
 * Creates a key file with a new random key, readable by its owner only (0600, in a 0700 directory
 * when the directory is new). The key is written to a temporary file, synced, then linked into
 * place, which fails if the file appeared meanwhile: two processes starting at once end up with
 * the same key (the loser reads the winner's). Returns the key actually in the file.
 */
export function createKeyFile(file: string): { key: PrivacyKey; created: boolean } {
  const directory = dirname(file);
  const secret = randomBytes(MIN_KEY_BYTES);
  const content = [
    '# Strata privacy key: HMAC-SHA-256 key for pseudonyms (session ids, IP addresses, user agents).',
    '# Keep it secret and back it up apart from the data. To rotate, put a new key on the first key',
    '# line and keep this one below it: later lines are previous keys, used only to find old data.',
    secret.toString('base64'),
    '',
  ].join('\n');
  const temporary = join(directory, `.${basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    const descriptor = openSync(temporary, 'wx', 0o600);
    try {
      fchmodSync(descriptor, 0o600);
      writeSync(descriptor, content);
      fsyncSync(descriptor);
    } finally {
      closeSync(descriptor);
    }
  } catch (error) {
    safeUnlink(temporary);
    throw new PrivacyKeyError(`cannot create key file ${file} (${describeError(error)}); set STRATA_PRIVACY_KEY, or set keyFile to a writable place outside the data directory`, { cause: error });
  }
  let created = true;
  try {
    linkSync(temporary, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      safeUnlink(temporary);
      throw new PrivacyKeyError(`cannot create key file ${file} (${describeError(error)}); set STRATA_PRIVACY_KEY, or set keyFile to a writable place outside the data directory`, { cause: error });
    }
    created = false;
  }
  safeUnlink(temporary);
  syncDirectory(directory);
  if (!created) {
    const existing = readKeyFile(file);
    if (!existing) throw new PrivacyKeyError(`key file ${file} vanished while it was being created; start again`);
    return { key: existing.current, created: false };
  }
  return { key: privacyKey(secret), created: true };
}

function safeUnlink(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}

/** Makes the new directory entry durable; some file systems refuse to sync a directory, which is harmless. */
function syncDirectory(directory: string): void {
  try {
    const descriptor = openSync(directory, 'r');
    try {
      fsyncSync(descriptor);
    } finally {
      closeSync(descriptor);
    }
  } catch {
    // not supported here
  }
}
