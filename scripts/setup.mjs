#!/usr/bin/env node
// Installs the workspace and builds it, on a machine that has only Node.js and pnpm.
//
// better-sqlite3 first tries a prebuilt binary; where none can be downloaded it compiles from
// source with node-gyp, which then needs Node's C headers. When this Node installation ships
// them (Debian's nodejs does, under /usr/include/node) we point node-gyp at them, so the source
// build needs no network. Where the prebuilt download works, this setting is never consulted.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

const env = { ...process.env };
const nodePrefix = dirname(dirname(process.execPath));
if (!env.npm_config_nodedir && existsSync(join(nodePrefix, 'include', 'node', 'node.h'))) {
  env.npm_config_nodedir = nodePrefix;
  console.log(`setup: building native modules against the Node.js headers in ${nodePrefix}/include/node`);
}

function run(command, args) {
  console.log(`setup: ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { stdio: 'inherit', env });
  if (result.error) {
    console.error(`setup: could not run ${command}: ${result.error.message}`);
    process.exit(1);
  }
  if (result.status !== 0) {
    console.error(`setup: ${command} ${args.join(' ')} failed with exit code ${result.status}`);
    process.exit(result.status ?? 1);
  }
}

const frozen = existsSync('pnpm-lock.yaml') && process.env.CI === 'true' ? ['--frozen-lockfile'] : [];
run('pnpm', ['install', ...frozen]);
run('pnpm', ['run', 'build']);
