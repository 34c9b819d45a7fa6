import { mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PrivacyKeyError, createKeyFile, decodeKey, defaultKeyFile, loadPrivacyKeys, type LoadPrivacyKeysOptions } from '../src/index.js';
import { temporaryDirectory } from './support.js';

const HEX_KEY = 'a1'.repeat(32);
const BASE64_KEY = Buffer.alloc(32, 7).toString('base64');

let directory: ReturnType<typeof temporaryDirectory>;
let dataDir: string;
beforeEach(() => {
  directory = temporaryDirectory('keys');
  dataDir = join(directory.path, 'analytics');
  mkdirSync(dataDir);
});
afterEach(() => directory.remove());

function load(overrides: Partial<LoadPrivacyKeysOptions> & { env?: Record<string, string> }) {
  const warnings: string[] = [];
  const loaded = loadPrivacyKeys({
    keyEnv: 'STRATA_PRIVACY_KEY',
    previousKeysEnv: 'STRATA_PRIVACY_PREVIOUS_KEYS',
    createKeyFile: true,
    dataDir,
    env: { HOME: directory.path },
    logger: { info: () => undefined, warn: ((_fields: unknown, message: string) => void warnings.push(message)) as never },
    ...overrides,
  });
  return { loaded, warnings };
}

describe('decodeKey', () => {
  it('reads hex, base64, base64url and explicit prefixes', () => {
    expect(decodeKey(HEX_KEY, 'K').secret).toEqual(Buffer.alloc(32, 0xa1));
    expect(decodeKey(BASE64_KEY, 'K').secret).toEqual(Buffer.alloc(32, 7));
    expect(decodeKey(Buffer.alloc(32, 0xfb).toString('base64url'), 'K').secret).toEqual(Buffer.alloc(32, 0xfb));
    expect(decodeKey(`hex:${HEX_KEY}`, 'K').secret).toEqual(Buffer.alloc(32, 0xa1));
    expect(decodeKey(`base64:${BASE64_KEY}`, 'K').secret).toEqual(Buffer.alloc(32, 7));
  });

  it('gives a key an id that is stable and differs between keys', () => {
    expect(decodeKey(HEX_KEY, 'K').id).toMatch(/^[0-9a-f]{8}$/);
    expect(decodeKey(HEX_KEY, 'K').id).toBe(decodeKey(HEX_KEY, 'K').id);
    expect(decodeKey(HEX_KEY, 'K').id).not.toBe(decodeKey(BASE64_KEY, 'K').id);
  });
});

