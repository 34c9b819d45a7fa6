import { createHash } from 'node:crypto';
import {
  InteractionDigest,
  StrataError,
  describeError,
  monthOf,
  monthRange,
  type ArchivePartition,
  type Interaction,
  type JobContext,
  type MonthKey,
  type RetentionPolicyRecord,
  type TimeRange,
} from '@strata/core';
import { ArchivalJournal, type JournalEntry } from './archivalJournal.js';
import { LineDigest } from './lineDigest.js';
import type { ArchivalTiers } from './archivalTiers.js';
import { ArchiveVerificationError, RetentionJobError } from './errors.js';
import { DAY_MS, effectivePolicies, type RetentionPolicyOverrides } from './retentionPolicies.js';
import { writeRetentionReport, type PartitionMove, type RetentionReport, type RetentionStepName, type RetentionStepReport } from './retentionReport.js';
import { StateLock } from './stateLock.js';

export interface RetentionRunSettings {
  /** Config overrides laid over the stored policies. */
  policies: RetentionPolicyOverrides;
  /** Rows per tier read and per hot-tier delete. */
  batchSize: number;
  /** Most rows in one partition. */
  partitionRows: number;
  /** Journal and lock directory (`<dataDir>/retention`). */
  stateDir: string;
  /** Where the JSON reports go. */
  reportDir: string;
  /**
   * Called at every point a crash can fall between two durable changes: each journal write, each
   * batch handed to the archive or to the aggregates, each delete chunk, prune, each expiry. Tests
   * kill the process here to prove a re-run repairs every such state.
   */
  onStep?(step: string): void;
}

/** Hot-tier rows past this are archived: a month is archivable once its end is older than now − archiveAfterDays. */
function monthStartBefore(epochMs: number): number {
  return monthRange(monthOf(epochMs)).from;
}

function iso(epochMs: number | null): string | null {
  return epochMs === null ? null : new Date(epochMs).toISOString();
}

/**
 * The partition id: the month and a digest of the first hot row it holds. Deterministic, so a move
 * re-planned after a crash before its partition was written picks the same name; and distinct for
 * a later partition of the same month (its first row is a row that was not yet archived).
 */
export function partitionIdFor(month: MonthKey, first: Interaction): string {
  const digest = createHash('sha256').update(`${first.timestamp}\n${first.eventId}`).digest('hex').slice(0, 12);
  return `${month}-${digest}`;
}

/** Runs one retention pass (see the README for the algorithm and what a crash at any point leaves). */
export async function runRetention(tiers: ArchivalTiers, settings: RetentionRunSettings, context: JobContext): Promise<RetentionReport> {
  return new RetentionRun(tiers, settings, context).execute();
}

class RetentionRun {
  private readonly now: number;
  private readonly startedMs = performance.now();
  private readonly steps: RetentionStepReport[] = [];
  private readonly partitions: PartitionMove[] = [];
  private policies: RetentionPolicyRecord[] = [];
  private journal!: ArchivalJournal;
  private rowsMoved = 0;
  private rawBytesMoved = 0;
  private bytesWritten = 0;
  private partitionsWritten = 0;
  private progressTotal = 0;
  private progressDone = 0;
  private interactionsChanged = false;
  private metricsChanged = false;
  private sessionsChanged = false;
  private readonly horizons: RetentionReport['horizons'] = { archiveBefore: null, warmBefore: null, deleteBefore: null, metricSamplesBefore: null, sessionsBefore: null };

  constructor(
    private readonly tiers: ArchivalTiers,
    private readonly settings: RetentionRunSettings,
    private readonly context: JobContext,
  ) {
    this.now = context.clock.now();
  }

