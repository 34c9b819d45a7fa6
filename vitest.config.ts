import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// Tests import workspace packages by name; the aliases point those names at their sources so a
// test run never depends on a stale build. Tests that spawn the CLI use the built files, which is
// why `pnpm test` builds first.
const root = import.meta.dirname;
const alias: Record<string, string> = {};
const projects: Array<{ name: string; dir: string }> = [];
for (const group of ['packages', 'plugins', 'examples']) {
  const groupDir = join(root, group);
  if (!existsSync(groupDir)) continue;
  for (const entry of readdirSync(groupDir)) {
    const dir = join(groupDir, entry);
    const manifest = join(dir, 'package.json');
    if (!existsSync(manifest)) continue;
    const { name } = JSON.parse(readFileSync(manifest, 'utf8')) as { name: string };
    if (existsSync(join(dir, 'src', 'index.ts'))) alias[name] = join(dir, 'src', 'index.ts');
    if (existsSync(join(dir, 'test'))) projects.push({ name, dir });
  }
}

export default defineConfig({
  resolve: { alias },
  test: {
    reporters: ['default', 'json'],
    outputFile: { json: join(root, 'reports', 'vitest.json') },
    pool: 'forks',
    // The privacy plugin (on by default) creates its key under $XDG_CONFIG_HOME when none is given:
    // tests must never write into the real ~/.config of whoever runs them.
    env: { XDG_CONFIG_HOME: join(tmpdir(), 'strata-test-config') },
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      ...projects.map(({ name, dir }) => ({
        extends: true as const,
        test: { name, root: dir, include: ['test/**/*.test.ts'] },
      })),
      { extends: true as const, test: { name: 'repo', root, include: ['test/**/*.test.ts'] } },
    ],
  },
});
