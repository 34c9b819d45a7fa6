import { existsSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..', '..');

/** The part of esbuild's API used here (esbuild's own types are not a dependency of this package). */
interface ResolveResult {
  path: string;
  errors: unknown[];
}
interface PluginBuild {
  onResolve(options: { filter: RegExp }, callback: (args: { path: string; kind: string; resolveDir: string; pluginData?: unknown }) => Promise<object | undefined>): void;
  resolve(path: string, options: { kind: string; resolveDir: string; pluginData: unknown }): Promise<ResolveResult>;
}
interface Esbuild {
  build(options: Record<string, unknown> & { plugins: Array<{ name: string; setup(build: PluginBuild): void }> }): Promise<unknown>;
}

/** Workspace package name → its source entry, as vitest.config.ts aliases them. */
function workspaceSources(): Map<string, string> {
  const sources = new Map<string, string>();
  for (const group of ['packages', 'plugins']) {
    for (const entry of readdirSync(join(root, group))) {
      const manifest = join(root, group, entry, 'package.json');
      const source = join(root, group, entry, 'src', 'index.ts');
      if (!existsSync(manifest) || !existsSync(source)) continue;
      sources.set((JSON.parse(readFileSync(manifest, 'utf8')) as { name: string }).name, source);
    }
  }
  return sources;
}

/**
 * Bundles a TypeScript child-process script with the workspace packages taken from their sources
 * (like the tests themselves), so crash tests exercise the code under test whatever the state of
 * the packages' dist folders. Third-party packages stay external, imported by absolute path as
 * each workspace package resolves them. esbuild comes with tsup, a root dev dependency.
 */
export async function bundleChildScript(entry: string, outfile: string): Promise<string> {
  const esbuild = createRequire(realpathSync(join(root, 'node_modules', 'tsup', 'package.json')))('esbuild') as Esbuild;
  const sources = workspaceSources();
  await esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'silent',
    plugins: [
      {
        name: 'workspace-sources',
        setup(build) {
          build.onResolve({ filter: /^[^./]/ }, async (args) => {
            if (args.pluginData === 'inner' || args.path.startsWith('node:')) return undefined;
            const workspace = sources.get(args.path);
            if (workspace) return { path: workspace };
            const resolved = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: 'inner' });
            if (resolved.errors.length > 0) return { errors: resolved.errors };
            return { path: resolved.path, external: true };
          });
        },
      },
    ],
  });
  return outfile;
}
