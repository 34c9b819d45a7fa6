import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createStrata, type Strata } from '@strata/core';
import { RequestError, readJsonObject, send, sessionCookie, sessionOf, type Reply } from './http.js';
import { askModel } from './model.js';

/** The example's config: hot SQLite and the privacy processor, data in `./data`. */
const DEFAULT_CONFIG = fileURLToPath(new URL('../strata.config.json', import.meta.url));

export interface AssistantOptions {
  /** 0 picks a free port. Default 3000. */
  port?: number;
  /** Default 127.0.0.1: this example is not meant to face the internet. */
  host?: string;
  /** Strata config file. Default: the example's `strata.config.json`. */
  configPath?: string;
  /** Overrides the config's `dataDir`. */
  dataDir?: string;
  /** Simulated model think time per answer, in ms. Default 250. */
  thinkMs?: number;
}

export interface Assistant {
  readonly url: string;
  readonly strata: Strata;
  /** Stops taking requests, then closes Strata, which writes everything recorded. Idempotent. */
  close(): Promise<void>;
}

const ROLE = /^[a-z][a-z_]{0,63}$/;
// Turn counters live in memory; past this many sessions the least recently active are forgotten.
const MAX_TRACKED_SESSIONS = 10_000;

export async function startAssistant(options: AssistantOptions = {}): Promise<Assistant> {
  const strata = await createStrata({ configPath: options.configPath ?? DEFAULT_CONFIG, dataDir: options.dataDir });
  // /report acts for whoever calls it, so it reads through a least-privilege view that is audited.
  const reader = strata.as({ name: 'assistant:/report', role: 'viewer' });
  const turns = new Map<string, number>();
  const thinkMs = options.thinkMs ?? 250;

  async function chat(request: IncomingMessage): Promise<Reply> {
    const started = performance.now();
    const session = sessionOf(request);
    const body = await readJsonObject(request);
    const message = body.message;
    if (typeof message !== 'string' || message.trim() === '') throw new RequestError(400, 'message: must be a non-empty string');
    const role = body.role ?? request.headers['x-user-role'] ?? 'casual_visitor';
    if (typeof role !== 'string' || !ROLE.test(role)) throw new RequestError(400, 'role: must be 1–64 lower-case letters or _, such as recruiter');

    const turn = (turns.get(session.id) ?? 0) + 1;
    turns.delete(session.id); // re-inserting keeps the Map ordered by last activity
    turns.set(session.id, turn);
    if (turns.size > MAX_TRACKED_SESSIONS) turns.delete(turns.keys().next().value!);

    const answer = await askModel(message, thinkMs);
    const eventId = randomUUID(); // ours, so the user can rate this answer later
    strata.record({
      eventId,
      sessionId: session.id,
      timestamp: Date.now(),
      userRole: role,
      query: message,
      queryType: answer.queryType,
      responseTime: (performance.now() - started) / 1000,
      responseLength: answer.text.length,
      codeSnippetsShown: answer.codeSnippets,
      citationsProvided: answer.citations,
      success: answer.found,
      followUpQuery: turn > 1,
      conversationTurn: turn,
      content: answer.content,
      // Raw on purpose: the privacy processor turns them into keyed hashes before anything is stored.
      ipAddress: request.socket.remoteAddress,
      userAgent: request.headers['user-agent'],
    });
    return {
      status: 200,
      body: { eventId, turn, answer: answer.text, queryType: answer.queryType, content: answer.content },
      headers: session.isNew ? { 'set-cookie': sessionCookie(session.id) } : {},
    };
  }

  async function rate(request: IncomingMessage): Promise<Reply> {
    const { eventId, rating } = await readJsonObject(request);
    if (typeof eventId !== 'string' || eventId === '') throw new RequestError(400, 'eventId: must be the eventId /chat returned');
    if (typeof rating !== 'number' || !Number.isInteger(rating) || rating < 1 || rating > 5) throw new RequestError(400, 'rating: must be an integer from 1 to 5');
    const result = await strata.rate({ eventId, userRating: rating });
    if (result.status === 'not-found') return { status: 404, body: { error: `eventId: no recorded answer has id ${eventId}` } };
    return { status: 200, body: result };
  }

  async function report(): Promise<Reply> {
    const [summary, roles, questions, content] = await Promise.all([
      reader.report(),
      reader.insights.userBehaviour(),
      reader.insights.commonQuestions({ limit: 5 }),
      reader.insights.contentEffectiveness({ limit: 5 }),
    ]);
    const { totals } = summary;
    return {
      status: 200,
      body: {
        interactions: totals.interactions,
        sessions: totals.sessions,
        successRate: totals.successRate,
        avgResponseTime: totals.avgResponseTime,
        avgRating: totals.avgRating,
        ratedInteractions: totals.ratedInteractions,
        roles: roles.items.map((role) => ({ role: role.userRole, interactions: role.interactions, sessions: role.sessions, followUpRate: role.followUpRate })),
        topQuestions: questions.items.map((question) => ({ query: question.query, asks: question.asks, successRate: question.successRate })),
        topContent: content.items.map((item) => ({ type: item.contentType, id: item.contentId, uses: item.accesses, score: item.performanceScore })),
      },
    };
  }

  function route(request: IncomingMessage): Promise<Reply> {
    const path = new URL(request.url ?? '/', 'http://assistant').pathname;
    if (request.method === 'POST' && path === '/chat') return chat(request);
    if (request.method === 'POST' && path === '/rate') return rate(request);
    if (request.method === 'GET' && path === '/report') return report();
    return Promise.resolve({ status: 404, body: { error: `no route ${request.method} ${path}; try POST /chat, POST /rate or GET /report` } });
  }

  const server = createServer((request, response) => {
    route(request).then(
      (reply) => send(response, reply),
      (error: unknown) => {
        if (error instanceof RequestError) return send(response, { status: error.status, body: { error: error.message } });
        strata.logger.error({ err: error }, 'assistant: request failed');
        send(response, { status: 500, body: { error: 'internal error' } });
      },
    );
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 3000, options.host ?? '127.0.0.1', resolve);
    });
  } catch (error) {
    await strata.close();
    throw error;
  }

  const { address, port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    strata,
    close: () =>
      (closing ??= (async () => {
        // Stop taking requests first, so nothing is recorded after Strata began to close.
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await strata.close();
      })()),
  };
}
