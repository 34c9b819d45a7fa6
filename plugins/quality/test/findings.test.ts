import type { InsightsProvider, InteractionInput } from '@strata/core';
import { describe, expect, it } from 'vitest';
import { findInsights, questionTokens, type BaselineSource, type InsightsAnalysis, type InsightsOptions, type MonthlyBaseline } from '../src/index.js';
import { fixture } from './helpers.js';
import { AS_OF, BASELINE_FROM, DAY, NOW, RECENT_FROM, askedEvents, coin, normalised, steadyWorkload } from './insightsWorkload.js';

const HOUR = 3_600_000;
const LEVEL_FROM = AS_OF - 28 * DAY;
/** Up to the last event: an hour before the clock. */
const UNTIL = NOW - HOUR;

async function analyse(events: Iterable<InteractionInput>, input: { options?: InsightsOptions; baselines?: BaselineSource; insights?: (insights: InsightsProvider) => InsightsProvider } = {}): Promise<InsightsAnalysis> {
  const f = fixture(NOW);
  await f.write(events);
  const insights = input.insights ? input.insights(f.tier.insights!) : f.tier.insights!;
  return findInsights({ insights, now: f.clock.now(), ...(input.options ? { options: input.options } : {}), ...(input.baselines ? { baselines: input.baselines } : {}) });
}

const kindsOf = (analysis: InsightsAnalysis) => analysis.findings.map((finding) => finding.kind);
const recentWindow = { from: RECENT_FROM, to: AS_OF, baseline: { from: BASELINE_FROM, to: RECENT_FROM } };

