// `pnpm bench`: runs every benchmark in turn. Pass --events N to shrink the workload for a quick look.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { root } from './lib.mjs';

const benches = ['ingest.mjs', 'responsiveness.mjs', 'dashboard.mjs', 'archival.mjs', 'privacy.mjs', 'cache.mjs', 'export.mjs', 'serve.mjs', 'postgres.mjs'];
const extra = process.argv.slice(2);
let failed = false;
for (const bench of benches) {
  console.log(`\n## ${bench}\n`);
  const result = spawnSync(process.execPath, [join(root, 'bench', bench), ...extra], { stdio: 'inherit' });
  if (result.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
