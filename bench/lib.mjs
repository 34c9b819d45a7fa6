// Shared helpers for the benchmarks: workspace imports, timing, memory sampling, table output.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Imports a workspace package's built entry (benchmarks run on what users get: `pnpm bench` builds first). */
export async function workspace(name) {
  const dirs = {
    '@strata/core': 'packages/core',
    '@strata/testing': 'packages/testing',
    '@strata/hot-sqlite': 'plugins/hot-sqlite',
    '@strata/privacy': 'plugins/privacy',
    '@strata/cli': 'packages/cli',
  };
  return import(pathToFileURL(join(root, dirs[name], 'dist', 'index.js')).href);
}

/** better-sqlite3 as hot-sqlite resolves it, for the baselines. */
export function betterSqlite3() {
  return createRequire(join(root, 'plugins', 'hot-sqlite', 'package.json'))('better-sqlite3');
}

export function arg(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  if (index === -1) return fallback;
  const value = process.argv[index + 1];
  return typeof fallback === 'number' ? Number(value) : value;
}

/** Runs a command, sampling its peak resident memory (VmHWM) from /proc while it runs. */
export function runMeasured(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let stdout = '';
    let stderr = '';
    let peakKb = 0;
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const sample = setInterval(() => {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        const match = /VmHWM:\s+(\d+) kB/.exec(status);
        if (match) peakKb = Math.max(peakKb, Number(match[1]));
      } catch {
        // the process ended between samples
      }
    }, 20);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(sample);
      resolve({ code, stdout, stderr, ms: performance.now() - started, peakMb: peakKb / 1024 });
    });
  });
}

export function formatRate(perSecond) {
  return Math.round(perSecond).toLocaleString('en-US');
}

/** Prints a Markdown table: the benchmarks' output is pasted into bench/README.md as is. */
export function printTable(headers, rows) {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => String(row[column]).length)));
  const line = (cells) => `| ${cells.map((cell, column) => String(cell).padEnd(widths[column])).join(' | ')} |`;
  console.log(line(headers));
  console.log(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}