describe('findInsights', () => {
  it('finds nothing on five weeks of steady traffic', async () => {
    const analysis = await analyse(steadyWorkload());
    expect(analysis.findings).toEqual([]);
    expect(analysis.skipped).toEqual([]);
    expect(analysis.windows).toEqual({ asOf: AS_OF, recent: { from: RECENT_FROM, to: AS_OF }, baseline: { from: BASELINE_FROM, to: RECENT_FROM }, level: { from: LEVEL_FROM, to: AS_OF } });
  });

  it('finds nothing in an empty tier', async () => {
    const analysis = await analyse([]);
    expect(analysis).toMatchObject({ findings: [], skipped: [] });
  });

  it('reports a question asked 60 times this week and never before as trending up', async () => {
    const query = 'How do I configure Terraform state locking?';
    const analysis = await analyse([...steadyWorkload(), ...askedEvents(query, 60, { from: RECENT_FROM, to: UNTIL })]);
    expect(kindsOf(analysis)).toEqual(['question-trending-up']);
    expect(analysis.findings[0]).toEqual({
      kind: 'question-trending-up',
      severity: 'info',
      subject: normalised(query),
      summary: `"${normalised(query)}" was asked 60 times in the last 7 days and never in the 28 days before, trending score 60.0: check that the assistant answers it well.`,
      numbers: { recentAsks: 60, baselineAsks: 0, expectedAsks: 0, trendingScore: 60 },
      details: { queryHash: expect.any(String) },
      window: recentWindow,
    });
  });

  it('reports a question asked 120 times in the baseline and 3 times this week as trending down', async () => {
    const query = 'Can I export my data to BigQuery?';
    const events = [...steadyWorkload(), ...askedEvents(query, 120, { from: BASELINE_FROM, to: RECENT_FROM }, undefined, 'bq-old'), ...askedEvents(query, 3, { from: RECENT_FROM, to: UNTIL }, undefined, 'bq-new')];
    const analysis = await analyse(events);
    expect(kindsOf(analysis)).toEqual(['question-trending-down']);
    expect(analysis.findings[0]).toMatchObject({
      subject: normalised(query),
      severity: 'info',
      numbers: { recentAsks: 3, baselineAsks: 120, expectedAsks: 30, trendingScore: -4.849 },
      window: recentWindow,
    });
    expect(analysis.findings[0]!.summary).toMatch(/was asked 3 times in the last 7 days against 30\.0 expected from its 120 asks in the 28 days before \(10% of usual\)/);
  });

  it('reports a content item whose answers fail 80% of the time', async () => {
    const broken = askedEvents('placeholder', 50, { from: LEVEL_FROM, to: UNTIL }, (index, event) => {
      event.query = `Question ${index} about relocation packages`;
      event.queryType = 'career';
      event.success = index % 5 === 0;
      event.content = [{ type: 'career_kb', id: 'broken-faq', relevance: 0.7 }];
    }, 'broken');
    const analysis = await analyse([...steadyWorkload(), ...broken]);
    expect(kindsOf(analysis)).toEqual(['content-low-success']);
    const [finding] = analysis.findings;
    expect(finding).toMatchObject({ subject: 'career_kb:broken-faq', severity: 'warning', numbers: { uses: 50, successRate: 0.2 }, window: { from: LEVEL_FROM, to: AS_OF } });
    expect(finding!.numbers.otherSuccessRate).toBeGreaterThan(0.9);
    expect(finding!.numbers.z).toBeGreaterThan(3);
    expect(finding!.summary).toMatch(/^career_kb:broken-faq was used in 50 answers in the last 28 days and only 20% succeeded, against 9\d\.\d% for answers using other content \(z \d+\.\d\): review or replace this item\.$/);
  });

  it('reports a content item whose relevance fell from 0.85 to 0.2', async () => {
    const uses = (count: number, range: { from: number; to: number }, relevance: number, prefix: string) =>
      askedEvents('placeholder', count, range, (index, event) => {
        event.query = `${prefix} snippet question ${index}`;
        event.content = [{ type: 'code_snippet', id: 'old-guide', relevance }];
      }, prefix);
    const analysis = await analyse([...steadyWorkload(), ...uses(40, { from: BASELINE_FROM, to: RECENT_FROM }, 0.85, 'before'), ...uses(30, { from: RECENT_FROM, to: UNTIL }, 0.2, 'after')]);
    expect(kindsOf(analysis)).toEqual(['content-relevance-falling']);
    expect(analysis.findings[0]).toMatchObject({
      subject: 'code_snippet:old-guide',
      severity: 'warning',
      numbers: { recentRelevance: 0.2, baselineRelevance: 0.85, drop: 0.65, recentScored: 30, baselineScored: 40 },
      window: recentWindow,
    });
  });

  it('reports a role whose success rate fell from about 93% to 70%', async () => {
    const flip = coin(21);
    const analysis = await analyse(
      steadyWorkload({
        edit: (event, time) => {
          if (event.userRole === 'recruiter' && time >= RECENT_FROM) event.success = flip(0.7);
        },
      }),
    );
    expect(kindsOf(analysis)).toEqual(['role-success-dropped']);
    const [finding] = analysis.findings;
    expect(finding).toMatchObject({ subject: 'recruiter', severity: 'warning', window: recentWindow });
    expect(finding!.numbers.recentSuccessRate).toBeCloseTo(0.7, 1);
    expect(finding!.numbers.baselineSuccessRate).toBeCloseTo(0.93, 1);
    expect(finding!.numbers.z).toBeGreaterThan(3);
    expect(finding!.summary).toMatch(/^Answers to recruiter succeeded \d\d\.\d% of the time in the last 7 days \(\d+ interactions\), down \d\d\.\d points from 9\d\.\d% in the 28 days before/);
  });

  it('reports a role whose ratings fell', async () => {
    const analysis = await analyse(
      steadyWorkload({
        edit: (event, time) => {
          if (event.userRole === 'hiring_manager' && time >= RECENT_FROM && event.userRating != null) event.userRating = event.userRating >= 4 ? 2 : 1;
        },
      }),
    );
    expect(kindsOf(analysis)).toEqual(['role-rating-dropped']);
    const [finding] = analysis.findings;
    expect(finding).toMatchObject({ subject: 'hiring_manager', severity: 'warning' });
    expect(finding!.numbers.recentRating).toBeLessThan(2);
    expect(finding!.numbers.baselineRating).toBeGreaterThan(3.5);
    expect(finding!.numbers.recentRated).toBeGreaterThanOrEqual(20);
  });

  it('reports a role whose response times doubled this week, against the hot baseline window without a warm tier', async () => {
    const analysis = await analyse(slowStudentsThisWeek());
    expect(kindsOf(analysis)).toEqual(['response-time-regression']);
    const [finding] = analysis.findings;
    expect(finding).toMatchObject({ subject: 'student', details: { baselineSource: 'hot' }, window: recentWindow });
    expect(finding!.numbers.ratio).toBeGreaterThanOrEqual(1.8);
    expect(finding!.numbers.ratio).toBeLessThanOrEqual(2.2);
    // A warning from twice the minimum change on (1.5× → 2×).
    expect(finding!.severity).toBe(finding!.numbers.ratio! >= 2 ? 'warning' : 'info');
    expect(finding!.summary).toMatch(/^Answers to student took \d+\.\d\d s at the 95th percentile in the last 7 days \(\d+ interactions\), \d\.\d× the \d+\.\d\d s of the 28 days before \(\d+\): find what slowed them down\.$/);
  });

  it('compares response times with the warm tier\'s latest whole baseline month when there is one', async () => {
    const december = Date.UTC(2025, 11, 1);
    const months = (p95: number): MonthlyBaseline[] => [
      { month: '2025-11', monthStart: Date.UTC(2025, 10, 1), interactions: 5_000, p95ResponseTime: 0.5 },
      { month: '2025-12', monthStart: december, interactions: 4_000, p95ResponseTime: p95 },
      // Too few interactions to be a baseline, then a month that overlaps the recent week: both passed over.
      { month: '2026-01', monthStart: Date.UTC(2026, 0, 1), interactions: 20, p95ResponseTime: 0.5 },
      { month: '2026-02', monthStart: Date.UTC(2026, 1, 1), interactions: 9_000, p95ResponseTime: 0.5 },
    ];
    const asked: Array<{ userRole?: string; range?: { from?: number; to?: number } }> = [];
    const warm = (p95: number): BaselineSource => ({
      async baselines(query) {
        asked.push(query);
        return query.userRole === 'student' ? months(p95) : [];
      },
    });
    const fast = await analyse(slowStudentsThisWeek(), { baselines: warm(2) });
    expect(fast.skipped).toEqual([]);
    expect(kindsOf(fast)).toEqual(['response-time-regression']);
    expect(fast.findings[0]).toMatchObject({ subject: 'student', severity: 'warning', details: { baselineSource: 'warm 2025-12' }, numbers: { baselineP95Seconds: 2, baselineInteractions: 4_000 }, window: { from: RECENT_FROM, to: AS_OF, baseline: { from: december, to: Date.UTC(2026, 0, 1) } } });
    expect(fast.findings[0]!.summary).toContain('the baseline month 2025-12 (4000)');
    expect(asked).toContainEqual({ userRole: 'student', range: { from: RECENT_FROM - 366 * DAY, to: RECENT_FROM } });

    // The same week against a month that was as slow: no regression.
    const slow = await analyse(slowStudentsThisWeek(), { baselines: warm(60) });
    expect(slow.findings).toEqual([]);
  });

  it('groups unanswered questions by the word they share', async () => {
    const failing = ['How do I fix kubectl permission denied?', 'kubectl apply hangs forever', 'Why does kubectl port-forward drop?'].flatMap((query, q) =>
      askedEvents(query, 8, { from: LEVEL_FROM, to: UNTIL }, (index, event) => {
        event.success = index === 0;
      }, `kubectl-${q}`),
    );
    const analysis = await analyse([...steadyWorkload(), ...failing]);
    expect(kindsOf(analysis)).toEqual(['unanswered-cluster']);
    expect(analysis.findings[0]).toMatchObject({
      subject: 'kubectl',
      severity: 'warning',
      numbers: { questions: 3, asks: 24, failedAsks: 21, successRate: 0.125, wordAsks: 24, wordSuccessRate: 0.125 },
      details: { word: 'kubectl', questions: ['how do i fix kubectl permission denied', 'kubectl apply hangs forever', 'why does kubectl port-forward drop'] },
      window: { from: LEVEL_FROM, to: AS_OF },
    });
    expect(analysis.findings[0]!.summary).toBe(
      '3 questions mentioning "kubectl" were asked 24 times in the last 28 days and answered successfully 12.5% of the time (every question with "kubectl": 12.5% of 24 asks), e.g. "how do i fix kubectl permission denied": add content that answers them.',
    );
  });

  it('makes no finding from too little evidence', async () => {
    const flip = coin(5);
    const events = [
      ...steadyWorkload(),
      // A new question asked 9 times (10 needed).
      ...askedEvents('Is there a Terraform provider for Strata?', 9, { from: RECENT_FROM, to: UNTIL }),
      // A question asked 16 times before and not this week (20 needed before).
      ...askedEvents('Old pricing page question', 16, { from: BASELINE_FROM, to: RECENT_FROM }),
      // Content failing 80% of the time over 15 uses (20 needed).
      ...askedEvents('placeholder', 15, { from: LEVEL_FROM, to: UNTIL }, (index, event) => {
        event.query = `Visa question ${index}`;
        event.success = index % 5 === 0;
        event.content = [{ type: 'career_kb', id: 'thin-faq' }];
      }, 'thin'),
      // A small role: 20 interactions at 100% before, 20 at 50% this week (30 needed in each).
      ...askedEvents('placeholder', 20, { from: BASELINE_FROM, to: RECENT_FROM }, (index, event) => {
        event.userRole = 'intern';
        event.query = `Intern question ${index}`;
      }, 'intern-before'),
      ...askedEvents('placeholder', 20, { from: RECENT_FROM, to: UNTIL }, (index, event) => {
        event.userRole = 'intern';
        event.query = `Intern question ${index + 20}`;
        event.success = flip(0.5);
        event.responseTime = 30;
      }, 'intern-after'),
      // Two questions sharing "helm", each asked 4 times and always failing (5 asks needed).
      ...['helm chart upgrade fails', 'helm rollback does nothing'].flatMap((query, q) => askedEvents(query, 4, { from: LEVEL_FROM, to: UNTIL }, (_, event) => (event.success = false), `helm-${q}`)),
    ];
    const analysis = await analyse(events);
    expect(analysis.findings).toEqual([]);
  });

  it('applies the thresholds given in the options', async () => {
    const flip = coin(21);
    const events = steadyWorkload({
      edit: (event, time) => {
        if (event.userRole === 'recruiter' && time >= RECENT_FROM) event.success = flip(0.7);
      },
    });
    const strict = await analyse(events, { options: { roleSuccess: { minDrop: 0.4 } } });
    expect(strict.findings).toEqual([]);
    const loose = await analyse(events, { options: { roleSuccess: { minDrop: 0.1 }, minZ: 2 } });
    expect(kindsOf(loose)).toEqual(['role-success-dropped']);
  });

  it('reports a rule whose question the tier does not answer as skipped, and still runs the others', async () => {
    const query = 'How do I configure Terraform state locking?';
    const analysis = await analyse([...steadyWorkload(), ...askedEvents(query, 60, { from: RECENT_FROM, to: UNTIL })], {
      insights: (insights) => ({
        ...bind(insights),
        contentEffectiveness: async () => {
          throw new Error('this tier does not answer contentEffectiveness');
        },
      }),
    });
    expect(kindsOf(analysis)).toEqual(['question-trending-up']);
    expect(analysis.skipped).toEqual([
      { rule: 'content-low-success', reason: 'this tier does not answer contentEffectiveness' },
      { rule: 'content-relevance-falling', reason: 'this tier does not answer contentEffectiveness' },
    ]);
  });

  it('stops when its signal is aborted', async () => {
    const f = fixture(NOW);
    const controller = new AbortController();
    controller.abort(new Error('closing'));
    await expect(findInsights({ insights: f.tier.insights!, now: NOW, signal: controller.signal })).rejects.toThrow('closing');
  });

  it('refuses thresholds outside their ranges, naming the field', async () => {
    const f = fixture(NOW);
    await expect(findInsights({ insights: f.tier.insights!, now: NOW, options: { minZ: -1 } })).rejects.toThrow(/minZ/);
  });
});

describe('questionTokens', () => {
  it('keeps the significant words of a question, once each', () => {
    expect(questionTokens('how do i fix kubectl permission denied for kubectl 1.29')).toEqual(['fix', 'kubectl', 'permission', 'denied']);
    expect(questionTokens("what's noah's résumé like")).toEqual(["noah's", 'résumé']);
    expect(questionTokens('')).toEqual([]);
  });
});

/** The steady workload with every student answer of the recent week twice as slow. */
function slowStudentsThisWeek(): InteractionInput[] {
  return steadyWorkload({
    edit: (event, time) => {
      if (event.userRole === 'student' && time >= RECENT_FROM) event.responseTime = Number(event.responseTime) * 2;
    },
  });
}

function bind(insights: InsightsProvider): InsightsProvider {
  return {
    commonQuestions: (query) => insights.commonQuestions(query),
    userBehaviour: (query) => insights.userBehaviour(query),
    contentEffectiveness: (query) => insights.contentEffectiveness(query),
    businessMetrics: (query) => insights.businessMetrics(query),
    trendingQueries: (query) => insights.trendingQueries(query),
    systemPerformance: (query) => insights.systemPerformance(query),
  };
}
