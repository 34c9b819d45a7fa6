import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { binPath, databaseFile, lastJson, runInProcess, sleep, tempDir } from './helpers.js';

// `strata serve` runs until a signal, so these tests start the built binary (`pnpm build` first)
// and stop it the way an operator or a process manager does.
const ADMIN_TOKEN = 'cli-serve-admin-token-0001';
const VIEWER_TOKEN = 'cli-serve-viewer-token-0002';
const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

/** A project directory with a config (hot SQLite; batches held `batchDelayMs`) and a tokens file. */
function project(batchDelayMs = 50): string {
  const cwd = tempDir();
  writeFileSync(join(cwd, 'strata.config.json'), JSON.stringify({ plugins: ['hot-sqlite'], pipeline: { maxBatchDelayMs: batchDelayMs, maxBatchSize: 100_000 } }));
  writeFileSync(
    join(cwd, 'strata.tokens.json'),
    JSON.stringify([
      { token: sha256Hex(ADMIN_TOKEN), name: 'ops', role: 'admin' },
      { token: 'SERVE_VIEWER_TOKEN', name: 'wallboard', role: 'viewer' },
    ]),
  );
  return cwd;
}

interface ServeRun {
  child: ReturnType<typeof spawn>;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** Starts the built `strata serve` with extra environment variables (the viewer's token lives in one). */
function spawnServe(args: string[], cwd: string, env: Record<string, string>): ServeRun {
  if (!existsSync(binPath)) throw new Error(`${binPath} is missing; run \`pnpm build\` first`);
  const child = spawn(process.execPath, [binPath, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolveDone, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolveDone({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

/** Resolves with the first line `strata serve --json` prints: the address it listens on. */
async function listening(run: ServeRun): Promise<{ url: string; port: number; tokens: Array<{ name: string; role: string }> }> {
  let stdout = '';
  return new Promise((resolvePromise, reject) => {
    const onData = (text: string) => {
      stdout += text;
      const newline = stdout.indexOf('\n');
      if (newline === -1) return;
      run.child.stdout!.off('data', onData);
      resolvePromise(JSON.parse(stdout.slice(0, newline)) as { url: string; port: number; tokens: Array<{ name: string; role: string }> });
    };
    run.child.stdout!.on('data', onData);
    run.done.then((result) => reject(new Error(`strata serve exited (${result.code}) before listening: ${result.stderr}`)), reject);
  });
}

function storedEventIds(dataDir: string): Set<string> {
  const db = new Database(databaseFile(dataDir), { readonly: true, fileMustExist: true });
  try {
    return new Set((db.prepare('SELECT event_id FROM user_interactions').all() as Array<{ event_id: string }>).map((row) => row.event_id));
  } finally {
    db.close();
  }
}

const event = (eventId: string) => ({
  eventId,
  sessionId: `session-${eventId.slice(0, 8)}`,
  timestamp: Date.now() - 60_000,
  userRole: 'student',
  query: 'What can you help me with?',
  queryType: 'general',
  responseTime: 0.8,
  success: true,
});

describe('strata serve', () => {
  it('prints its address, serves the API and the dashboard, and stores every acknowledged event when stopped by SIGTERM mid-batch', async () => {
    // Batches wait 1.5 s before they are written, so the SIGTERM lands while requests are in flight.
    const cwd = project(1_500);
    const run = spawnServe(['serve', '--port', '0', '--json'], cwd, { SERVE_VIEWER_TOKEN: VIEWER_TOKEN });
    const started = await listening(run);
    expect(started.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(started.tokens).toEqual([
      { name: 'ops', role: 'admin' },
      { name: 'wallboard', role: 'viewer' },
    ]);

    expect((await fetch(`${started.url}/healthz`)).status).toBe(200);
    const page = await fetch(`${started.url}/`);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('<title>Strata dashboard</title>');
    expect((await fetch(`${started.url}/v1/report`, { headers: { authorization: `Bearer ${VIEWER_TOKEN}` } })).status).toBe(200);
    expect((await fetch(`${started.url}/v1/report`)).status).toBe(401);

    const batches = Array.from({ length: 6 }, (_, batch) => Array.from({ length: 40 }, (_unused, index) => event(`sigterm-${batch}-${index}`)));
    const answers = batches.map((batch) =>
      fetch(`${started.url}/v1/interactions`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(batch) }).then(
        async (response) => ({ status: response.status, body: (await response.json()) as { results: Array<{ eventId: string; status: string }> } }),
        () => ({ status: 0, body: { results: [] } }),
      ),
    );
    // Every batch is queued (readiness reports the queue) before the signal.
    for (;;) {
      const ready = (await (await fetch(`${started.url}/readyz`)).json()) as { checks: { queue: { queued: number } } };
      if (ready.checks.queue.queued === 240) break;
      await sleep(20);
    }
    run.child.kill('SIGTERM');
    const results = await Promise.all(answers);
    const finished = await run.done;
    expect(finished.code, finished.stderr).toBe(0);
    expect(finished.stderr).toContain('SIGTERM received');
    expect(lastJson(finished.stdout)).toMatchObject({ stopped: 'SIGTERM', stored: 240, queued: 0 });

    const acknowledged = results.flatMap((result) => (result.status === 200 ? result.body.results.filter((one) => one.status === 'stored').map((one) => one.eventId) : []));
    expect(acknowledged).toHaveLength(240);
    const stored = storedEventIds(join(cwd, 'analytics'));
    expect(acknowledged.filter((eventId) => !stored.has(eventId))).toEqual([]);
  }, 60_000);

  it('serves the alerts and quality panels when the config lists those plugins, and stops on SIGINT', async () => {
    const cwd = project();
    writeFileSync(join(cwd, 'strata.config.json'), JSON.stringify({ plugins: ['hot-sqlite', { name: 'alerts', options: { notifiers: [] } }, 'quality'] }));
    const run = spawnServe(['serve', '--port', '0', '--json'], cwd, { SERVE_VIEWER_TOKEN: VIEWER_TOKEN });
    const { url } = await listening(run);
    const viewer = { authorization: `Bearer ${VIEWER_TOKEN}` };
    const alerts = await fetch(`${url}/v1/alerts`, { headers: viewer });
    expect(alerts.status).toBe(200);
    const overview = (await alerts.json()) as { rules: Array<{ name: string; state: string }>; alerts: unknown[]; silences: number };
    expect(overview.rules.length).toBeGreaterThan(0);
    expect(overview).toMatchObject({ alerts: expect.any(Array), silences: 0 });
    const quality = await fetch(`${url}/v1/quality`, { headers: viewer });
    expect(quality.status).toBe(200);
    expect(await quality.json()).toEqual({ latest: null });
    run.child.kill('SIGINT');
    const finished = await run.done;
    expect(finished.code, finished.stderr).toBe(0);
    expect(lastJson(finished.stdout)).toMatchObject({ stopped: 'SIGINT' });
  }, 60_000);

  it('refuses to start without a tokens file, saying how to write one', async () => {
    const cwd = tempDir();
    const result = await runInProcess(['serve', '--port', '0'], { cwd });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/strata serve needs bearer tokens: write strata\.tokens\.json here \(or pass --tokens <file>\)/);
  });

  it('names each bad token entry and option', async () => {
    const cwd = project();
    writeFileSync(join(cwd, 'bad-tokens.json'), JSON.stringify({ tokens: [{ token: 'the raw secret itself', name: 'ops', role: 'root' }] }));
    const badTokens = await runInProcess(['serve', '--port', '0', '--tokens', 'bad-tokens.json'], { cwd });
    expect(badTokens.code).toBe(1);
    expect(badTokens.stderr).toMatch(/tokens\[0\]\.role: must be one of admin, analyst, developer, viewer, got "root"/);
    expect(badTokens.stderr).toMatch(/tokens\[0\]\.token: is neither 64 hex digits/);
    expect(badTokens.stderr).not.toContain('the raw secret itself');

    const badPort = await runInProcess(['serve', '--port', 'eighty'], { cwd });
    expect(badPort.code).toBe(1);
    expect(badPort.stderr).toMatch(/--port must be a whole number from 0 to 65535, got "eighty"/);
    const badLimit = await runInProcess(['serve', '--port', '0', '--body-limit', 'lots'], { cwd });
    expect(badLimit.stderr).toMatch(/--body-limit must be a size such as 5mb/);
  });
});