  async execute(): Promise<RetentionReport> {
    const release = await new StateLock(this.settings.stateDir).acquire();
    let status: RetentionReport['status'] = 'ok';
    let failure: unknown;
    try {
      this.journal = await ArchivalJournal.open(this.settings.stateDir);
      await this.runSteps();
      if (this.context.signal.aborted) status = 'aborted';
    } catch (error) {
      if (this.context.signal.aborted) status = 'aborted';
      else {
        status = 'failed';
        failure = error;
      }
    }
    try {
      const report = this.buildReport(status, failure);
      try {
        report.reportFile = await writeRetentionReport(this.settings.reportDir, report);
        this.settings.onStep?.('report:written');
      } catch (error) {
        this.context.logger.error({ err: error }, `retention: could not write the archival report under ${this.settings.reportDir}`);
      }
      if (failure !== undefined) {
        this.context.logger.error({ err: failure, reportFile: report.reportFile, rowsMoved: report.rowsMoved }, report.summary);
        if (failure instanceof StrataError) throw failure;
        throw new RetentionJobError(`retention: failed after moving ${report.rowsMoved} rows: ${describeError(failure)}; the next run resumes where this one stopped`, { cause: failure });
      }
      return report;
    } finally {
      await release();
    }
  }

  private async runSteps(): Promise<void> {
    await this.step('policies', async (step) => {
      const stored = this.tiers.hot.retentionPolicies ? await this.tiers.hot.retentionPolicies() : [];
      const { byTable, changed } = effectivePolicies(stored, this.settings.policies);
      this.policies = [...byTable.values()];
      if (changed.length > 0 && this.tiers.hot.saveRetentionPolicies) {
        await this.tiers.hot.saveRetentionPolicies(changed);
        this.onStep('policies:saved');
        step.note = `stored ${changed.map((policy) => policy.table).join(', ')} as configured`;
      } else if (changed.length > 0) {
        step.note = `the hot tier ${this.tiers.hot.name} stores no policies; applied the configured ones`;
      }
    });
    const interactions = this.policy('user_interactions');
    await this.step('resume', (step) => this.resumePending(step));

    const warmBefore = interactions.cleanupEnabled && interactions.warmRetentionDays !== null ? monthOf(this.now - interactions.warmRetentionDays * DAY_MS) : null;
    if (!this.aborted()) await this.step('reconcile', (step) => this.reconcileAggregates(step, warmBefore));

    const archiveAfter = interactions.cleanupEnabled ? interactions.archiveAfterDays : null;
    const archiveBefore = archiveAfter === null ? null : monthStartBefore(this.now - archiveAfter * DAY_MS);
    const deleteBefore = interactions.cleanupEnabled && interactions.retentionDays !== null ? monthStartBefore(this.now - interactions.retentionDays * DAY_MS) : null;
    this.horizons.archiveBefore = iso(archiveBefore);
    this.horizons.deleteBefore = iso(deleteBefore);
    this.horizons.warmBefore = warmBefore === null ? null : iso(monthRange(warmBefore).from);
    const disabled = interactions.cleanupEnabled ? undefined : 'cleanup is disabled for user_interactions';

    await this.step('expire-hot', (step) => this.expireHot(step, deleteBefore, disabled ?? (deleteBefore === null ? 'interactions are kept permanently' : undefined)));
    if (!this.aborted()) {
      await this.step('archive', (step) => this.archive(step, archiveBefore, deleteBefore, disabled ?? (archiveBefore === null ? 'archiveAfterDays is null: interactions stay in the hot tier' : undefined)));
    }
    if (!this.aborted()) await this.step('prune-rollups', (step) => this.pruneRollups(step, archiveBefore));
    if (!this.aborted()) await this.step('expire-warm', (step) => this.expireWarm(step, warmBefore, disabled));
    if (!this.aborted()) await this.step('expire-cold', (step) => this.expireCold(step, deleteBefore, disabled));
    if (!this.aborted()) await this.step('expire-metrics', (step) => this.expireMetrics(step));
    if (!this.aborted()) await this.step('sessions', (step) => this.expireSessions(step));
    if (!this.aborted()) await this.step('mark-cleanup', (step) => this.markCleanup(step));
  }

  // ── resume ────────────────────────────────────────────────────────────────────────────────────

