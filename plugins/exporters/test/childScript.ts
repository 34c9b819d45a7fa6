import { createRequire } from 'node:module';
import { existsSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..', '..');

interface Esbuild {
  build(options: Record<string, unknown>): Promise<unknown>;
}

/**
 * Bundles a TypeScript script for a child process, with workspace packages taken from their
 * sources (as vitest aliases them), so a crash test runs the code under test, not a stale build.
 * esbuild comes with tsup, a root dev dependency.
 */
export async function bundleChildScript(entry: string, outfile: string): Promise<string> {
  const esbuild = createRequire(realpathSync(join(root, 'node_modules', 'tsup', 'package.json')))('esbuild') as Esbuild;
  const alias: Record<string, string> = {};
  for (const group of ['packages', 'plugins']) {
    for (const name of readdirSync(join(root, group))) {
      const manifest = join(root, group, name, 'package.json');
      const source = join(root, group, name, 'src', 'index.ts');
      if (existsSync(manifest) && existsSync(source)) alias[(JSON.parse(readFileSync(manifest, 'utf8')) as { name: string }).name] = source;
    }
  }
  await esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'error',
    alias,
    // Bundled CommonJS dependencies call require(); give them one in the ES module.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  });
  return outfile;
}
