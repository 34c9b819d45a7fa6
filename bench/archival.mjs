// Archival: interactions placed in the past are moved hot → warm aggregates + cold archive by the
// retention job, run as an operator runs it (`strata jobs run retention`, its own process: copy,
// verify, aggregate from the archived copy, delete from hot), against a baseline measured in the
// same run on the same rows: scanning them out of the hot tier and gzipping their JSONL to
// /dev/null — the least any archiver has to do.
// Usage: node bench/archival.mjs [--events 1000000] [--partition-rows 250000]
import { createReadStream, createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { createGzip } from 'node:zlib';
import { arg, formatRate, printTable, root, runMeasured } from './lib.mjs';

const events = arg('events', 1_000_000);
const partitionRows = arg('partition-rows', 250_000);
const load = (dir) => import(pathToFileURL(join(root, dir, 'dist', 'index.js')).href);
const { createStrata, interactionLine } = await load('packages/core');
const { writeWorkloadFile } = await load('packages/testing');
const { hotSqlitePlugin } = await load('plugins/hot-sqlite');
const { historicalSqlitePlugin } = await load('plugins/historical-sqlite');
const { jsonArchivePlugin, DEFAULT_GZIP_LEVEL } = await load('plugins/json-archive');
const { retentionPlugin } = await load('plugins/retention');
// What the CLI resolves these names to, for the setup done in this process.
const catalog = {
  'hot-sqlite': () => hotSqlitePlugin,
  'historical-sqlite': () => historicalSqlitePlugin,
  'json-archive': () => jsonArchivePlugin,
  retention: () => retentionPlugin,
};

const DAY_MS = 86_400_000;
// Two months of traffic that ended eight months ago: all of it is past the 90-day horizon, none past 3 years.
const start = Date.now() - 300 * DAY_MS;
const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;

const work = mkdtempSync(join(tmpdir(), 'strata-bench-archival-'));
try {
  const file = join(work, 'events.jsonl');
  const fileBytes = await writeWorkloadFile(file, { events, seed: 42, start, days: 59 });
  console.log(`workload: ${events.toLocaleString('en-US')} events, ${mb(fileBytes)}, ${Math.round(fileBytes / events)} bytes/event, over 59 days ending 241 days ago\n`);
  const config = {
    dataDir: join(work, 'data'),
    plugins: ['hot-sqlite', 'historical-sqlite', 'json-archive', { name: 'retention', options: { schedule: false, partitionRows } }],
    logLevel: 'error',
  };
  const configFile = join(work, 'strata.config.json');
  writeFileSync(configFile, JSON.stringify(config));

  // Setup: ingest, then the baseline on the same stored rows, in this process.
  const strata = await createStrata({ configPath: configFile, cwd: work, catalog, scheduleJobs: false });
  let baselineRows = 0;
  let rawBytes = 0;
  let gzipBytes = 0;
  let baselineMs;
  try {
    let started = performance.now();
    const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
    const ingest = await strata.ingestLines(lines, { source: file });
    console.log(`ingest (setup, not measured against anything): ${ingest.stored.toLocaleString('en-US')} stored in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);

    // Baseline: read every row out of the hot tier as the job does, serialise it as the archive line, gzip to /dev/null.
    started = performance.now();
    const gzip = createGzip({ level: DEFAULT_GZIP_LEVEL });
    gzip.on('data', (chunk) => (gzipBytes += chunk.length));
    const sink = createWriteStream('/dev/null');
    gzip.pipe(sink);
    for await (const batch of strata.storage('hot').scanInteractions({}, { batchSize: 5_000 })) {
      let text = '';
      for (const row of batch) text += `${interactionLine(row)}\n`;
      rawBytes += Buffer.byteLength(text);
      baselineRows += batch.length;
      if (!gzip.write(text)) await once(gzip, 'drain');
    }
    gzip.end();
    await once(sink, 'finish');
    baselineMs = performance.now() - started;
  } finally {
    await strata.close();
  }

  // The job as an operator runs it: `strata jobs run retention`, in its own process (peak RSS from /proc).
  const cli = await runMeasured(process.execPath, [join(root, 'packages/cli/dist/bin.js'), 'jobs', 'run', 'retention', '--json', '--config', configFile], { cwd: work });
  if (cli.code !== 0) throw new Error(`strata jobs run retention exited ${cli.code}: ${cli.stderr.slice(-2000)}`);
  const { report } = JSON.parse(cli.stdout.trim().split('\n').pop());
  if (report.status !== 'ok' || report.rowsMoved !== baselineRows) throw new Error(`the job moved ${report.rowsMoved} of ${baselineRows} rows: ${report.summary}`);

  const baselineRate = (baselineRows / baselineMs) * 1000;
  const jobRate = (report.rowsMoved / report.durationMs) * 1000;
  printTable(
    ['path', 'rows', 'time', 'rows/s', '× baseline', 'stored bytes/row', 'stored / raw JSONL', 'peak RSS'],
    [
      ['baseline: scan hot + gzip JSONL to /dev/null', baselineRows, `${(baselineMs / 1000).toFixed(1)} s`, formatRate(baselineRate), '1.00', (gzipBytes / baselineRows).toFixed(1), `${((gzipBytes / rawBytes) * 100).toFixed(1)}%`, '—'],
      [
        'strata jobs run retention (hot → warm + cold, verified)',
        report.rowsMoved,
        `${(report.durationMs / 1000).toFixed(1)} s`,
        formatRate(jobRate),
        (jobRate / baselineRate).toFixed(2),
        (report.bytesWritten / report.rowsMoved).toFixed(1),
        `${((report.bytesWritten / report.rawBytesMoved) * 100).toFixed(1)}%`,
        `${Math.round(cli.peakMb)} MB`,
      ],
    ],
  );
  console.log(`\nraw JSONL of the moved rows: ${mb(report.rawBytesMoved)}; archive written: ${mb(report.bytesWritten)} in ${report.partitionsWritten} partitions (${((report.bytesWritten / fileBytes) * 100).toFixed(1)}% of the ${mb(fileBytes)} input file); the CLI process took ${(cli.ms / 1000).toFixed(1)} s in all\n`);
  printTable(
    ['step', 'rows', 'bytes', 'partitions', 'time'],
    report.steps.map((step) => [step.step, step.rows, step.bytes, step.partitions, `${(step.durationMs / 1000).toFixed(2)} s`]),
  );
  const ratio = report.bytesWritten / report.rawBytesMoved;
  console.log(`\ntarget: archive under 15% of the raw JSONL — ${ratio < 0.15 ? 'met' : 'MISSED'} (${(ratio * 100).toFixed(1)}%)`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