  /** Settles every partition an interrupted run left in the journal. */
  private async resumePending(step: RetentionStepReport): Promise<void> {
    const dropped: string[] = [];
    for (const entry of [...this.journal.pending]) {
      this.throwIfAborted();
      const stored = (await this.tiers.archive.listPartitions({ month: entry.month })).find((partition) => partition.id === entry.id);
      if (!stored) {
        // Never written (the archive writes atomically): its rows are all still in the hot tier.
        await this.journal.remove(entry.id);
        this.onStep('journal:dropped');
        dropped.push(entry.id);
        continue;
      }
      const removed = await this.settlePartition(stored, entry);
      if (removed === undefined) {
        dropped.push(entry.id);
        continue;
      }
      step.rows += removed;
      step.partitions += 1;
    }
    if (dropped.length > 0) step.note = `dropped ${dropped.length} planned partition(s) never written or found damaged before use (${dropped.join(', ')}); their rows stay in the hot tier for this run to archive`;
  }

  /**
   * Finishes the move of a partition that exists in the archive: verify it, add its aggregates
   * (a no-op if they are in), delete its rows from the hot tier, drop its journal entry. Returns
   * rows removed from the hot tier, or undefined when an unusable partition was discarded instead.
   */
  private async settlePartition(partition: ArchivePartition, entry: JournalEntry): Promise<number | undefined> {
    const { archive, aggregates } = this.tiers;
    const verification = await archive.verifyPartition(partition.id);
    const recordedMismatch = entry.rowsSha256 !== undefined && (entry.rowsSha256 !== partition.rowsSha256 || entry.rows !== partition.rows);
    if (!verification.ok || recordedMismatch) {
      const problem = verification.problem ?? `it holds ${partition.rows} rows with checksum ${partition.rowsSha256}, but ${entry.rows} rows with checksum ${entry.rowsSha256} were written`;
      // Deletes from the hot tier start only after the aggregates are in; without them every row is still in hot.
      if (!(await aggregates.hasSource(partition.id))) {
        this.context.logger.warn({ partition: partition.id, problem }, 'retention: discarding an unsettled archive partition that fails verification; its rows are still in the hot tier');
        await archive.deletePartition(partition.id);
        this.onStep('resume:discarded');
        await this.journal.remove(partition.id);
        this.onStep('journal:dropped');
        return undefined;
      }
      throw new ArchiveVerificationError(
        partition.id,
        `retention: archive partition ${partition.id} fails verification (${problem}) after its aggregates were added, and some of its rows may have left the hot tier; restore the archive from a backup, then run retention again`,
      );
    }
    this.onStep('resume:verified');
    const { ids } = await this.aggregateFromArchive(partition, true);
    await this.journal.put({ ...entry, phase: 'aggregated', rows: partition.rows, rowsSha256: partition.rowsSha256 });
    this.onStep('journal:aggregated');
    const removed = await this.deleteFromHot(ids!);
    await this.journal.remove(partition.id);
    this.onStep('journal:settled');
    this.recordMove({ id: partition.id, month: partition.month, rows: partition.rows, removedFromHot: removed, bytesWritten: 0, resumed: true });
    return removed;
  }

  /**
   * Every archived partition of a month the warm tier still keeps must have its aggregates there.
   * A warm tier restored from an older backup, or one that lost its last commits in a power cut,
   * gets them back from the archived copies (verified as they are read); nothing is ever counted twice
   * because each partition is a source applied at most once.
   */
  private async reconcileAggregates(step: RetentionStepReport, warmBefore: MonthKey | null): Promise<void> {
    const pending = new Set(this.journal.pending.map((entry) => entry.id));
    for (const partition of await this.tiers.archive.listPartitions()) {
      if (pending.has(partition.id) || (warmBefore !== null && partition.month < warmBefore)) continue;
      if (await this.tiers.aggregates.hasSource(partition.id)) continue;
      this.throwIfAborted();
      await this.aggregateFromArchive(partition, false);
      step.rows += partition.rows;
      step.partitions += 1;
    }
    if (step.partitions > 0) {
      step.note = `added the aggregates of ${step.partitions} archived partition(s) the warm tier did not have (restored from an older backup, or lost in a power cut)`;
      this.context.logger.warn({ partitions: step.partitions, rows: step.rows }, `retention: ${step.note}`);
    }
  }

  // ── archive ───────────────────────────────────────────────────────────────────────────────────

