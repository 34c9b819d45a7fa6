#!/usr/bin/env node
import { limitHeapGrowth } from './heapGrowth.js';
import { runCli } from './program.js';

// Before any command runs: the limit applies to every thread the CLI starts.
limitHeapGrowth();

// `strata report | head` closes the pipe early; that is the reader's choice, not a crash.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

const code = await runCli(process.argv);
process.exitCode = code;

// By now every command has closed Strata. A timer or socket that some plugin forgot to release must
// not keep the user's terminal waiting, so exit once stdout and stderr have been written out
// (a piped `--json` summary must reach the reader intact).
const drained = (stream: NodeJS.WriteStream) => new Promise<void>((resolve) => stream.write('', () => resolve()));
await Promise.all([drained(process.stdout), drained(process.stderr)]);
process.exit(code);
