import { userInfo } from 'node:os';
import {
  AlertStore,
  alertsOverview,
  alertsSettingsOf,
  buildSilence,
  formatLabelMatcher,
  formatLabels,
  type AlertHistoryEntry,
  type AlertsOverview,
  type AlertsSettings,
  type Silence,
} from '@strata/alerts';
import { loadConfig, parseDuration, parseTimestamp } from '@strata/core';
import { CliError, authorizeOffline, catalogFor, writeJson, writeLine, type CliOutput, type CommandContext } from './commandContext.js';
import { formatTable } from './formatTable.js';

export interface AlertsListOptions {
  json?: boolean;
}

export interface AlertsHistoryOptions {
  rule?: string;
  since?: string;
  limit?: string;
  json?: boolean;
}

export interface AlertsSilenceOptions {
  for?: string;
  until?: string;
  start?: string;
  comment?: string;
  json?: boolean;
}

export interface AlertsUnsilenceOptions {
  json?: boolean;
}

/**
 * The alerts commands work on the alerts plugin's file directly, without starting Strata: they
 * answer even while the hot tier is busy or broken, and a silence added here is read by a running
 * server at its next evaluation.
 */
async function withAlertStore<T>(context: CommandContext, operation: 'alerts.read' | 'alerts.silence', work: (store: AlertStore, settings: AlertsSettings) => T): Promise<T> {
  const { globals, io } = context;
  const config = await loadConfig({ configPath: globals.config, cwd: io.cwd, dataDir: globals.dataDir, catalog: catalogFor(io) });
  await authorizeOffline(context, config, operation);
  const settings = alertsSettingsOf(config);
  if (!settings) {
    throw new CliError(`${config.source ?? 'the embedded default config'} does not list the alerts plugin; add "alerts" to plugins to evaluate rules and keep alert history`);
  }
  const store = AlertStore.open(settings.file);
  try {
    return work(store, settings);
  } finally {
    store.close();
  }
}

/** `strata alerts list`: every rule with its state, the alerts pending or firing, and silences not yet ended. */
export async function alertsListCommand(context: CommandContext, options: AlertsListOptions): Promise<number> {
  const overview = await withAlertStore(context, 'alerts.read', (store, settings) => alertsOverview(store, settings.rules, Date.now()));
  if (options.json) writeJson(context.io.stdout, overview);
  else printOverview(context.io.stdout, overview);
  return 0;
}

/** `strata alerts history`: transitions and notifications, newest first. */
export async function alertsHistoryCommand(context: CommandContext, options: AlertsHistoryOptions): Promise<number> {
  const now = Date.now();
  const limit = options.limit === undefined ? 50 : Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new CliError(`--limit must be a whole number from 1 to 10000, got ${JSON.stringify(options.limit)}`);
  const since = options.since === undefined ? undefined : parseInstant(options.since, '--since', now, 'past');
  const entries = await withAlertStore(context, 'alerts.read', (store) => store.history({ ...(options.rule ? { rule: options.rule } : {}), ...(since !== undefined ? { since } : {}), limit }));
  const { stdout } = context.io;
  if (options.json) {
    writeJson(stdout, { entries });
    return 0;
  }
  if (entries.length === 0) {
    writeLine(stdout, `No alert history${options.rule ? ` for ${options.rule}` : ''}${options.since ? ` since ${options.since}` : ''}.`);
    return 0;
  }
  writeLine(
    stdout,
    formatTable(
      [{ header: 'time' }, { header: 'rule' }, { header: 'event' }, { header: 'labels', maxWidth: 40 }, { header: 'details', maxWidth: 100 }],
      entries.map((entry) => [isoMinute(entry.at), entry.rule, describeEvent(entry), otherLabels(entry.labels), entry.message]),
    ),
  );
  return 0;
}

/** `strata alerts silence <matchers…> --for 2h`: mutes notifications of matching alerts (they are still tracked). */
export async function alertsSilenceCommand(context: CommandContext, matchers: string[], options: AlertsSilenceOptions): Promise<number> {
  const now = Date.now();
  if (options.for === undefined && options.until === undefined) throw new CliError('give --for <duration> (such as 2h) or --until <date-time> to say when the silence ends');
  if (options.for !== undefined && options.until !== undefined) throw new CliError('give --for or --until, not both');
  let durationMs: number | undefined;
  if (options.for !== undefined) {
    durationMs = parseDuration(options.for);
    if (durationMs === undefined || durationMs <= 0) throw new CliError(`--for must be a duration such as 30m, 2h or 1d, got ${JSON.stringify(options.for)}`);
  }
  const startsAt = options.start === undefined ? now : parseInstant(options.start, '--start', now, 'any');
  const endsAt = options.until === undefined ? undefined : parseInstant(options.until, '--until', now, 'any');
  const silence = await withAlertStore(context, 'alerts.silence', (store) => {
    let built: Silence;
    try {
      built = buildSilence(
        { matchers, startsAt, ...(durationMs !== undefined ? { durationMs } : {}), ...(endsAt !== undefined ? { endsAt } : {}), createdBy: `cli:${safeUserName()}`, comment: options.comment ?? '' },
        now,
      );
    } catch (error) {
      // Name the command-line words rather than the API's field names.
      const issues = (error as { issues?: Array<{ path: string; message: string }> }).issues;
      if (!issues) throw error;
      throw new CliError(issues.map((issue) => `${issue.path.replace(/^matchers\[(\d+)\]$/, (_all, index: string) => `matcher ${JSON.stringify(matchers[Number(index)])}`).replace(/^endsAt$/, '--until/--for').replace(/^duration$/, '--for')}: ${issue.message}`).join('; '));
    }
    return store.addSilence(built);
  });
  if (options.json) writeJson(context.io.stdout, silence);
  else {
    writeLine(context.io.stdout, `Silence ${silence.id} mutes ${silence.matchers.map(formatLabelMatcher).join(' ')} from ${isoMinute(silence.startsAt)} until ${isoMinute(silence.endsAt)}.`);
    writeLine(context.io.stdout, `Matching alerts are still evaluated and recorded. End it early with \`strata alerts unsilence ${silence.id}\`.`);
  }
  return 0;
}