  /** Deletes hot rows past the retention horizon outright: they are older than anything kept anywhere. */
  private async expireHot(step: RetentionStepReport, deleteBefore: number | null, skip: string | undefined): Promise<void> {
    if (skip || deleteBefore === null) {
      step.note = skip;
      return;
    }
    const range = { to: deleteBefore };
    if ((await this.tiers.hot.countInteractions(range)) === 0) return;
    step.rows = await this.tiers.hot.deleteInteractions(range);
    this.onStep('expire:hot-interactions');
    if (step.rows > 0) this.interactionsChanged = true;
    step.note = `deleted interactions older than ${iso(deleteBefore)} (past retentionDays) without archiving them`;
  }

  private async archive(step: RetentionStepReport, archiveBefore: number | null, deleteBefore: number | null, skip: string | undefined): Promise<void> {
    if (skip || archiveBefore === null) {
      step.note = skip;
      return;
    }
    const from = deleteBefore ?? undefined;
    this.progressTotal = await this.tiers.hot.countInteractions({ from, to: archiveBefore });
    this.progressDone = 0;
    this.reportProgress();
    const movedBefore = this.rowsMoved;
    const bytesBefore = this.bytesWritten;
    const partitionsBefore = this.partitionsWritten;
    let month = await this.firstHotMonth({ from, to: archiveBefore });
    while (month !== undefined && !this.aborted()) {
      await this.archiveMonth(month);
      month = await this.firstHotMonth({ from: monthRange(month).to, to: archiveBefore });
    }
    step.rows = this.rowsMoved - movedBefore;
    step.bytes = this.bytesWritten - bytesBefore;
    step.partitions = this.partitionsWritten - partitionsBefore;
  }

  private async firstHotMonth(range: TimeRange): Promise<MonthKey | undefined> {
    const first = await this.firstHotRow(range);
    return first ? monthOf(first.timestamp) : undefined;
  }

  private async firstHotRow(range: TimeRange): Promise<Interaction | undefined> {
    for await (const batch of this.tiers.hot.scanInteractions(range, { batchSize: 1, signal: this.context.signal })) {
      if (batch[0]) return batch[0];
    }
    return undefined;
  }

  /** Moves every hot row of one month, one partition of up to `partitionRows` rows at a time. */
  private async archiveMonth(month: MonthKey): Promise<void> {
    const existing = await this.tiers.archive.listPartitions({ month });
    if (existing.length > 0) await this.removeAlreadyArchived(month, existing);
    // Ids written so far too: a first row that survived its own partition's deletes must stop the loop, not repeat it.
    const knownIds = new Set(existing.map((partition) => partition.id));
    while (!this.aborted()) {
      const moved = await this.movePartition(month, knownIds);
      if (!moved) return;
    }
  }

  /**
   * The month already has partitions, so its hot rows are late arrivals, copies of archived events
   * sent again, or rows of a partition whose move lost its journal. Archived ones must not be
   * archived twice: each partition's aggregates are made sure of, then hot rows whose ids it holds
   * are deleted. Reads the month's partitions, which only happens when such rows exist.
   */
  private async removeAlreadyArchived(month: MonthKey, existing: readonly ArchivePartition[]): Promise<void> {
    const hotIds = new Set<string>();
    for await (const batch of this.tiers.hot.scanInteractions(monthRange(month), { batchSize: this.settings.batchSize, signal: this.context.signal })) {
      for (const row of batch) hotIds.add(row.eventId);
    }
    if (hotIds.size === 0) return;
    for (const partition of existing) {
      this.throwIfAborted();
      const verification = await this.tiers.archive.verifyPartition(partition.id);
      if (!verification.ok) {
        throw new ArchiveVerificationError(
          partition.id,
          `retention: archive partition ${partition.id} of ${month} fails verification (${verification.problem ?? 'no reason given'}); new rows of ${month} are left in the hot tier until it is restored from a backup`,
        );
      }
      const applied = await this.tiers.aggregates.hasSource(partition.id);
      const ids = applied ? await this.readPartitionIds(partition, hotIds) : (await this.aggregateFromArchive(partition, true)).ids!.filter((id) => hotIds.has(id));
      if (ids.length === 0) continue;
      const removed = await this.deleteFromHot(ids);
      this.progressDone += removed;
      this.reportProgress();
      this.context.logger.info({ partition: partition.id, removed }, 'retention: removed hot rows already held by an archive partition');
      this.recordMove({ id: partition.id, month, rows: partition.rows, removedFromHot: removed, bytesWritten: 0, resumed: true });
    }
  }

