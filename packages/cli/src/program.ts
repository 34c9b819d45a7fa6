import { createRequire } from 'node:module';
import { Command, CommanderError, Option } from 'commander';
import { ConfigError, StrataError } from '@strata/core';
import { CliError, LOG_LEVELS, writeLine, type CliIo, type CommandContext, type GlobalOptions } from './commandContext.js';
import { archiveListCommand, archiveRestoreCommand } from './archiveCommand.js';
import { alertsHistoryCommand, alertsListCommand, alertsSilenceCommand, alertsUnsilenceCommand } from './alertsCommand.js';
import { backupCommand, backupListCommand, backupVerifyCommand } from './backupCommand.js';
import { demoCommand } from './demoCommand.js';
import { eraseCommand } from './eraseCommand.js';
import { exportCommand } from './exportCommand.js';
import { ingestCommand } from './ingestCommand.js';
import { insightsCommand } from './insightsCommand.js';
import { importCommand } from './importCommand.js';
import { initCommand } from './initCommand.js';
import { jobsListCommand, jobsRunCommand } from './jobsCommand.js';
import { migrateTierCommand } from './migrateTierCommand.js';
import { qualityCommand } from './qualityCommand.js';
import { reportCommand } from './reportCommand.js';
import { restoreCommand } from './restoreCommand.js';
import { serveCommand } from './serveCommand.js';
import { statusCommand } from './statusCommand.js';
import { validateCommand } from './validateCommand.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

const EXIT_CODES_HELP = `
Exit codes:
  0    success
  1    fatal error: bad config, unreadable input, storage failure, failed check
  2    ingest: some lines were rejected (they are in the dead-letter store; the rest were stored)
  130  interrupted by SIGINT (143 for SIGTERM) after storing what was read`;

type Action = (context: CommandContext, ...args: never[]) => Promise<number>;

/**
 * Builds the `strata` program. Every action returns its exit code through `setExitCode`, so the
 * program never calls `process.exit` and can run inside a test.
 */