describe('loadPrivacyKeys', () => {
  it('takes the key from the environment variable first', () => {
    const { loaded } = load({ env: { STRATA_PRIVACY_KEY: HEX_KEY, HOME: directory.path } });
    expect(loaded.source).toBe('environment variable STRATA_PRIVACY_KEY');
    expect(loaded.keyring.current.secret).toEqual(Buffer.alloc(32, 0xa1));
    expect(loaded.created).toBe(false);
  });

  it('rejects a short key in the environment, naming the variable and the size needed', () => {
    const short = Buffer.alloc(16, 1).toString('base64');
    expect(() => load({ env: { STRATA_PRIVACY_KEY: short } })).toThrow(PrivacyKeyError);
    expect(() => load({ env: { STRATA_PRIVACY_KEY: short } })).toThrow(/STRATA_PRIVACY_KEY holds 16 byte\(s\); a privacy key needs at least 32 random bytes/);
  });

  it('rejects an empty or undecodable variable, naming it', () => {
    expect(() => load({ keyEnv: 'MY_KEY', env: { MY_KEY: '   ' } })).toThrow(/privacy: MY_KEY is empty/);
    expect(() => load({ keyEnv: 'MY_KEY', env: { MY_KEY: 'not a key!' } })).toThrow(/privacy: MY_KEY is not valid base64/);
  });

  it('has the error code STRATA_PRIVACY_KEY', () => {
    try {
      load({ env: { STRATA_PRIVACY_KEY: 'abcd' } });
      expect.unreachable();
    } catch (error) {
      expect((error as PrivacyKeyError).code).toBe('STRATA_PRIVACY_KEY');
    }
  });

  it('creates the key file outside the data dir with mode 0600 and says where', () => {
    const { loaded, warnings } = load({});
    const file = join(directory.path, '.config', 'strata', 'privacy.key');
    expect(loaded.keyFile).toBe(file);
    expect(loaded.created).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(warnings).toEqual([expect.stringContaining(`created a new privacy key in ${file}`)]);
    expect(readFileSync(file, 'utf8')).toContain(loaded.keyring.current.secret.toString('base64'));
  });

  it('reads the same key back on the next start', () => {
    const first = load({}).loaded;
    const second = load({}).loaded;
    expect(second.created).toBe(false);
    expect(second.keyring.current.secret).toEqual(first.keyring.current.secret);
  });

  it('puts the default key file under XDG_CONFIG_HOME when it is set', () => {
    expect(defaultKeyFile({ XDG_CONFIG_HOME: '/etc/xdg', HOME: '/home/u' })).toBe('/etc/xdg/strata/privacy.key');
    expect(defaultKeyFile({ HOME: '/home/u' })).toBe('/home/u/.config/strata/privacy.key');
  });

  it('refuses a key file inside the data dir, even through a symbolic link', () => {
    expect(() => load({ keyFile: join(dataDir, 'privacy.key') })).toThrow(/key file .*privacy\.key is inside the data directory/);
    const link = join(directory.path, 'link-to-data');
    symlinkSync(dataDir, link);
    expect(() => load({ keyFile: join(link, 'keys', 'privacy.key') })).toThrow(/is inside the data directory/);
  });

  it('without createKeyFile, names both the variable and the file it looked for', () => {
    const keyFile = join(directory.path, 'keys', 'missing.key');
    expect(() => load({ createKeyFile: false, keyFile })).toThrow(new RegExp(`no key: STRATA_PRIVACY_KEY is not set and key file ${keyFile} does not exist`));
  });

  it('rejects a key file holding a short key, naming the file', () => {
    const keyFile = join(directory.path, 'short.key');
    writeFileSync(keyFile, `# comment\n${Buffer.alloc(20).toString('base64')}\n`, { mode: 0o600 });
    expect(() => load({ keyFile })).toThrow(new RegExp(`key file ${keyFile} holds 20 byte\\(s\\)`));
  });

  it('warns when the key file can be read by other users', () => {
    const keyFile = join(directory.path, 'open.key');
    writeFileSync(keyFile, `${HEX_KEY}\n`, { mode: 0o644 });
    const { warnings } = load({ keyFile });
    expect(warnings).toEqual([expect.stringContaining('can be read by other users; restrict it with chmod 600')]);
  });

  it('keeps previous keys from the key file and the environment, without repeats', () => {
    const keyFile = join(directory.path, 'rotated.key');
    writeFileSync(keyFile, `${HEX_KEY}\n# previous\n${BASE64_KEY}\n`, { mode: 0o600 });
    const third = 'c3'.repeat(32);
    const { loaded } = load({ keyFile, env: { STRATA_PRIVACY_PREVIOUS_KEYS: `${third}, ${BASE64_KEY}`, HOME: directory.path } });
    expect(loaded.keyring.current.secret).toEqual(Buffer.alloc(32, 0xa1));
    expect(loaded.keyring.previous.map((key) => key.secret)).toEqual([Buffer.alloc(32, 7), Buffer.alloc(32, 0xc3)]);
  });

  it('resolves ~ in keyFile to the home directory', () => {
    const { loaded } = load({ keyFile: '~/secrets/strata.key' });
    expect(loaded.keyFile).toBe(join(directory.path, 'secrets', 'strata.key'));
  });
});

describe('createKeyFile', () => {
  it('keeps the key already there when another process created the file first', () => {
    const file = join(directory.path, 'race', 'privacy.key');
    const first = createKeyFile(file);
    const second = createKeyFile(file);
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.key.secret).toEqual(first.key.secret);
  });

  it('reports a place it cannot create the file in, and what to do', () => {
    // A regular file where the directory should be fails for every user, root included.
    const notADirectory = join(directory.path, 'plain-file');
    writeFileSync(notADirectory, 'x');
    expect(() => createKeyFile(join(notADirectory, 'privacy.key'))).toThrow(/cannot create key file .*; set STRATA_PRIVACY_KEY, or set keyFile/);
  });
});