  /** The ids of a partition's rows that are also in `among`, checking the rows against the manifest. */
  private async readPartitionIds(partition: ArchivePartition, among: ReadonlySet<string>): Promise<string[]> {
    const digest = new InteractionDigest();
    const ids: string[] = [];
    for await (const batch of this.tiers.archive.readPartition(partition.id, { batchSize: this.settings.batchSize, signal: this.context.signal })) {
      digest.add(batch);
      for (const row of batch) if (among.has(row.eventId)) ids.push(row.eventId);
    }
    this.checkReadBack(partition, digest);
    return ids;
  }

  /**
   * One partition: plan (journal) → write → compare checksums → verify → aggregates from the
   * archived copy → delete exactly its ids from hot → settle (journal). Returns false when the
   * month has no hot rows left.
   */
  private async movePartition(month: MonthKey, knownIds: Set<string>): Promise<boolean> {
    const { hot, archive } = this.tiers;
    const limit = this.settings.partitionRows;
    const scan = hot.scanInteractions(monthRange(month), { batchSize: Math.min(this.settings.batchSize, limit), signal: this.context.signal })[Symbol.asyncIterator]();
    let written: ArchivePartition;
    const digest = new LineDigest();
    const ids: string[] = [];
    let entry: JournalEntry;
    try {
      const head = await scan.next();
      if (head.done || head.value.length === 0) return false;
      const id = partitionIdFor(month, head.value[0]!);
      if (knownIds.has(id)) {
        throw new RetentionJobError(`retention: partition ${id} already exists, yet its first row is still in the hot tier; run retention again (it settles that partition first)`);
      }
      knownIds.add(id);
      entry = { id, month, phase: 'planned', plannedAt: this.now };
      await this.journal.put(entry);
      this.onStep('journal:planned');

      let pending: Interaction[] | undefined = head.value;
      const self = this;
      async function* rows(): AsyncGenerator<Interaction[]> {
        while (pending) {
          const room = limit - ids.length;
          const batch: Interaction[] = pending.length > room ? pending.slice(0, room) : pending;
          pending = undefined;
          digest.add(batch);
          for (const row of batch) ids.push(row.eventId);
          self.onStep('write:batch');
          yield batch;
          self.progressDone += batch.length;
          self.reportProgress();
          if (ids.length >= limit) return;
          const next = await scan.next();
          if (!next.done) pending = next.value;
        }
      }
      written = await archive.writePartition(id, month, rows(), { signal: this.context.signal });
    } finally {
      await scan.return?.();
    }
    this.onStep('write:done');
    const rowsSha256 = digest.hex();
    this.rawBytesMoved += digest.bytes;
    if (written.rows !== ids.length || written.rowsSha256 !== rowsSha256) {
      throw new ArchiveVerificationError(
        written.id,
        `retention: the archive stored partition ${written.id} with ${written.rows} rows (checksum ${written.rowsSha256}), but ${ids.length} rows (checksum ${rowsSha256}) were sent; nothing was deleted from the hot tier — check the cold tier, then run retention again`,
      );
    }
    entry = { ...entry, phase: 'written', rows: written.rows, rowsSha256 };
    await this.journal.put(entry);
    this.onStep('journal:written');

    const verification = await archive.verifyPartition(written.id);
    if (!verification.ok) {
      throw new ArchiveVerificationError(
        written.id,
        `retention: partition ${written.id} fails verification right after it was written (${verification.problem ?? 'no reason given'}); nothing was deleted from the hot tier — check the disk of the cold tier, then run retention again`,
      );
    }
    this.onStep('verify:done');
    await this.aggregateFromArchive(written, false);
    await this.journal.put({ ...entry, phase: 'aggregated' });
    this.onStep('journal:aggregated');

    const removed = await this.deleteFromHot(ids);
    await this.journal.remove(written.id);
    this.onStep('journal:settled');
    this.partitionsWritten += 1;
    this.bytesWritten += written.bytes;
    this.recordMove({ id: written.id, month, rows: written.rows, removedFromHot: removed, bytesWritten: written.bytes, resumed: false });
    return true;
  }