export function buildProgram(io: CliIo, setExitCode: (code: number) => void): Command {
  const program = new Command('strata')
    .description('Strata: analytics for AI assistants. Ingest, report on and check the data your assistant records.')
    .version(version, '-V, --version')
    .option('-d, --data-dir <dir>', 'data directory (overrides dataDir from the config)')
    .option('-c, --config <file>', 'config file (default: strata.config.* in the current directory, else the embedded default)')
    .addOption(new Option('--log-level <level>', 'log level of Strata; logs go to stderr (default: warn)').choices(LOG_LEVELS).default(undefined, 'warn'))
    .option('--debug', 'show stack traces of errors')
    .addOption(new Option('--as <role>', "act as this role: every read, export, delete and erase is checked and audited (default: the config's access.principal, else admin)").choices(['admin', 'analyst', 'developer', 'viewer']))
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(text.startsWith('error: ') ? `strata: ${text.slice('error: '.length)}` : text),
    })
    .addHelpText('after', EXIT_CODES_HELP);

  // Every action gets the global options merged in, wherever they were written on the command line.
  const run =
    <A extends Action>(action: A) =>
    async (...args: unknown[]) => {
      const command = args[args.length - 1] as Command;
      const globals = command.optsWithGlobals<GlobalOptions>();
      const own = command.opts();
      const positional = args.slice(0, -2);
      setExitCode(await (action as unknown as (...all: unknown[]) => Promise<number>)({ io, globals }, ...positional, own));
    };

  program
    .command('ingest')
    .description('stream a JSONL file (or - for stdin) of interactions into the hot tier')
    .argument('<file>', 'a .jsonl file, one interaction per line, or - to read stdin')
    .option('--json', 'print the summary as one JSON line on stdout')
    .addHelpText('after', '\nExit codes: 0 every line accepted, 2 some lines rejected (the rest stored), 1 fatal error, 130/143 interrupted.')
    .action(run(ingestCommand));

  program
    .command('report')
    .description('totals, business metrics per day, behaviour by role, common and trending queries, content effectiveness and system performance')
    .option('--since <when>', 'start of the range: a duration back from now (30d, 12h) or a date-time (default: all data)')
    .option('--until <when>', 'end of the range (exclusive): a date-time or a duration back from now (default: now)')
    .option('--role <role>', 'only interactions of this user role')
    .option('--top <n>', 'how many common and trending queries and content items to list', '10')
    .option('--json', 'print the report and every insight as one JSON line')
    .action(run(reportCommand));

  program
    .command('init')
    .description('write a commented strata.config.ts in the current directory')
    .option('--force', 'overwrite an existing config file')
    .action(run(initCommand));

  program
    .command('validate')
    .description('check the config, the plugin topology and the data directory')
    .option('--start', 'also start the plugins and check each storage tier is healthy')
    .option('--json', 'print the checks as JSON')
    .action(run(validateCommand));

  program
    .command('status')
    .description('data dir, config, plugins, tier health, row count and dead-letter files')
    .option('--json', 'print the status as JSON')
    .action(run(statusCommand));

  program
    .command('erase')
    .description('erase a data subject (a session) from every tier, verify none of it remains, and record it in the audit log')
    .requiredOption('--session <id>', 'the session id the application sent (pseudonymised the same way as at ingest)')
    .option('--json', 'print what was removed per tier as JSON')
    .addHelpText('after', '\nExit codes: 0 erased and verified, 1 rows remain or the erasure failed.')
    .action(run(eraseCommand));

  program
    .command('quality')
    .description('check the hot tier now (completeness, uniqueness, consistency, freshness, volume, schema drift, business rules), store the report and print it')
    .option('--window <duration>', 'how far back the checks over raw rows look (default: the quality plugin\'s window, 24h)')
    .option('--history', 'print past results instead of running the checks')
    .option('--check <name>', 'with --history: only this check (freshness, rule:<name>…)')
    .option('--since <when>', 'with --history: only runs since then (7d, or a date)')
    .option('--limit <n>', 'with --history: most results to print (default 100)')
    .option('--json', 'print the report (or the history) as one JSON line')
    .addHelpText('after', '\nExit codes: 0 every check passed or was skipped, 2 a check warned or failed, 1 fatal error.')
    .action(run(qualityCommand));

  program
    .command('export')
    .description('stream a dataset (interactions from every tier, sessions, query and content performance, business metrics) to CSV, JSON or JSON Lines')
    .requiredOption('--out <file>', 'file to write (atomically; .gz compresses), or - for stdout')
    .option('--dataset <name>', 'interactions, sessions, queries, content, business-metrics, or one a plugin contributes', 'interactions')
    .option('--format <format>', 'csv, json, jsonl, or one a plugin contributes (default: from the --out file name)')
    .option('--from <when>', 'start of the range: a duration back from now (30d, 12h), a date or a date-time (default: all data)')
    .option('--to <when>', 'end of the range (exclusive): a date, a date-time or a duration back from now (default: no end)')
    .option('--role <role>', 'only rows of this user role')
    .option('--query-type <type>', 'only rows of this query type (interactions, sessions, queries)')
    .option('--json', 'print the summary as one JSON line (on stderr when --out is -)')
    .addHelpText('after', '\nCSV cells starting with = + - @ tab or CR are prefixed with a single quote, so spreadsheets show them as text; strata import removes it.\nExit codes: 0 exported, 1 error (nothing is left at --out), 130/143 interrupted (nothing is left at --out).')
    .action(run(exportCommand));

  program
    .command('import')
    .description('read interactions from a CSV, JSON or JSON Lines file (gzip or not) through the ingest path: validated, deduplicated by eventId')
    .argument('<file>', 'a .jsonl, .json or .csv file (optionally .gz), or - to read stdin (with --format)')
    .option('--format <format>', 'jsonl, json, csv, or one a plugin contributes (default: from the file name)')
    .option('--json', 'print the summary as one JSON line on stdout')
    .addHelpText('after', '\nExit codes: 0 every record accepted (duplicates included), 2 some rejected (the rest stored), 1 fatal error, 130/143 interrupted.')
    .action(run(importCommand));

  program
    .command('serve')
    .description('serve the HTTP API (batch ingest, insights, report, health) and the dashboard until SIGINT/SIGTERM')
    .option('--port <n>', 'TCP port; 0 picks a free one', '8787')
    .option('--host <host>', 'interface to listen on (0.0.0.0 for every interface, behind a TLS proxy)', '127.0.0.1')
    .option('--tokens <file>', 'JSON file of bearer tokens [{ token: <sha256 hex or env var name>, name, role }] (default: strata.tokens.json here)')
    .option('--body-limit <size>', 'largest request body (5mb, 512kb); more gets 413', '5mb')
    .option('--max-queued <n>', 'ingest answers 429 while this many events wait for the hot tier (default: a quarter of pipeline.maxQueue)')
    .option('--max-concurrent <n>', 'ingest requests processed at once; more get 429', '8')
    .option('--max-batch <n>', 'most events in one ingest request; more gets 413', '10000')
    .option('--no-jobs', 'do not run scheduled jobs (when another process, such as the assistant, runs them)')
    .option('--json', 'print the address as one JSON line when listening, and a summary when stopped')
    .addHelpText('after', '\nExit codes: 0 stopped by SIGINT/SIGTERM after writing every accepted event, 1 failed to start (bad tokens or options, port in use) or to shut down cleanly.')
    .action(run(serveCommand));

  const archive = program.command('archive').description("the cold tier's archive: list its partitions, or read some back into the hot tier");
  archive
    .command('list')
    .description('every archive partition with its month, rows, size and checksum')
    .option('--month <YYYY-MM>', 'only this month')
    .option('--json', 'print { partitions } as one JSON line')
    .action(run(archiveListCommand));
  archive
    .command('restore')
    .description('read verified archive partitions back into the hot tier (raw rows only: rollups already count them); a damaged partition is refused')
    .option('--month <YYYY-MM>', 'every partition of this month')
    .option('--partition <id...>', 'exactly these partitions')
    .option('--json', 'print the report as one JSON line')
    .action(run(archiveRestoreCommand));

  program
    .command('migrate-tier')
    .description('copy the hot tier into another backend (hot-sqlite → hot-postgres) and verify counts and checksums; run before switching traffic')
    .requiredOption('--from <plugin>', 'the tier you are leaving, e.g. hot-sqlite')
    .requiredOption('--to <plugin>', 'the tier you are moving to, e.g. hot-postgres')
    .option('--from-options <json>', "options of --from when the config does not list it (default: the plugin's defaults)")
    .option('--to-options <json>', "options of --to when the config does not list it")
    .option('--batch <n>', 'rows per copied batch', '5000')
    .option('--resume', 'finish a migration that stopped half-way (the target already holds some rows)')
    .option('--json', 'print the report as one JSON line')
    .addHelpText('after', '\nExit codes: 0 copied and verified, 1 not verified or failed, 130/143 interrupted (run again with --resume).')
    .action(run(migrateTierCommand));

  program
    .command('insights')
    .description('turn the data into findings now (trending questions, weak content, roles whose success or rating dropped, response-time regressions, unanswered questions), store them and print them')
    .option('--history', 'print stored findings instead of running the analysis')
    .option('--kind <kind>', 'with --history: only this kind (question-trending-up, unanswered-cluster…)')
    .option('--since <when>', 'with --history: only runs since then (7d, or a date)')
    .option('--limit <n>', 'with --history: most findings to print (default 100)')
    .option('--json', 'print the run (or the stored findings) as one JSON line')
    .addHelpText('after', '\nExit codes: 0 done (whatever was found), 1 fatal error.')
    .action(run(insightsCommand));

  program
    .command('demo')
    .description('generate a realistic workload into <dataDir>/demo/events.jsonl, ingest it and print the report')
    .option('--events <n>', 'interactions to generate', '50000')
    .option('--seed <n>', 'random seed: the same seed gives the same workload', '1')
    .option('--days <n>', 'days the sessions are spread over, ending now', '30')
    .option('--json', 'print { file, ingest, report } as one JSON line')
    .action(run(demoCommand));

  const jobs = program.command('jobs').description('list the jobs plugins contribute (retention, backup…), or run one now');
  jobs.command('list').description('every job with its schedule').option('--json', 'print the jobs as JSON').action(run(jobsListCommand));
  jobs
    .command('run')
    .description('run a job now, with progress on a terminal and a summary of what it did')
    .argument('<name>', 'job name, as `strata jobs list` shows it')
    .option('--json', 'print { job, durationMs, interrupted, report } as one JSON line')
    .addHelpText('after', '\nExit codes: 0 done, 1 the job failed (nothing is left half-done: its next run resumes), 130/143 stopped by a signal at a safe point.')
    .action(run(jobsRunCommand));

  const backup = program.command('backup').description('take a verified online backup of every tier (the default), list backups, or verify them');
  // A default subcommand rather than options on `backup` itself, so `backup verify --json` keeps its own --json.
  backup
    .command('create', { isDefault: true })
    .description('(default) take an online backup of every tier now: verified (integrity check, row counts, SHA-256 manifest), then old backups rotated')
    .option('--no-rotate', 'keep every existing backup this time')
    .option('--json', 'print { id, path, files, bytesWritten, durationMs, manifest, rotation } as one JSON line')
    .action(run(backupCommand));
  backup.command('list').description('every backup with its status (complete, incomplete, damaged)').option('--json', 'print the backups as JSON').action(run(backupListCommand));
  backup
    .command('verify')
    .description('check backups against their manifests: SHA-256 of every file, integrity check and row counts of every database')
    .argument('[backup]', 'a backup id, a path, or latest (default: every backup)')
    .option('--json', 'print { ok, backups: [{ id, ok, problems }] } as one JSON line')
    .addHelpText('after', '\nExit codes: 0 every backup checked is sound, 1 one failed (each problem names the file and the check) or there is none.')
    .action(run(backupVerifyCommand));

  program
    .command('restore')
    .description('put a backup back into the data dir (stop the server first); refuses a corrupt backup, keeps the current files as .pre-restore')
    .argument('<backup>', 'a backup id (strata backup list), a path to a backup directory, or latest')
    .option('--json', 'print what was restored as one JSON line')
    .action(run(restoreCommand));

  const alerts = program.command('alerts').description('alert rules and their state, alert history, and silences (works on the alerts plugin\'s file; evaluate now with `strata jobs run alerts`)');
  alerts.command('list').description('every rule with its state, the alerts pending or firing, and silences not yet ended').option('--json', 'print { rules, alerts, silences } as one JSON line').action(run(alertsListCommand));
  alerts
    .command('history')
    .description('state transitions and notifications, newest first')
    .option('--rule <name>', 'only this rule')
    .option('--since <when>', 'a duration back from now (24h, 7d) or a date-time')
    .option('--limit <n>', 'most entries to show (1-10000)', '50')
    .option('--json', 'print { entries } as one JSON line')
    .action(run(alertsHistoryCommand));
  alerts
    .command('silence')
    .description('mute notifications of the alerts the matchers select, for a time; they are still evaluated and recorded')
    .argument('<matchers...>', 'label matchers: label=value, label!=value, label=~regex, label!~regex (all must hold)')
    .option('--for <duration>', 'how long, from the start (30m, 2h, 1d)')
    .option('--until <when>', 'when it ends: a date-time, or a duration from now')
    .option('--start <when>', 'when it starts (default: now): a date-time, or a duration from now')
    .option('--comment <text>', 'why, for whoever reads the list later')
    .option('--json', 'print the silence as one JSON line')
    .action(run(alertsSilenceCommand));
  alerts
    .command('unsilence')
    .description('end a silence now; it stays on record')
    .argument('<id>', 'the silence id, or a unique prefix of it (at least 4 characters)')
    .option('--json', 'print the ended silence as one JSON line')
    .action(run(alertsUnsilenceCommand));

  return program;
}

