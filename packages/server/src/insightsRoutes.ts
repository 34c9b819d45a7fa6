import { OPERATIONS, ROLE_PERMISSIONS, StrataError, ValidationError, missingPermissions, type InsightsGranularity, type ScopedStrata } from '@strata/core';
import type { FastifyInstance } from 'fastify';
import { BadRequestError, NotFoundError } from './httpErrors.js';
import { RANGE_PAGE_PROPERTIES, integerParameter, parseRange, querySchema, stringParameter, type QueryValues } from './queryParameters.js';
import type { RequestScopes } from './requestScopes.js';

/** The insights questions, as `GET /v1/insights/:question` names them. */
export const INSIGHTS_QUESTIONS = ['commonQuestions', 'userBehaviour', 'contentEffectiveness', 'businessMetrics', 'trendingQueries', 'systemPerformance'] as const;
export type InsightsQuestion = (typeof INSIGHTS_QUESTIONS)[number];

/** Parameters only some questions take, on top of from, to, role, limit and cursor. */
const EXTRA_PROPERTIES: Record<InsightsQuestion, Record<string, Record<string, unknown>>> = {
  commonQuestions: {},
  userBehaviour: {},
  contentEffectiveness: {},
  businessMetrics: {},
  trendingQueries: { recentDays: { type: 'integer', minimum: 1, maximum: 3_650 }, baselineDays: { type: 'integer', minimum: 1, maximum: 3_650 } },
  systemPerformance: { granularity: { type: 'string', enum: ['minute', 'hour', 'day'] }, metric: { type: 'string', minLength: 1, maxLength: 200 } },
};

export interface InsightsRoutesOptions {
  scopes: RequestScopes;
  now: () => number;
}

/** The read API: who am I, the insights questions, the report, status, and raw interactions (for roles with `read`). */
export async function registerInsightsRoutes(app: FastifyInstance, options: InsightsRoutesOptions): Promise<void> {
  const { scopes, now } = options;

  app.get('/v1/whoami', async (request) => {
    const { principal } = scopes.of(request);
    return {
      name: principal.name,
      role: principal.role,
      permissions: ROLE_PERMISSIONS[principal.role],
      operations: OPERATIONS.filter((operation) => missingPermissions(principal.role, operation).length === 0),
    };
  });

  for (const question of INSIGHTS_QUESTIONS) {
    app.get(`/v1/insights/${question}`, { schema: { querystring: querySchema({ ...RANGE_PAGE_PROPERTIES, ...EXTRA_PROPERTIES[question] }) } }, async (request) => {
      const query = request.query as QueryValues;
      const scoped = scopes.of(request);
      const base = {
        range: parseRange(query, now()),
        userRole: stringParameter(query, 'role'),
        limit: integerParameter(query, 'limit'),
        cursor: stringParameter(query, 'cursor'),
      };
      const ask = (cursor: string | undefined, limit = base.limit) => askQuestion(scoped, question, { ...base, cursor, limit }, query);
      return withCursorCheck(base.cursor, () => ask(base.cursor), () => ask(undefined, 1));
    });
  }

  app.get('/v1/insights/:question', async (request) => {
    const { question } = request.params as { question: string };
    throw new NotFoundError(`there is no insights question "${question}"; the questions are ${INSIGHTS_QUESTIONS.join(', ')}`);
  });

  app.get(
    '/v1/report',
    { schema: { querystring: querySchema({ from: RANGE_PAGE_PROPERTIES.from, to: RANGE_PAGE_PROPERTIES.to, role: RANGE_PAGE_PROPERTIES.role, top: { type: 'integer', minimum: 1, maximum: 100 } }) } },
    async (request) => {
      const query = request.query as QueryValues;
      return scopes.of(request).report({ range: parseRange(query, now()), userRole: stringParameter(query, 'role'), topN: integerParameter(query, 'top') });
    },
  );

  app.get(
    '/v1/interactions',
    { schema: { querystring: querySchema({ ...RANGE_PAGE_PROPERTIES, queryType: { type: 'string', minLength: 1, maxLength: 64 } }) } },
    async (request) => {
      const query = request.query as QueryValues;
      const scoped = scopes.of(request);
      const base = {
        range: parseRange(query, now()),
        userRole: stringParameter(query, 'role'),
        queryType: stringParameter(query, 'queryType'),
        limit: integerParameter(query, 'limit') ?? 50,
      };
      const cursor = stringParameter(query, 'cursor');
      return withCursorCheck(
        cursor,
        () => scoped.queryInteractions({ ...base, cursor }),
        () => scoped.queryInteractions({ ...base, limit: 1 }),
      );
    },
  );

  app.get('/v1/status', async (request) => scopes.of(request).status());
}

function askQuestion(scoped: ScopedStrata, question: InsightsQuestion, base: { range: ReturnType<typeof parseRange>; userRole?: string; limit?: number; cursor?: string }, query: QueryValues): Promise<unknown> {
  const { insights } = scoped;
  switch (question) {
    case 'commonQuestions':
      return insights.commonQuestions(base);
    case 'userBehaviour':
      return insights.userBehaviour(base);
    case 'contentEffectiveness':
      return insights.contentEffectiveness(base);
    case 'businessMetrics':
      return insights.businessMetrics(base);
    case 'trendingQueries':
      return insights.trendingQueries({ ...base, recentDays: integerParameter(query, 'recentDays'), baselineDays: integerParameter(query, 'baselineDays') });
    case 'systemPerformance': {
      const granularity = stringParameter(query, 'granularity') as InsightsGranularity | undefined;
      return insights.systemPerformance({ ...base, granularity, metricName: stringParameter(query, 'metric') });
    }
  }
}

/**
 * A cursor is opaque, so only the tier can tell a stale or forged one. Strata's tiers say so with a
 * validation error on `cursor`, answered 400 as the query parameter. A tier that says so with a
 * storage error instead (a third party's) is told apart by asking again without the cursor: when
 * that succeeds, the cursor was the client's mistake (400), not the server's (503).
 */
async function withCursorCheck<T>(cursor: string | undefined, call: () => Promise<T>, probeWithoutCursor: () => Promise<unknown>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (cursor !== undefined && error instanceof ValidationError && error.issues.some((issue) => issue.path === 'cursor')) {
      throw new BadRequestError(error.issues.map((issue) => ({ path: issue.path === 'cursor' ? 'query.cursor' : issue.path, message: issue.message })));
    }
    if (cursor === undefined || !(error instanceof StrataError) || error.code !== 'STRATA_STORAGE_FAILED') throw error;
    try {
      await probeWithoutCursor();
    } catch {
      throw error;
    }
    throw new BadRequestError([{ path: 'query.cursor', message: `${error.message}` }]);
  }
}
