import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { describe, expect, it } from 'vitest';

// The published shape of every package (exports map, types, built entries) must agree, the way
// TanStack checks theirs. Runs on the built packages: `pnpm test` builds first.
const root = join(import.meta.dirname, '..');
const packages = ['packages', 'plugins']
  .flatMap((group) => readdirSync(join(root, group)).map((name) => join(root, group, name)))
  .filter((dir) => existsSync(join(dir, 'package.json')));

describe('published package shape', () => {
  for (const dir of packages) {
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; exports?: unknown; files?: string[] };

    it(`${manifest.name} passes publint --strict`, async () => {
      expect(existsSync(join(dir, 'dist')), `${manifest.name} has no dist/: run pnpm build`).toBe(true);
      const { messages, pkg } = await publint({ pkgDir: dir, strict: true, level: 'warning' });
      const problems = messages.map((message) => formatMessage(message, pkg) ?? message.code);
      expect(problems).toEqual([]);
    });

    it(`${manifest.name} exports only its index and package.json, with a README`, () => {
      expect(Object.keys((manifest.exports ?? {}) as object).sort()).toEqual(['.', './package.json']);
      expect(existsSync(join(dir, 'README.md')), `${manifest.name} needs a README.md`).toBe(true);
      expect(manifest.files).toContain('dist');
    });
  }
});