  /**
   * Adds a partition's aggregates from the archived copy (never from the hot rows), checking the
   * rows read back against the manifest's count and checksum. With `collectIds`, returns its ids.
   */
  private async aggregateFromArchive(partition: ArchivePartition, collectIds: boolean): Promise<{ applied: boolean; ids?: string[] }> {
    const digest = new InteractionDigest();
    const ids: string[] | undefined = collectIds ? [] : undefined;
    let complete = false;
    const self = this;
    async function* readBack(): AsyncGenerator<Interaction[]> {
      for await (const batch of self.tiers.archive.readPartition(partition.id, { batchSize: self.settings.batchSize, signal: self.context.signal })) {
        digest.add(batch);
        if (ids) for (const row of batch) ids.push(row.eventId);
        self.onStep('aggregate:batch');
        yield batch;
      }
      complete = true;
    }
    const result = await this.tiers.aggregates.addRows(partition.id, readBack(), { signal: this.context.signal });
    this.onStep('aggregate:done');
    if (!complete) {
      // The aggregates were already in (an earlier run added them) and the store did not read the rows: read them here.
      if (ids) ids.length = 0;
      const again = new InteractionDigest();
      for await (const batch of this.tiers.archive.readPartition(partition.id, { batchSize: this.settings.batchSize, signal: this.context.signal })) {
        again.add(batch);
        if (ids) for (const row of batch) ids.push(row.eventId);
      }
      this.checkReadBack(partition, again);
    } else {
      this.checkReadBack(partition, digest);
    }
    return { applied: result.applied, ids };
  }

  private checkReadBack(partition: ArchivePartition, digest: InteractionDigest): void {
    const rows = digest.rows;
    const sha = digest.hex();
    if (rows !== partition.rows || sha !== partition.rowsSha256) {
      throw new ArchiveVerificationError(
        partition.id,
        `retention: reading partition ${partition.id} back gave ${rows} rows (checksum ${sha}), but its manifest says ${partition.rows} (checksum ${partition.rowsSha256}); its rows stay in the hot tier — check the cold tier, then run retention again`,
      );
    }
  }

  /**
   * Deletes exactly these events from the hot tier, in chunks (each a short transaction), and
   * checks none is left: when fewer rows went than ids were given (an earlier run deleted some),
   * a second pass must find nothing.
   */
  private async deleteFromHot(ids: readonly string[]): Promise<number> {
    let removed = 0;
    for (let start = 0; start < ids.length; start += this.settings.batchSize) {
      removed += await this.tiers.hot.deleteEvents(ids.slice(start, start + this.settings.batchSize));
      this.onStep('delete:chunk');
    }
    if (removed < ids.length) {
      let left = 0;
      for (let start = 0; start < ids.length; start += this.settings.batchSize) left += await this.tiers.hot.deleteEvents(ids.slice(start, start + this.settings.batchSize));
      if (left > 0) this.context.logger.warn({ left }, 'retention: archived events reappeared in the hot tier while they were deleted (sent again); removed them too');
      removed += left;
    }
    if (removed > 0) this.interactionsChanged = true;
    return removed;
  }

  private recordMove(move: PartitionMove): void {
    this.partitions.push(move);
    this.rowsMoved += move.removedFromHot;
  }

  // ── after the move ───────────────────────────────────────────────────────────────────────────

  /**
   * Drops the hot tier's per-question and per-content daily rollups of fully archived months: up to
   * the first month that still holds hot rows (contiguous from the oldest), never past the archive horizon.
   */
  private async pruneRollups(step: RetentionStepReport, archiveBefore: number | null): Promise<void> {
    const { hot } = this.tiers;
    if (archiveBefore === null) {
      step.note = 'nothing is archived, so nothing is pruned';
      return;
    }
    if (!hot.pruneDetailedRollups) {
      step.note = `the hot tier ${hot.name} keeps no detailed rollups to prune`;
      return;
    }
    const oldest = await this.firstHotRow({ to: archiveBefore });
    const before = oldest ? monthRange(monthOf(oldest.timestamp)).from : archiveBefore;
    const coverage = await hot.insights?.detailCoverage?.();
    // A late event into a pruned month brings some detailed rows back; a run that archived anything prunes them again.
    if (coverage?.from != null && coverage.from >= before && !this.interactionsChanged) {
      step.note = `detailed rollups already start at ${iso(coverage.from)}`;
      return;
    }
    step.rows = await hot.pruneDetailedRollups(before);
    this.onStep('prune:done');
    step.note = `per-question and per-content daily rollups before ${iso(before)} removed (rows counts rollup rows)`;
  }

