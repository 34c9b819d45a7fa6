import { join } from 'node:path';
import { createStrata, hashQuery, normalizeQuery } from '@strata/core';
import { hotSqlitePlugin } from '@strata/hot-sqlite';
import { createFakeClock } from '@strata/testing';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { InsightStore, qualityPlugin, quotedQuestionHashes, type Finding, type InsightRun } from '../src/index.js';
import { tempDir } from './helpers.js';
import { NOW, RECENT_FROM, askedEvents, steadyWorkload } from './insightsWorkload.js';

const hashOf = (text: string) => hashQuery(normalizeQuery(text));
const window = { from: NOW - 86_400_000, to: NOW };
const finding = (kind: Finding['kind'], subject: string, details: Finding['details']): Finding => ({ kind, severity: 'info', subject, summary: `about ${subject}`, numbers: {}, details, window });

describe('quotedQuestionHashes', () => {
  it('names the questions a finding quotes: a trending question, a cluster’s examples, nothing for other kinds', () => {
    expect(quotedQuestionHashes(finding('question-trending-up', 'how do i x', { queryHash: 'h1' }))).toEqual(['h1']);
    expect(quotedQuestionHashes(finding('question-trending-down', 'how do i x', {}))).toEqual([hashOf('how do i x')]);
    expect(quotedQuestionHashes(finding('unanswered-cluster', 'kubectl', { word: 'kubectl', questions: ['kubectl a', 'kubectl b'] }))).toEqual([hashOf('kubectl a'), hashOf('kubectl b')]);
    expect(quotedQuestionHashes(finding('role-success-dropped', 'student', {}))).toEqual([]);
  });
});

describe('InsightStore.forgetQuestions', () => {
  it('deletes the findings quoting a question no longer held, keeps the rest, and keeps run counts right', () => {
    const file = join(tempDir(), 'quality.db');
    const store = InsightStore.open({ file });
    try {
      const run: Omit<InsightRun, 'runId'> = {
        startedAt: NOW, finishedAt: NOW, asOf: NOW, trigger: 'api', skipped: [],
        windows: {} as InsightRun['windows'],
        findings: [
          finding('question-trending-up', 'shared question', { queryHash: hashOf('shared question') }),
          finding('unanswered-cluster', 'kubectl', { word: 'kubectl', questions: ['kubectl shared', 'kubectl erased'] }),
          finding('question-trending-down', 'erased alone', { queryHash: hashOf('erased alone') }),
          finding('role-success-dropped', 'student', {}),
        ],
      };
      store.save(run);
      store.save(run);
      const erased = new Set([hashOf('kubectl erased'), hashOf('erased alone')]);
      expect(store.forgetQuestions((hash) => !erased.has(hash))).toEqual({ removed: 4, remaining: 0 });
      expect(store.findings().map((stored) => [stored.runId, stored.subject])).toEqual([
        [2, 'shared question'],
        [2, 'student'],
        [1, 'shared question'],
        [1, 'student'],
      ]);
      expect(store.forgetQuestions((hash) => !erased.has(hash))).toEqual({ removed: 0, remaining: 0 });
    } finally {
      store.close();
    }
    const db = new Database(file, { readonly: true });
    try {
      expect(db.prepare('SELECT finding_count FROM insight_runs ORDER BY id').all()).toEqual([{ finding_count: 2 }, { finding_count: 2 }]);
    } finally {
      db.close();
    }
  });
});

describe('erasure under createStrata', () => {
  it('deletes the stored findings that quote a question only the erased subject asked, and reports it', async () => {
    const cwd = tempDir();
    const clock = createFakeClock(NOW);
    const strata = await createStrata({
      cwd,
      clock,
      logLevel: 'silent',
      scheduleJobs: false,
      catalog: { 'hot-sqlite': () => hotSqlitePlugin, quality: () => qualityPlugin },
      config: { plugins: [{ name: 'hot-sqlite', options: { writer: 'inline' } }, 'quality'] },
    });
    try {
      const range = { from: RECENT_FROM, to: NOW - 3_600_000 };
      // A question asked by many sessions trends; two unanswered kubectl questions form a cluster,
      // one of them asked (eight times) by a single session: the subject.
      const events = [
        ...steadyWorkload({ perDay: 150 }),
        ...askedEvents('How do I configure Terraform state locking?', 60, range),
        ...askedEvents('kubectl apply hangs forever', 8, range, (index, event) => {
          event.success = index === 0;
          event.sessionId = 'subject';
          event.conversationTurn = index + 1;
        }, 'k1'),
        ...askedEvents('kubectl logs are empty', 8, range, (index, event) => (event.success = index === 0), 'k2'),
      ];
      for (const event of events) strata.record(event);
      await strata.flush();
      const run = (await strata.runJob('insights')) as unknown as InsightRun;
      expect(run.findings.map((stored) => stored.kind)).toEqual(['question-trending-up', 'unanswered-cluster']);
      expect(run.findings[1]!.details.questions).toContain('kubectl apply hangs forever');

      const report = await strata.erase({ sessionId: 'subject' });
      expect(report.participants).toEqual([{ participant: 'quality', removed: 1, remaining: 0 }]);
      expect(report.verified).toBe(true);
      expect(report.removed).toBe(8 + 1);
      const again = await strata.erase({ sessionId: 'subject' });
      expect(again.participants).toEqual([{ participant: 'quality', removed: 0, remaining: 0 }]);
    } finally {
      await strata.close();
    }
    const db = new Database(join(cwd, 'analytics', 'quality.db'), { readonly: true });
    try {
      const left = JSON.stringify(db.prepare('SELECT * FROM insight_findings').all());
      expect(left).not.toContain('hangs forever');
      expect(left).toContain('terraform state locking');
    } finally {
      db.close();
    }
  });
});
