import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { AccessDeniedError, OPERATIONS, type AccessRole, type AuditEntry, type Operation, type ScopedStrata, type StrataError } from '@strata/core';
import { describe, expect, it } from 'vitest';
import { interaction, linesOf, openStrata, rejectionOf } from './fixtures.js';
import { MemoryTier } from './memoryTier.js';

// The plan's table, written out cell by cell so the test does not trust the code's own table.
const EXPECTED: Record<Operation, Record<AccessRole, boolean>> = {
  'insights.read': { admin: true, analyst: true, developer: true, viewer: true },
  'report.read': { admin: true, analyst: true, developer: true, viewer: true },
  'status.read': { admin: true, analyst: true, developer: true, viewer: true },
  'interactions.read': { admin: true, analyst: true, developer: true, viewer: false },
  'interactions.write': { admin: true, analyst: false, developer: false, viewer: false },
  'interactions.delete': { admin: true, analyst: false, developer: false, viewer: false },
  'subject.erase': { admin: true, analyst: false, developer: false, viewer: false },
  'export.summaries': { admin: true, analyst: true, developer: false, viewer: false },
  'export.interactions': { admin: true, analyst: true, developer: false, viewer: false },
  'jobs.run': { admin: true, analyst: false, developer: false, viewer: false },
  'backup.create': { admin: true, analyst: true, developer: false, viewer: false },
  'backup.restore': { admin: true, analyst: false, developer: false, viewer: false },
  'alerts.read': { admin: true, analyst: true, developer: true, viewer: true },
  'alerts.silence': { admin: true, analyst: false, developer: false, viewer: false },
};

/** Runs the path of the API that `operation` guards. */
async function perform(scoped: ScopedStrata, operation: Operation): Promise<unknown> {
  switch (operation) {
    case 'insights.read':
      return scoped.insights.commonQuestions({});
    case 'report.read':
      return scoped.report({});
    case 'status.read':
      return scoped.status();
    case 'interactions.read':
      return scoped.queryInteractions({});
    case 'interactions.write':
      return scoped.ingestLines(linesOf([JSON.stringify(interaction({ eventId: 'written' }))]), { source: 'test' });
    case 'interactions.delete':
      return scoped.deleteInteractions({ from: 0, to: 1 });
    case 'subject.erase':
      return scoped.erase({ sessionId: 'nobody' });
    case 'jobs.run':
      return scoped.runJob('noop');
    default:
      // Paths outside the core (exporters, backup) call authorize themselves.
      return scoped.authorize(operation, { by: 'test' });
  }
}

function auditEntries(dataDir: string): AuditEntry[] {
  const directory = join(dataDir, 'audit');
  return readdirSync(directory)
    .sort()
    .flatMap((file) => readFileSync(join(directory, file), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as AuditEntry));
}

describe('role-based access', () => {
  it('covers every operation in the expected table', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual([...OPERATIONS].sort());
  });

  for (const operation of OPERATIONS) {
    for (const role of ['admin', 'analyst', 'developer', 'viewer'] as const) {
      const allowed = EXPECTED[operation][role];
      it(`${role} ${allowed ? 'may' : 'may not'} ${operation}`, async () => {
        // The memory tier keeps no rollups; stand-ins let the guarded paths run to the end.
        const tier = new MemoryTier();
        const answer = { items: [], nextCursor: null, range: { from: null, to: null } };
        Object.assign(tier, { insights: { commonQuestions: async () => answer }, report: async () => ({ answered: true }) });
        const { strata, dataDir } = await openStrata({
          tier,
          extras: { jobs: [{ name: 'noop', description: 'does nothing', run: async () => ({ summary: 'nothing' }) }] },
        });
        const scoped = strata.as({ name: `${role}-user`, role });
        const outcome = perform(scoped, operation);
        if (allowed) {
          await expect(outcome).resolves.not.toBeInstanceOf(Error);
        } else {
          const error = await rejectionOf(Promise.resolve().then(() => outcome));
          expect(error).toBeInstanceOf(AccessDeniedError);
          expect((error as AccessDeniedError).code).toBe('STRATA_ACCESS_DENIED');
          expect(error.message).toContain(`role ${role}`);
          expect(error.message).toContain(operation);
          for (const permission of (error as AccessDeniedError).missing) expect(error.message).toContain(`"${permission}"`);
        }
        await strata.flush();
        const entries = auditEntries(dataDir).filter((entry) => entry.operation === operation);
        expect(entries.length).toBeGreaterThan(0);
        expect(entries[0]).toMatchObject({ principal: `${role}-user`, role, operation, allowed });
        expect(Date.parse(entries[0]!.at)).not.toBeNaN();
      });
    }
  }

  it('denies single records without auditing each allowed one', async () => {
    const { strata, dataDir } = await openStrata();
    const admin = strata.as({ name: 'ingest-service', role: 'admin' });
    expect(admin.record(interaction({ eventId: 'a' }))).toBe(true);
    const viewer = strata.as({ name: 'dash', role: 'viewer' });
    expect(() => viewer.record(interaction({ eventId: 'b' }))).toThrow(AccessDeniedError);
    await strata.flush();
    const entries = auditEntries(dataDir);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ principal: 'dash', operation: 'interactions.write', allowed: false });
  });

  it('rejects a principal without a name or with an unknown role', async () => {
    const { strata } = await openStrata();
    expect(() => strata.as({ name: '', role: 'admin' })).toThrow(/principal.name/);
    expect(() => strata.as({ name: 'x', role: 'root' as AccessRole })).toThrow(/principal.role must be one of admin, analyst, developer, viewer, got "root"/);
  });
});

