// Host responsiveness: an HTTP server in the same process as Strata while record() runs at a
// steady 20,000 events/s. Measures the server's event-loop delay and its request latency (from a
// load generator in a second process, over loopback), against the same server without Strata.
// Strata runs as the embedded default: hot tier and privacy processor.
// Usage: node bench/responsiveness.mjs [--seconds 10] [--rate 20000]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { Worker } from 'node:worker_threads';
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

/**
 * A thread that does nothing but burn `duty` of one core, in 5 ms bursts: the control for how much
 * of the latency cost is any background CPU on this machine rather than anything Strata does.
 */
function startBurner(duty) {
  const source = `const { workerData } = require('node:worker_threads');
    const busyMs = 5, idleMs = busyMs * (1 - workerData.duty) / workerData.duty;
    (function burst() { const until = performance.now() + busyMs; while (performance.now() < until); setTimeout(burst, idleMs); })();`;
  return new Worker(source, { eval: true, workerData: { duty } });
}

async function measure(withStrata, burnDuty = 0) {
  const work = mkdtempSync(join(tmpdir(), 'strata-bench-resp-'));
  const strata = withStrata
    ? await createStrata({ config: { dataDir: join(work, 'analytics') }, cwd: work, catalog: { 'hot-sqlite': () => hotSqlitePlugin, privacy: () => privacyPlugin }, logLevel: 'error' })
    : undefined;
  const burner = burnDuty > 0 ? startBurner(burnDuty) : undefined;
  const server = http.createServer(handler);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  let sent = 0;
  const started = performance.now();
  const cpuAtStart = process.cpuUsage();
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
  const cpu = process.cpuUsage(cpuAtStart);
  const cpuCores = (cpu.user + cpu.system) / 1e6 / elapsed;
  await burner?.terminate();
  let stored = 0;
  if (strata) {
    await strata.flush();
    stored = strata.metrics().stored;
    await strata.close();
  }
  server.close();
  rmSync(work, { recursive: true, force: true });
  const load = JSON.parse(output.trim());
  return { load, loopP99: delay.percentile(99) / 1e6, loopMax: delay.max / 1e6, eventsPerSecond: stored / elapsed, cpuCores };
}

const without = await measure(false);
const withStrata = await measure(true);
// What Strata added to the process's CPU, in cores: the Strata run's CPU less what its server used,
// at the baseline's CPU per request (it served fewer requests). Then spent by a thread that only burns it.
const serverCoresPerRequest = without.cpuCores / without.load.perSecond;
const addedCores = Math.max(0.01, withStrata.cpuCores - serverCoresPerRequest * withStrata.load.perSecond);
const burning = await measure(false, Math.min(0.95, addedCores));
const row = (name, events, run) => [
  name,
  events,
  `${run.loopP99.toFixed(1)} ms`,
  `${run.loopMax.toFixed(1)} ms`,
  Math.round(run.load.perSecond),
  `${run.load.p50.toFixed(2)} ms`,
  `${run.load.p99.toFixed(2)} ms`,
  (run.load.p99 / without.load.p99).toFixed(2),
  run.cpuCores.toFixed(2),
];
printTable(
  ['server', 'record() events/s', 'event-loop delay p99', 'max', 'requests/s', 'request p50', 'request p99', 'p99 × baseline', 'process CPU (cores)'],
  [
    row('without Strata (baseline)', '—', without),
    row(`with Strata at ${rate.toLocaleString('en-US')}/s`, Math.round(withStrata.eventsPerSecond).toLocaleString('en-US'), withStrata),
    row(`control: a thread burning ${addedCores.toFixed(2)} of a core, no Strata`, '—', burning),
  ],
);
console.log(
  '\nThe control row spends the CPU Strata added to the process (the Strata run\'s CPU less its server\'s, at the baseline\'s CPU per request) in a thread that does nothing else, in 5 ms bursts.' +
    '\nWhat it costs the server is what any background work of that size costs on this machine; the rest of the Strata row is Strata\'s own.',
);
console.log('\ntargets: event-loop delay p99 < 20 ms; request p99 within 2× the baseline');
