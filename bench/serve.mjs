// Load test of `strata serve`'s ingest endpoint (POST /v1/interactions). The server runs as its own
// process (the built CLI); autocannon drives it from this process over loopback. Three runs:
//   baseline  a bare Fastify server in its own process that parses the same JSON batches and answers
//             200 without storing anything: the HTTP + JSON floor, measured in the same run;
//   steady    strata serve at a fixed request rate below its capacity: requests/s and latency;
//   flood     strata serve with more connections than it admits and no rate limit, and a small
//             queue bound: how many requests get 429, whether the server's memory grows, and
//             whether every event it acknowledged is in the database afterwards.
// Usage: node bench/serve.mjs [--seconds 10] [--rate 100] [--batch 100] [--connections 32] [--max-queued 400] [--runs baseline,steady,flood]
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { arg, betterSqlite3, formatRate, printTable, root, workspace } from './lib.mjs';

const serverPackage = createRequire(join(root, 'packages', 'server', 'package.json'));

// Run as the baseline server: `node bench/serve.mjs --baseline-server`.
if (process.argv.includes('--baseline-server')) {
  const Fastify = serverPackage('fastify');
  const app = Fastify({ bodyLimit: 5 * 1024 * 1024 });
  app.post('/v1/interactions', async (request) => {
    const events = request.body;
    return { received: events.length, stored: events.length, duplicates: 0, rejected: 0, results: events.map((event, index) => ({ index, eventId: event.eventId, status: 'stored' })) };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  console.log(JSON.stringify({ url: `http://127.0.0.1:${app.server.address().port}` }));
  process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
} else {
  await main();
}

async function main() {
  const seconds = arg('seconds', 10);
  const rate = arg('rate', 100);
  const batch = arg('batch', 100);
  const connections = arg('connections', 32);
  // The flood's queue bound: a few batches, so both kinds of 429 show (the steady run keeps the default bound).
  const maxQueued = arg('max-queued', 400);
  const autocannon = serverPackage('autocannon');
  const { generateWorkload } = await workspace('@strata/testing');
  const Database = betterSqlite3();
  const token = 'bench-serve-admin-token-0123456789';

  // Event templates as JSON text with a placeholder id, so building a request body is string work
  // only: the load generator must not be the bottleneck it measures.
  const templates = [...generateWorkload({ events: 5_000, seed: 9, start: Date.now() - 86_400_000, days: 1, networkFields: false })].map((event) =>
    JSON.stringify({ ...event, eventId: '@ID@', timestamp: Date.now() - 3_600_000 }),
  );
  const bodyBytes = Buffer.byteLength(`[${templates.slice(0, batch).join(',')}]`);

  /** Starts a server process and resolves with its URL, pid and a stop() that resolves with its exit code. */
  async function startServer(kind, work, extraArgs) {
    const args =
      kind === 'baseline'
        ? [fileURLToPath(import.meta.url), '--baseline-server']
        : [join(root, 'packages', 'cli', 'dist', 'bin.js'), 'serve', '--port', '0', '--json', '--tokens', join(work, 'tokens.json'), '--no-jobs', ...extraArgs];
    const child = spawn(process.execPath, args, { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise((resolve) => child.on('close', (code) => resolve(code)));
    const url = await new Promise((resolve, reject) => {
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
        const newline = stdout.indexOf('\n');
        if (newline !== -1) resolve(JSON.parse(stdout.slice(0, newline)).url);
      });
      exited.then((code) => reject(new Error(`${kind} server exited (${code}) before listening: ${stderr}`)));
    });
    return {
      url,
      pid: child.pid,
      async stop() {
        child.kill('SIGTERM');
        const code = await exited;
        if (code !== 0) throw new Error(`${kind} server exited ${code}: ${stderr}`);
      },
    };
  }

  function rssMb(pid) {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : 0;
  }

  async function load(kind, { overallRate, connections: conns, serverArgs = [] }) {
    const work = mkdtempSync(join(tmpdir(), `strata-bench-serve-${kind}-`));
    writeFileSync(join(work, 'strata.config.json'), JSON.stringify({ plugins: ['hot-sqlite'] }));
    writeFileSync(join(work, 'tokens.json'), JSON.stringify([{ token: createHash('sha256').update(token).digest('hex'), name: 'bench', role: 'admin' }]));
    const server = await startServer(kind === 'baseline' ? 'baseline' : 'serve', work, serverArgs);
    const rss = { start: rssMb(server.pid), peak: 0, samples: [] };
    const sampler = setInterval(() => {
      try {
        const now = rssMb(server.pid);
        rss.peak = Math.max(rss.peak, now);
        rss.samples.push(now);
      } catch {
        // the process ended between samples
      }
    }, 200);
    let sequence = 0;
    const acknowledged = new Set();
    const statuses = { ok: 0, tooMany: 0, tooManyQueue: 0, tooManyConcurrency: 0, other: 0 };
    const result = await autocannon({
      url: server.url,
      connections: conns,
      duration: seconds,
      ...(overallRate ? { overallRate } : {}),
      requests: [
        {
          method: 'POST',
          path: '/v1/interactions',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          setupRequest(request) {
            const parts = [];
            for (let index = 0; index < batch; index += 1) {
              sequence += 1;
              parts.push(templates[sequence % templates.length].replace('@ID@', `${kind}-${sequence}`));
            }
            return { ...request, body: `[${parts.join(',')}]` };
          },
          onResponse(status, body) {
            if (status === 200) {
              statuses.ok += 1;
              for (const one of JSON.parse(body).results) if (one.status === 'stored' || one.status === 'duplicate') acknowledged.add(one.eventId);
            } else if (status === 429) {
              statuses.tooMany += 1;
              if (/ingest requests are in progress/.test(body)) statuses.tooManyConcurrency += 1;
              else statuses.tooManyQueue += 1;
            } else statuses.other += 1;
          },
        },
      ],
    });
    clearInterval(sampler);
    const rssEnd = rssMb(server.pid);
    await server.stop();
    let stored = null;
    let lost = null;
    if (kind !== 'baseline') {
      const db = new Database(join(work, 'analytics', 'comprehensive_metrics.db'), { readonly: true });
      const ids = new Set(db.prepare('SELECT event_id FROM user_interactions').pluck().all());
      db.close();
      stored = ids.size;
      lost = 0;
      for (const id of acknowledged) if (!ids.has(id)) lost += 1;
    }
    rmSync(work, { recursive: true, force: true });
    return { kind, result, statuses, acknowledged: acknowledged.size, stored, lost, rss: { ...rss, end: rssEnd } };
  }

  console.log(`${batch} events per request (${(bodyBytes / 1024).toFixed(0)} KB), ${seconds} s per run, hot-sqlite only, default --max-concurrent 8; flood: ${connections} connections, --max-queued ${maxQueued}\n`);
  // The steady client keeps one request per connection and as many connections as the server
  // admits at once (--max-concurrent 8): it never gets a 429 by construction, only by a full queue.
  const plans = {
    baseline: async () => ({ label: `baseline: bare Fastify, parse + answer, ${rate} req/s`, ...(await load('baseline', { overallRate: rate, connections: 8 })) }),
    steady: async () => ({ label: `strata serve, steady ${rate} req/s`, ...(await load('steady', { overallRate: rate, connections: 8 })) }),
    flood: async () => ({
      label: `strata serve, flood (${connections} connections, no rate limit)`,
      ...(await load('flood', { overallRate: undefined, connections, serverArgs: ['--max-queued', String(maxQueued)] })),
    }),
  };
  const runs = [];
  for (const name of arg('runs', 'baseline,steady,flood').split(',')) runs.push(await plans[name]());
  const baselineP99 = runs.find((run) => run.kind === 'baseline')?.result.latency.p99;
  printTable(
    ['run', 'requests/s', 'events/s acked', 'p50 ms', 'p99 ms', 'p99 × baseline', '200', '429 (queue / concurrency)', 'other', 'server RSS start → peak → end', 'acked events', 'stored rows', 'acked but missing'],
    runs.map((run) => [
      run.label,
      formatRate(run.result.requests.average),
      formatRate(run.acknowledged / run.result.duration),
      run.result.latency.p50.toFixed(1),
      run.result.latency.p99.toFixed(1),
      baselineP99 ? (run.result.latency.p99 / baselineP99).toFixed(2) : '—',
      run.statuses.ok,
      `${run.statuses.tooMany} (${run.statuses.tooManyQueue} / ${run.statuses.tooManyConcurrency})`,
      run.statuses.other + run.result.errors + run.result.timeouts,
      `${run.rss.start.toFixed(0)} → ${run.rss.peak.toFixed(0)} → ${run.rss.end.toFixed(0)} MB`,
      run.kind === 'baseline' ? '—' : run.acknowledged,
      run.stored ?? '—',
      run.lost ?? '—',
    ]),
  );
  const flood = runs.find((run) => run.kind === 'flood');
  if (flood) {
    // One RSS figure per tenth of the run: flat at the end means memory stopped growing.
    const tenth = Math.max(1, Math.floor(flood.rss.samples.length / 10));
    const trail = flood.rss.samples.filter((_mb, index) => index % tenth === 0).map((mb) => mb.toFixed(0));
    console.log(`\nflood: ${flood.statuses.tooMany} of ${flood.result.requests.total} requests answered 429; server RSS over the run (MB, each tenth): ${trail.join(' ')}`);
  }
  console.log('targets: no acknowledged event missing; the flood gets 429s rather than growing the server\'s memory without bound');
  if (runs.some((run) => run.lost)) process.exitCode = 1;
}
