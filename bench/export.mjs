// Export: `strata export` of every stored interaction (JSON Lines and CSV) in its own process, with
// its peak resident memory (VmHWM) sampled from /proc, against a baseline measured in the same run
// on the same rows: a raw better-sqlite3 iterate of user_interactions, each row turned into the same
// JSON line and written to /dev/null with back-pressure — the least any exporter has to do.
// Usage: node bench/export.mjs [--events 1000000]
import { spawn } from 'node:child_process';
import { closeSync, createReadStream, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { arg, formatRate, printTable, root } from './lib.mjs';

const events = arg('events', 1_000_000);
const load = (dir) => import(pathToFileURL(join(root, dir, 'dist', 'index.js')).href);
const { createStrata } = await load('packages/core');
const { writeWorkloadFile } = await load('packages/testing');
const { hotSqlitePlugin } = await load('plugins/hot-sqlite');
const bin = join(root, 'packages/cli/dist/bin.js');
const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;

/**
 * Runs a process with stdout sent to `stdoutPath` (a file or /dev/null: the data must not pass
 * through this process), sampling its peak resident memory from /proc while it runs.
 */
function runMeasured(args, stdoutPath) {
  return new Promise((resolve, reject) => {
    const out = openSync(stdoutPath, 'w');
    const started = performance.now();
    const child = spawn(process.execPath, args, { stdio: ['ignore', out, 'pipe'] });
    let stderr = '';
    let peakKb = 0;
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const sample = setInterval(() => {
      try {
        const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (match) peakKb = Math.max(peakKb, Number(match[1]));
      } catch {
        // the process ended between samples
      }
    }, 20);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(sample);
      closeSync(out);
      resolve({ code, stderr, ms: performance.now() - started, peakMb: peakKb / 1024 });
    });
  });
}

async function countLines(path) {
  let lines = 0;
  for await (const chunk of createReadStream(path)) for (let index = chunk.indexOf(10); index !== -1; index = chunk.indexOf(10, index + 1)) lines += 1;
  return lines;
}

// The baseline, as its own process: no validation, no tiers, no format — iterate, stringify, write.
const BASELINE = `
import { createRequire } from 'node:module';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
const Database = createRequire(process.argv[1])('better-sqlite3');
const db = new Database(process.argv[2], { readonly: true });
const out = createWriteStream('/dev/null');
let rows = 0, bytes = 0, text = '';
for (const r of db.prepare('SELECT * FROM user_interactions ORDER BY timestamp, id').iterate()) {
  text += JSON.stringify({ eventId: r.event_id, sessionId: r.session_id, timestamp: r.timestamp, userRole: r.user_role, query: r.query, queryType: r.query_type,
    responseTime: r.response_time, responseLength: r.response_length, codeSnippetsShown: r.code_snippets_shown, citationsProvided: r.citations_provided,
    success: r.success === 1, userRating: r.user_rating, followUpQuery: r.follow_up_query === 1, conversationTurn: r.conversation_turn,
    ipHash: r.ip_hash, userAgentHash: r.user_agent_hash, content: JSON.parse(r.content) }) + '\\n';
  rows += 1;
  if (rows % 1000 === 0) { bytes += Buffer.byteLength(text); if (!out.write(text)) await once(out, 'drain'); text = ''; }
}
bytes += Buffer.byteLength(text);
out.end(text);
await once(out, 'finish');
process.stderr.write(JSON.stringify({ rows, bytes }) + '\\n');
`;

const work = mkdtempSync(join(tmpdir(), 'strata-bench-export-'));
try {
  const file = join(work, 'events.jsonl');
  const fileBytes = await writeWorkloadFile(file, { events, seed: 42, networkFields: false });
  console.log(`workload: ${events.toLocaleString('en-US')} events, ${mb(fileBytes)}\n`);
  const dataDir = join(work, 'data');
  const strata = await createStrata({ config: { dataDir, plugins: [hotSqlitePlugin()], logLevel: 'error' }, scheduleJobs: false, monitor: false });
  let started = performance.now();
  const ingest = await strata.ingestLines(createInterface({ input: createReadStream(file), crlfDelay: Infinity }), { source: file });
  await strata.close();
  console.log(`ingest (setup, not measured against anything): ${ingest.stored.toLocaleString('en-US')} stored in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  rmSync(file);

  const baseline = await runMeasured(['--input-type=module', '-e', BASELINE, join(root, 'plugins', 'hot-sqlite', 'package.json'), join(dataDir, 'comprehensive_metrics.db')], '/dev/null');
  if (baseline.code !== 0) throw new Error(`baseline exited ${baseline.code}: ${baseline.stderr.slice(-2000)}`);
  const baselineRows = JSON.parse(baseline.stderr.trim().split('\n').pop()).rows;
  if (baselineRows !== events) throw new Error(`baseline read ${baselineRows} of ${events} rows`);

  // stdout goes to /dev/null: the data with --out -, the --json summary otherwise (the file's size is read instead).
  const cli = (format, out) => runMeasured([bin, 'export', '--data-dir', dataDir, '--log-level', 'error', '--format', format, '--out', out, '--json'], '/dev/null');
  const runs = [];
  for (const [label, format, out] of [
    ['strata export --format jsonl --out - (to /dev/null)', 'jsonl', '-'],
    ['strata export --format csv --out - (to /dev/null)', 'csv', '-'],
    ['strata export --format jsonl --out file (atomic, fsync)', 'jsonl', join(work, 'export.jsonl')],
  ]) {
    const run = await cli(format, out);
    if (run.code !== 0) throw new Error(`${label} exited ${run.code}: ${run.stderr.slice(-2000)}`);
    // With --out -, the --json summary is on stderr; with a file, on stdout (sent to /dev/null), so the file is measured.
    const summary = out === '-' ? JSON.parse(run.stderr.trim().split('\n').pop()) : { rows: await countLines(out), bytes: statSync(out).size };
    if (summary.rows !== events) throw new Error(`${label} exported ${summary.rows} of ${events} rows`);
    runs.push({ label, run, summary });
    if (out !== '-') rmSync(out);
  }

  const baselineRate = (events / baseline.ms) * 1000;
  printTable(
    ['path', 'rows', 'time', 'rows/s', '× baseline', 'output', 'peak RSS'],
    [
      ['baseline: better-sqlite3 iterate → JSON lines → /dev/null', events, `${(baseline.ms / 1000).toFixed(1)} s`, formatRate(baselineRate), '1.00', '—', `${Math.round(baseline.peakMb)} MB`],
      ...runs.map(({ label, run, summary }) => {
        const rate = (events / run.ms) * 1000;
        return [label, events, `${(run.ms / 1000).toFixed(1)} s`, formatRate(rate), (rate / baselineRate).toFixed(2), mb(summary.bytes), `${Math.round(run.peakMb)} MB`];
      }),
    ],
  );
  const worst = Math.max(...runs.map(({ run }) => run.peakMb));
  console.log(`\ntimes are whole processes (start-up, config, opening the tiers, exit). Target: peak RSS under 200 MB — ${worst < 200 ? 'met' : 'MISSED'} (${Math.round(worst)} MB)`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