  private async expireWarm(step: RetentionStepReport, warmBefore: MonthKey | null, skip: string | undefined): Promise<void> {
    if (skip || warmBefore === null) {
      step.note = skip ?? 'warm aggregates are kept permanently';
      return;
    }
    const months = await this.tiers.aggregates.months();
    if (!months.some((month) => month < warmBefore)) return;
    step.partitions = await this.tiers.aggregates.expireBefore(warmBefore);
    this.onStep('expire:warm');
    if (step.partitions > 0) this.interactionsChanged = true;
    step.note = `removed the monthly aggregates of ${step.partitions} month(s) before ${warmBefore} (partitions counts months)`;
  }

  private async expireCold(step: RetentionStepReport, deleteBefore: number | null, skip: string | undefined): Promise<void> {
    if (skip || deleteBefore === null) {
      step.note = skip ?? 'the cold archive is kept permanently';
      return;
    }
    const before = monthOf(deleteBefore);
    const pending = new Set(this.journal.pending.map((entry) => entry.id));
    for (const partition of await this.tiers.archive.listPartitions()) {
      if (partition.month >= before || pending.has(partition.id)) continue;
      this.throwIfAborted();
      await this.tiers.archive.deletePartition(partition.id);
      this.onStep('expire:cold-partition');
      step.rows += partition.rows;
      step.bytes += partition.bytes;
      step.partitions += 1;
      this.interactionsChanged = true;
    }
    if (step.partitions > 0) step.note = `deleted archive partitions of months before ${before} (rows and bytes count what was deleted)`;
  }

  /** Raw metric samples leave after their detailed period; their rollups are the summaries kept. */
  private async expireMetrics(step: RetentionStepReport): Promise<void> {
    const policy = this.policy('system_performance');
    const { hot } = this.tiers;
    if (!policy.cleanupEnabled || policy.archiveAfterDays === null) {
      step.note = policy.cleanupEnabled ? 'raw metric samples are kept permanently' : 'cleanup is disabled for system_performance';
      return;
    }
    if (!hot.deleteMetrics) {
      step.note = `the hot tier ${hot.name} cannot delete metric samples; they are kept`;
      return;
    }
    const before = Math.floor((this.now - policy.archiveAfterDays * DAY_MS) / DAY_MS) * DAY_MS;
    this.horizons.metricSamplesBefore = iso(before);
    step.rows = await hot.deleteMetrics({ to: before });
    this.onStep('expire:metrics');
    if (step.rows > 0) this.metricsChanged = true;
    step.note = `raw samples before ${iso(before)} deleted; their minute, hour and day summaries are kept (the hot tier offers no way to expire summaries after retentionDays)`;
  }

  /**
   * Deletes session rows past `session_analytics`' retention. Never while the hot tier may still
   * hold the session's interactions (their archive horizon): the quality checks compare the two,
   * and a late event of a deleted session starts it again and counts it twice in the rollups.
   */
  private async expireSessions(step: RetentionStepReport): Promise<void> {
    const policy = this.policy('session_analytics');
    const { hot } = this.tiers;
    if (!policy.cleanupEnabled || policy.retentionDays === null) {
      step.note = policy.cleanupEnabled ? 'session rows are kept permanently (retentionDays is null)' : 'cleanup is disabled for session_analytics';
      return;
    }
    if (!hot.expireSessions) {
      step.note = `the hot tier ${hot.name} cannot expire session rows; they are kept`;
      return;
    }
    const interactionsHot = this.policy('user_interactions').archiveAfterDays;
    if (interactionsHot === null) {
      step.note = 'session rows are kept: interactions stay in the hot tier permanently (archiveAfterDays is null), and each session row must outlive its interactions there';
      return;
    }
    const days = Math.max(policy.retentionDays, interactionsHot);
    const before = this.now - days * DAY_MS;
    this.horizons.sessionsBefore = iso(before);
    step.rows = await hot.expireSessions(before);
    this.onStep('expire:sessions');
    if (step.rows > 0) this.sessionsChanged = true;
    step.note =
      `session rows inactive since before ${iso(before)} deleted (${days} days: session_analytics' retentionDays, ` +
      `or user_interactions' archiveAfterDays if longer); sessions per day and role stay in the rollups and the warm aggregates`;
  }