describe('erasure', () => {
  it('removes the session from the hot tier, verifies none remains and audits the pseudonymised ids only', async () => {
    const { strata, dataDir, tier } = await openStrata();
    for (let index = 0; index < 5; index += 1) strata.record(interaction({ eventId: `s1-${index}`, sessionId: 'subject-1' }));
    for (let index = 0; index < 3; index += 1) strata.record(interaction({ eventId: `s2-${index}`, sessionId: 'subject-2' }));
    // Not flushed on purpose: erase writes queued events first, so none lands after it.
    const report = await strata.as({ name: 'dpo', role: 'admin' }).erase({ sessionId: 'subject-1' });
    expect(report).toMatchObject({ storedIds: ['subject-1'], removed: 5, verified: true });
    expect(report.tiers).toEqual([{ tier: tier.name, role: 'hot', supported: true, removed: 5, remaining: 0 }]);
    expect(await tier.countInteractions()).toBe(3);
    await strata.flush();
    const erasures = auditEntries(dataDir).filter((entry) => entry.operation === 'subject.erase');
    expect(erasures.at(-1)).toMatchObject({ allowed: true, target: { storedIds: ['subject-1'] }, outcome: { removed: 5, verified: true } });
  });

  it('asks processors for the stored forms of the id and scrubs dead letters with their scrubber', async () => {
    const { strata, tier, dataDir } = await openStrata({
      extras: {
        processors: [
          {
            name: 'pseudonymiser',
            process: (batch) => ({ events: batch.map((event) => ({ ...event, sessionId: `p:${event.sessionId}` })) }),
            storedSessionIds: (sessionId) => [`p:${sessionId}`],
            scrubText: (text) => text.replaceAll('alice@example.com', '<EMAIL>'),
          },
        ],
      },
    });
    strata.record(interaction({ eventId: 'x1', sessionId: 'alice' }));
    strata.record({ ...interaction({ eventId: 'x2' }), userRating: 'alice@example.com' });
    const report = await strata.erase({ sessionId: 'alice' });
    expect(report.storedIds).toEqual(['p:alice']);
    expect(report.removed).toBe(1);
    expect(await tier.countInteractions()).toBe(0);
    await strata.flush();
    const deadLetterDir = join(dataDir, 'dead-letter');
    const text = readdirSync(deadLetterDir).map((file) => readFileSync(join(deadLetterDir, file), 'utf8')).join('');
    expect(text).toContain('<EMAIL>');
    expect(text).not.toContain('alice@example.com');
  });

  it('rejects an empty session id', async () => {
    const { strata } = await openStrata();
    await expect(strata.erase({ sessionId: ' ' })).rejects.toThrow(/sessionId must be a non-empty string/);
  });
});

describe('a closed Strata', () => {
  it('refuses scoped calls with STRATA_CLOSED and writes nothing more to the audit log', async () => {
    const { strata, dataDir } = await openStrata();
    const scoped = strata.as({ name: 'late', role: 'admin' });
    await strata.close();
    const error = await rejectionOf(scoped.report({}));
    expect((error as StrataError).code).toBe('STRATA_CLOSED');
    await new Promise((resolve) => setTimeout(resolve, 20));
    const entries = (() => {
      try {
        return auditEntries(dataDir);
      } catch {
        return [];
      }
    })();
    expect(entries.filter((entry) => entry.principal === 'late')).toEqual([]);
  });
});
