import { fileURLToPath } from 'node:url';
import { createStrata } from '@strata/core';

// `node dist/main.js [minimal|single-machine|postgres-redis]`: starts Strata from one of the
// configs beside this package, records a few interactions, prints what the config composed and
// what was stored, and closes. COMPOSE_DATA_DIR, when set, replaces the config's data dir.
const CONFIGS: Record<string, string> = {
  minimal: 'minimal.config.json',
  'single-machine': 'single-machine.config.ts',
  'postgres-redis': 'postgres-redis.config.ts',
};
const name = process.argv[2] ?? 'single-machine';
const file = CONFIGS[name];
if (!file) {
  console.error(`unknown config "${name}"; choose one of ${Object.keys(CONFIGS).join(', ')}`);
  process.exit(2);
}

// A one-shot script: jobs are listed, not scheduled (a long-running server keeps the default).
const strata = await createStrata({
  configPath: fileURLToPath(new URL(`../${file}`, import.meta.url)),
  dataDir: process.env.COMPOSE_DATA_DIR || undefined,
  scheduleJobs: false,
  logLevel: 'warn',
});
try {
  const status = await strata.status();
  console.log(`${name}: ${status.configSource}`);
  console.log(`  data dir  ${status.dataDir}`);
  console.log(`  plugins   ${status.plugins.join(', ')}`);
  console.log(`  tiers     ${status.tiers.map((tier) => `${tier.role}: ${tier.name}`).join(', ')}`);
  console.log(`  jobs      ${strata.jobStatus().map((job) => `${job.name} (${job.schedule ?? 'on demand'})`).join(', ') || 'none'}`);

  const now = Date.now();
  const questions = ['What projects has Noah built?', 'Show me a TypeScript example', 'How do I start MMA training?'];
  for (const [index, query] of questions.entries()) {
    strata.record({ sessionId: `compose-${now}`, timestamp: now + index, userRole: 'recruiter', query, queryType: 'general', responseTime: 0.4, success: true, conversationTurn: index + 1 });
  }
  await strata.flush(); // writes what was recorded now rather than after the batch delay
  const { totals } = await strata.report({ range: { from: now - 60_000 } });
  console.log(`  recorded  ${questions.length} interactions; the last minute now holds ${totals.interactions} in ${totals.sessions} session(s)`);
} finally {
  await strata.close();
}
