// Host responsiveness: an HTTP server in the same process as Strata while record() runs at a
// steady 20,000 events/s. Measures the server's event-loop delay and its request latency (from a
// load generator in a second process, over loopback), against the same server without Strata.
// Strata runs as the embedded default: hot tier and privacy processor.
// Usage: node bench/responsiveness.mjs [--seconds 10] [--rate 20000]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { arg, printTable, root, workspace } from './lib.mjs';

const seconds = arg('seconds', 10);
const rate = arg('rate', 20_000);
const { createStrata } = await workspace('@strata/core');
const { generateWorkload } = await workspace('@strata/testing');
const { hotSqlitePlugin } = await workspace('@strata/hot-sqlite');
const { privacyPlugin } = await workspace('@strata/privacy');
// The privacy key comes from the environment here, so no key file is written into a real home.
process.env.STRATA_PRIVACY_KEY ??= randomBytes(32).toString('hex');
const templates = [...generateWorkload({ events: 20_000, seed: 5, start: Date.now() - 86_400_000, days: 1 })];

// A handler with a little real work, like an assistant endpoint that formats a response.
function handler(_request, response) {
  const body = JSON.stringify({ answer: 'x'.repeat(200), at: Date.now() });
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(body);
}

async function measure(withStrata) {
  const work = mkdtempSync(join(tmpdir(), 'strata-bench-resp-'));
  const strata = withStrata
    ? await createStrata({ config: { dataDir: join(work, 'analytics') }, cwd: work, catalog: { 'hot-sqlite': () => hotSqlitePlugin, privacy: () => privacyPlugin }, logLevel: 'error' })
    : undefined;
  const server = http.createServer(handler);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  let sent = 0;
  const started = performance.now();
  const producer = withStrata
    ? setInterval(() => {
        const due = Math.floor(((performance.now() - started) / 1000) * rate);
        for (; sent < due; sent += 1) {
          const template = templates[sent % templates.length];
          strata.record({ ...template, eventId: `resp-${sent}`, timestamp: Date.now() });
        }
      }, 2)
    : undefined;
  const client = spawn(process.execPath, [join(root, 'bench', 'loadClient.mjs'), `http://127.0.0.1:${port}/`, String(seconds), '8'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  client.stdout.on('data', (chunk) => (output += chunk));
  await new Promise((resolve) => client.on('close', resolve));
  if (producer) clearInterval(producer);
  delay.disable();
  const elapsed = (performance.now() - started) / 1000;
  let stored = 0;
  if (strata) {
    await strata.flush();
    stored = strata.metrics().stored;
    await strata.close();
  }
  server.close();
  rmSync(work, { recursive: true, force: true });
  const load = JSON.parse(output.trim());
  return { load, loopP99: delay.percentile(99) / 1e6, loopMax: delay.max / 1e6, eventsPerSecond: stored / elapsed };
}

const without = await measure(false);
const withStrata = await measure(true);
printTable(
  ['server', 'record() events/s', 'event-loop delay p99', 'max', 'requests/s', 'request p50', 'request p99', 'p99 × baseline'],
  [
    ['without Strata (baseline)', '—', `${without.loopP99.toFixed(1)} ms`, `${without.loopMax.toFixed(1)} ms`, Math.round(without.load.perSecond), `${without.load.p50.toFixed(2)} ms`, `${without.load.p99.toFixed(2)} ms`, '1.00'],
    [
      `with Strata at ${rate.toLocaleString('en-US')}/s`,
      Math.round(withStrata.eventsPerSecond).toLocaleString('en-US'),
      `${withStrata.loopP99.toFixed(1)} ms`,
      `${withStrata.loopMax.toFixed(1)} ms`,
      Math.round(withStrata.load.perSecond),
      `${withStrata.load.p50.toFixed(2)} ms`,
      `${withStrata.load.p99.toFixed(2)} ms`,
      (withStrata.load.p99 / without.load.p99).toFixed(2),
    ],
  ],
);
console.log('\ntargets: event-loop delay p99 < 20 ms; request p99 within 2× the baseline');
