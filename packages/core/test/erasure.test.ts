import { createInteractionValidator, eraseSubject, type ErasureParticipant, type Interaction, type SessionErasureContext } from '@strata/core';
import { describe, expect, it } from 'vitest';
import { interaction } from './fixtures.js';
import { MemoryTier } from './memoryTier.js';

/** A hot tier that records what erasure told it. */
class RecordingHotTier extends MemoryTier {
  readonly contexts: Array<{ sessionId: string; archived: readonly Interaction[] }> = [];
  override async eraseSession(sessionId: string, context: SessionErasureContext = {}): Promise<number> {
    this.contexts.push({ sessionId, archived: context.archived ?? [] });
    return super.eraseSession(sessionId);
  }
}

const validate = createInteractionValidator(undefined, () => Date.UTC(2030, 0, 1));
/** An event in its stored form. */
function stored(overrides: Record<string, unknown>): Interaction {
  const checked = validate(interaction(overrides));
  if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
  return checked.value;
}

async function tiersWith(archivedCount: number) {
  const hot = new RecordingHotTier('hot-memory', 'hot');
  const cold = new MemoryTier('cold-memory', 'cold');
  const archived = Array.from({ length: archivedCount }, (_, index) => stored({ eventId: `old-${index}`, sessionId: 'subject', timestamp: Date.UTC(2025, 0, 1) + index * 1_000 }));
  await cold.writeInteractions([...archived, stored({ eventId: 'other-old', sessionId: 'someone-else' })]);
  await hot.writeInteractions([stored({ eventId: 'new-1', sessionId: 'subject' }), stored({ eventId: 'other-new', sessionId: 'someone-else' })]);
  return { hot, cold, archived };
}

describe('eraseSubject', () => {
  it('reads the subject’s archived rows (every page) before erasing, and gives them to the hot tier', async () => {
    const { hot, cold, archived } = await tiersWith(2_500);
    const report = await eraseSubject({ sessionId: 'subject' }, [hot, cold], []);
    expect(hot.contexts).toHaveLength(1);
    expect(hot.contexts[0]!.archived.map((event) => event.eventId)).toEqual(archived.map((event) => event.eventId));
    expect(report.tiers).toEqual([
      { tier: 'hot-memory', role: 'hot', supported: true, removed: 1, remaining: 0 },
      { tier: 'cold-memory', role: 'cold', supported: true, removed: 2_500, remaining: 0 },
    ]);
    expect(await cold.countInteractions()).toBe(1);
  });

  it('erases the archive first, so a retry after a later failure never takes archived rows out twice', async () => {
    const { hot, cold } = await tiersWith(3);
    const erase = hot.eraseSession.bind(hot);
    let failures = 1;
    hot.eraseSession = async (sessionId, context) => {
      await erase(sessionId, context);
      if (failures-- > 0) throw new Error('disk full');
      return 0;
    };
    await expect(eraseSubject({ sessionId: 'subject' }, [hot, cold], [])).rejects.toThrow(
      /hot-memory \(hot\) failed after removing 0 row\(s\): disk full; run the erasure again to finish \(the archive is already erased, so the archived rows' share of its rollups can no longer be taken out\)/,
    );
    expect(await cold.countInteractions()).toBe(1);
    const report = await eraseSubject({ sessionId: 'subject' }, [hot, cold], []);
    expect(hot.contexts.map((context) => context.archived.length)).toEqual([3, 0]);
    // The report keeps the tiers in the order given.
    expect(report.tiers.map((tier) => tier.role)).toEqual(['hot', 'cold']);
  });

  it('erases nothing when the archive cannot be read, and says so', async () => {
    const { hot, cold } = await tiersWith(3);
    cold.queryInteractions = async () => {
      throw new Error('partition 2025-01 is unreadable');
    };
    await expect(eraseSubject({ sessionId: 'subject' }, [hot, cold], [])).rejects.toThrow(/cannot read the session's archived rows from cold-memory \(cold\), nothing was erased: partition 2025-01 is unreadable/);
    expect(await hot.countInteractions()).toBe(2);
  });

  it('runs each participant after the tiers and counts what it removed and what remains', async () => {
    const { hot, cold } = await tiersWith(1);
    const order: string[] = [];
    const participant: ErasureParticipant = {
      name: 'notes',
      async eraseSubject(subject) {
        order.push(`participant:${subject.storedIds.join(',')}:${await hot.countInteractions()}`);
        return { removed: 2, remaining: 0 };
      },
    };
    const report = await eraseSubject({ sessionId: 'subject' }, [hot, cold], [], undefined, [participant]);
    expect(order).toEqual(['participant:subject:1']);
    expect(report.participants).toEqual([{ participant: 'notes', removed: 2, remaining: 0 }]);
    expect(report.removed).toBe(1 + 1 + 2);
    expect(report.verified).toBe(true);
    const stubborn = { ...participant, eraseSubject: async () => ({ removed: 0, remaining: 1 }) };
    expect((await eraseSubject({ sessionId: 'subject' }, [hot, cold], [], undefined, [stubborn])).verified).toBe(false);
  });

  it('names the participant that failed, after the tiers were erased', async () => {
    const { hot, cold } = await tiersWith(1);
    const broken: ErasureParticipant = { name: 'notes', eraseSubject: async () => Promise.reject(new Error('disk full')) };
    await expect(eraseSubject({ sessionId: 'subject' }, [hot, cold], [], undefined, [broken])).rejects.toThrow(/the tiers are erased, but notes failed: disk full; run the erasure again/);
  });
});