/** `strata alerts unsilence <id>`: ends a silence now (a unique prefix of its id is enough). */
export async function alertsUnsilenceCommand(context: CommandContext, id: string, options: AlertsUnsilenceOptions): Promise<number> {
  const silence = await withAlertStore(context, 'alerts.silence', (store) => store.expireSilence(id, Date.now()));
  if (options.json) writeJson(context.io.stdout, silence);
  else writeLine(context.io.stdout, `Silence ${silence.id} (${silence.matchers.map(formatLabelMatcher).join(' ')}) has ended; notifications of matching alerts resume at the next evaluation.`);
  return 0;
}

function printOverview(stdout: CliOutput, overview: AlertsOverview): void {
  writeLine(stdout, 'Rules');
  writeLine(
    stdout,
    formatTable(
      [{ header: 'rule' }, { header: 'condition', maxWidth: 60 }, { header: 'for' }, { header: 'severity' }, { header: 'state' }, { header: 'since' }],
      overview.rules.map((rule) => [
        rule.name,
        `${rule.metric}${Object.keys(rule.match).length > 0 ? formatLabels(rule.match) : ''} ${rule.op} ${rule.threshold}`,
        rule.for,
        rule.severity,
        rule.state === 'no data' && rule.reason ? `no data (${rule.reason})` : rule.state,
        rule.since === null ? '-' : isoMinute(rule.since),
      ]),
    ),
  );
  writeLine(stdout, '');
  if (overview.alerts.length === 0) writeLine(stdout, 'Alerts: none pending or firing.');
  else {
    writeLine(stdout, 'Alerts');
    writeLine(
      stdout,
      formatTable(
        [{ header: 'rule' }, { header: 'state' }, { header: 'labels', maxWidth: 40 }, { header: 'value', align: 'right' }, { header: 'since' }, { header: 'summary', maxWidth: 80 }],
        overview.alerts.map((alert) => [
          alert.rule,
          alert.silencedBy.length > 0 ? `${alert.status} (silenced)` : alert.status,
          otherLabels(alert.labels),
          alert.value === null ? '-' : String(alert.value),
          isoMinute(alert.firingSince ?? alert.activeSince),
          alert.summary,
        ]),
      ),
    );
  }
  writeLine(stdout, '');
  if (overview.silences.length === 0) writeLine(stdout, 'Silences: none.');
  else {
    writeLine(stdout, 'Silences');
    writeLine(
      stdout,
      formatTable(
        [{ header: 'id' }, { header: 'matchers', maxWidth: 60 }, { header: 'from' }, { header: 'until' }, { header: 'by' }, { header: 'comment', maxWidth: 60 }],
        overview.silences.map((silence) => [silence.id, silence.matchers.map(formatLabelMatcher).join(' '), isoMinute(silence.startsAt), isoMinute(silence.endsAt), silence.createdBy, silence.comment]),
      ),
    );
  }
}

function describeEvent(entry: AlertHistoryEntry): string {
  if (entry.kind === 'notification') return `${entry.outcome} ${entry.to} → ${entry.notifier}`;
  if (entry.kind === 'silence') return entry.to ?? 'silence';
  return `${entry.from} → ${entry.to}`;
}

/** Labels other than the two every alert has (its rule and severity are shown in their own columns); `-` when none. */
function otherLabels(labels: Record<string, string>): string {
  const { alertname: _alertname, severity: _severity, ...rest } = labels;
  return Object.keys(rest).length > 0 ? formatLabels(rest) : '-';
}

function isoMinute(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}

/** A duration (`24h`: that long ago, or from now for `future`) or a date-time. */
function parseInstant(text: string, flag: string, now: number, direction: 'past' | 'any'): number {
  const duration = parseDuration(text);
  if (duration !== undefined) return direction === 'past' ? now - duration : now + duration;
  const parsed = parseTimestamp(/^\d+$/.test(text.trim()) ? Number(text) : text, now, Number.POSITIVE_INFINITY);
  if (!parsed.ok) throw new CliError(`${flag} ${parsed.reason}; use a duration such as 2h or a date-time such as 2026-01-31T18:00Z`);
  return parsed.ms;
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