  /** Records the cleanup time of the tables this run changed (a run that changed nothing leaves every file as it was). */
  private async markCleanup(step: RetentionStepReport): Promise<void> {
    const { hot } = this.tiers;
    if (!hot.markRetentionCleanup) return;
    const tables = [
      ...(this.interactionsChanged ? ['user_interactions'] : []),
      ...(this.metricsChanged ? ['system_performance'] : []),
      ...(this.sessionsChanged ? ['session_analytics'] : []),
    ];
    for (const table of tables) {
      await hot.markRetentionCleanup(table, this.now);
      this.onStep('cleanup:marked');
    }
    if (tables.length > 0) step.note = `last_cleanup set for ${tables.join(', ')}`;
  }

  // ── plumbing ─────────────────────────────────────────────────────────────────────────────────

  private policy(table: string): RetentionPolicyRecord {
    return this.policies.find((policy) => policy.table === table)!;
  }

  private async step(name: RetentionStepName, work: (step: RetentionStepReport) => Promise<void>): Promise<void> {
    const step: RetentionStepReport = { step: name, rows: 0, bytes: 0, partitions: 0, durationMs: 0 };
    const started = performance.now();
    try {
      await work(step);
    } finally {
      step.durationMs = Math.round(performance.now() - started);
      if (step.note === undefined) delete step.note;
      this.steps.push(step);
    }
  }

  private onStep(name: string): void {
    this.settings.onStep?.(name);
  }

  private aborted(): boolean {
    return this.context.signal.aborted;
  }

  private throwIfAborted(): void {
    if (this.context.signal.aborted) throw new RetentionJobError('retention: stopped on request; the next run resumes where this one stopped');
  }

  private reportProgress(): void {
    this.context.progress({ done: Math.min(this.progressDone, Math.max(this.progressTotal, this.progressDone)), total: Math.max(this.progressTotal, this.progressDone), unit: 'rows' });
  }

  private buildReport(status: RetentionReport['status'], failure: unknown): RetentionReport {
    const durationMs = Math.round(performance.now() - this.startedMs);
    const expiredCold = this.steps.find((step) => step.step === 'expire-cold');
    const expiredWarm = this.steps.find((step) => step.step === 'expire-warm');
    const verb = status === 'ok' ? 'moved' : status === 'aborted' ? 'stopped on request after moving' : 'failed after moving';
    const summary =
      `retention: ${verb} ${this.rowsMoved.toLocaleString('en-US')} interaction(s) to the archive and warm aggregates` +
      ` (${this.partitionsWritten} partition(s) written, ${formatBytes(this.bytesWritten)}) in ${(durationMs / 1_000).toFixed(1)} s` +
      `; expired ${expiredWarm?.partitions ?? 0} warm month(s) and ${expiredCold?.partitions ?? 0} cold partition(s)`;
    return {
      summary,
      job: 'retention',
      status,
      startedAt: new Date(this.now).toISOString(),
      finishedAt: new Date(this.context.clock.now()).toISOString(),
      durationMs,
      rowsMoved: this.rowsMoved,
      bytesWritten: this.bytesWritten,
      partitionsWritten: this.partitionsWritten,
      rawBytesMoved: this.rawBytesMoved,
      horizons: this.horizons,
      partitions: this.partitions,
      steps: this.steps,
      policies: this.policies,
      reportFile: null,
      ...(failure !== undefined ? { error: describeError(failure) } : {}),
    };
  }
}

function formatBytes(bytes: number): string {
  if (bytes < 1_024) return `${bytes} B`;
  if (bytes < 1_048_576) return `${(bytes / 1_024).toFixed(1)} KiB`;
  return `${(bytes / 1_048_576).toFixed(1)} MiB`;
}