/**
 * Runs the CLI and resolves with its exit code. `argv` is `process.argv`-shaped (node, script,
 * ...arguments). `io` replaces stdout, stderr, stdin and cwd, so tests can run it in-process.
 */
export async function runCli(argv: readonly string[], io: Partial<CliIo> = {}): Promise<number> {
  const fullIo: CliIo = {
    stdout: io.stdout ?? process.stdout,
    stderr: io.stderr ?? process.stderr,
    stdin: io.stdin ?? process.stdin,
    cwd: io.cwd ?? process.cwd(),
    ...(io.catalog ? { catalog: io.catalog } : {}),
    handleSignals: io.handleSignals ?? true,
  };
  let exitCode = 0;
  const program = buildProgram(fullIo, (code) => (exitCode = code));
  try {
    await program.parseAsync([...argv], { from: 'node' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed the message (or the help); only the code is left to decide.
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? 0 : error.exitCode || 1;
    }
    const debug = program.opts<GlobalOptions>().debug === true || argv.includes('--debug');
    reportError(fullIo, error, debug);
    return 1;
  }
}

/** Expected errors (StrataError, CliError) print one message and no stack; anything else says how to see it. */
export function reportError(io: CliIo, error: unknown, debug: boolean): void {
  const expected = error instanceof StrataError || error instanceof CliError;
  if (error instanceof ConfigError) {
    // The message already puts each issue on its own line with its path.
    writeLine(io.stderr, `strata: ${error.message}`);
  } else if (error instanceof Error) {
    writeLine(io.stderr, `strata: ${error.message}`);
  } else {
    writeLine(io.stderr, `strata: ${String(error)}`);
  }
  if (debug && error instanceof Error && error.stack) {
    writeLine(io.stderr, error.stack);
    if (error.cause instanceof Error && error.cause.stack) writeLine(io.stderr, `caused by: ${error.cause.stack}`);
  } else if (!expected) {
    writeLine(io.stderr, 'strata: this is unexpected; run again with --debug for the stack trace, and report it if it persists');
  }
}
