import type { DeadLetterErasure } from './deadLetterErasure.js';
import { StrataError, describeError } from './errors.js';
import type { Interaction } from './interaction.js';
import type { ErasureParticipant, Processor, StorageTier, TierRole } from './types.js';

/** A data subject to erase. Today a subject is a session; the id is the one the application sent. */
export interface ErasureRequest {
  sessionId: string;
}

export interface TierErasure {
  tier: string;
  role: TierRole;
  /** False when the tier keeps no per-subject rows it could erase (warm aggregates hold no identifiers). */
  supported: boolean;
  removed: number;
  /** Rows of the subject found after erasing (the follow-up check); null when the tier cannot be queried by session. */
  remaining: number | null;
}

export interface ErasureReport {
  /** The stored forms searched for (pseudonyms when a privacy processor is configured), never the raw id when it is pseudonymised. */
  storedIds: string[];
  tiers: TierErasure[];
  /**
   * The subject's entries in the dead-letter files (rejected or unstorable events, kept scrubbed for
   * replay), which would otherwise bring the subject back on replay; null when none were searched.
   */
  deadLetters: DeadLetterErasure | null;
  /** What each plugin's erasure participant removed outside the tiers (quality findings…), with its follow-up check. */
  participants: ParticipantErasure[];
  /** Rows removed from the tiers, plus entries removed from the dead-letter files and by participants. */
  removed: number;
  /** True when the follow-up checks found nothing of the subject in any tier that can be queried, the dead-letter files or any participant. */
  verified: boolean;
}

export interface ParticipantErasure {
  participant: string;
  removed: number;
  remaining: number;
}

/** Something outside the tiers that holds a subject's records by stored session id (the dead-letter files). */
export interface SessionEraser {
  eraseSessions(storedIds: readonly string[]): Promise<DeadLetterErasure>;
}

/**
 * The ids to look for in storage. Without a pseudonymising processor the stored id is the id itself.
 * With one, only the forms it gives are searched (it returns an id that already is a stored
 * pseudonym as it is), so the raw id never reaches the report or the audit log.
 */
export async function storedSessionIds(sessionId: string, processors: readonly Processor[]): Promise<string[]> {
  const mappers = processors.filter((processor) => processor.storedSessionIds);
  if (mappers.length === 0) return [sessionId];
  const ids = new Set<string>();
  for (const processor of mappers) for (const id of await processor.storedSessionIds!(sessionId)) ids.add(id);
  return [...ids];
}

/**
 * Erases a subject from every tier, then from the dead-letter files when given, then through each
 * participant, and checks that nothing of it remains.
 */
export async function eraseSubject(
  request: ErasureRequest,
  tiers: readonly StorageTier[],
  processors: readonly Processor[],
  deadLetters?: SessionEraser,
  participants: readonly ErasureParticipant[] = [],
): Promise<ErasureReport> {
  if (typeof request.sessionId !== 'string' || request.sessionId.trim() === '') {
    throw new StrataError('STRATA_VALIDATION_FAILED', 'erase: sessionId must be a non-empty string');
  }
  const ids = await storedSessionIds(request.sessionId, processors);
  // Read before any tier is erased: the hot rollups and warm aggregates still count the archived rows.
  const archived = new Map<string, Interaction[]>();
  for (const id of ids) archived.set(id, await archivedRows(id, tiers));
  // The archive goes first. Subtracting archived rows cannot be repeated safely (a second pass
  // would take them out twice), so a retry must not find them again: once the archive is erased
  // they are gone, and a failure after it costs at most their share of the rollups, never
  // corrupts them.
  const order = [...tiers.filter((tier) => tier.role === 'cold'), ...tiers.filter((tier) => tier.role !== 'cold')];
  const byTier = new Map<StorageTier, TierErasure>();
  let archiveErased = false;
  for (const tier of order) {
    if (!tier.eraseSession) {
      byTier.set(tier, { tier: tier.name, role: tier.role, supported: false, removed: 0, remaining: null });
      continue;
    }
    let removed = 0;
    for (const id of ids) {
      try {
        removed += await tier.eraseSession(id, tier.role === 'cold' ? {} : { archived: archived.get(id)! });
      } catch (error) {
        const lost = archiveErased && [...archived.values()].some((rows) => rows.length > 0) ? ' (the archive is already erased, so the archived rows\' share of its rollups can no longer be taken out)' : '';
        throw new StrataError('STRATA_STORAGE_FAILED', `erase: ${tier.name} (${tier.role}) failed after removing ${removed} row(s): ${describeError(error)}; run the erasure again to finish${lost}`, { cause: error });
      }
    }
    if (tier.role === 'cold') archiveErased = true;
    let remaining = 0;
    for (const id of ids) remaining += (await tier.queryInteractions({ sessionId: id, limit: 1 })).items.length;
    byTier.set(tier, { tier: tier.name, role: tier.role, supported: true, removed, remaining });
  }
  const results = tiers.map((tier) => byTier.get(tier)!);
  let letters: DeadLetterErasure | null = null;
  if (deadLetters) {
    try {
      letters = await deadLetters.eraseSessions(ids);
    } catch (error) {
      throw new StrataError('STRATA_STORAGE_FAILED', `erase: the tiers are erased, but the dead-letter files could not be rewritten: ${describeError(error)}; run the erasure again, it is safe to repeat`, { cause: error });
    }
  }
  const others: ParticipantErasure[] = [];
  for (const participant of participants) {
    try {
      others.push({ participant: participant.name, ...(await participant.eraseSubject({ storedIds: ids })) });
    } catch (error) {
      throw new StrataError('STRATA_STORAGE_FAILED', `erase: the tiers are erased, but ${participant.name} failed: ${describeError(error)}; run the erasure again, it is safe to repeat`, { cause: error });
    }
  }
  return {
    storedIds: ids,
    tiers: results,
    deadLetters: letters,
    participants: others,
    removed: results.reduce((sum, tier) => sum + tier.removed, 0) + (letters?.removed ?? 0) + others.reduce((sum, other) => sum + other.removed, 0),
    verified:
      results.every((tier) => tier.remaining === null || tier.remaining === 0) &&
      (letters === null || letters.remaining === 0) &&
      others.every((other) => other.remaining === 0),
  };
}

/** The session's rows in the cold tiers (the archive), every page. */
async function archivedRows(sessionId: string, tiers: readonly StorageTier[]): Promise<Interaction[]> {
  const rows: Interaction[] = [];
  for (const tier of tiers) {
    // Rows a cold tier cannot erase stay there, so a retry would find them again and the hot and
    // warm tiers would take them out twice: only an erasable archive's rows are replayed.
    if (tier.role !== 'cold' || !tier.eraseSession) continue;
    let cursor: string | null = null;
    do {
      let page;
      try {
        page = await tier.queryInteractions({ sessionId, limit: 1_000, ...(cursor === null ? {} : { cursor }) });
      } catch (error) {
        throw new StrataError('STRATA_STORAGE_FAILED', `erase: cannot read the session's archived rows from ${tier.name} (${tier.role}), nothing was erased: ${describeError(error)}`, { cause: error });
      }
      rows.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null);
  }
  return rows;
}
