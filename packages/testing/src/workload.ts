import type { InteractionInput } from '@strata/core';
import { createRandom, type Random } from './random.js';

export interface WorkloadOptions {
  /** How many interactions to produce. */
  events: number;
  /** Same seed, same workload. Default 1. */
  seed?: number;
  /** Epoch ms of the first session. Default: `days` before 2026-01-01. */
  start?: number;
  /** Days the sessions are spread over. Default 30. */
  days?: number;
  /** Prefix of generated event ids, so two workloads can be told apart. Default `ev`. */
  idPrefix?: string;
  /** Emit timestamps as ISO strings (like most producers) instead of epoch ms. Default true. */
  isoTimestamps?: boolean;
  /** Include raw ipAddress and userAgent, as an assistant server would send them. Default true. */
  networkFields?: boolean;
}

const ROLES = [
  ['software_engineer', 34],
  ['hiring_manager', 14],
  ['recruiter', 18],
  ['student', 20],
  ['casual_visitor', 14],
] as const;

const QUERY_TYPES = [
  ['technical', 38],
  ['career', 27],
  ['mma', 10],
  ['fun', 8],
  ['general', 17],
] as const;

const QUESTIONS: Record<string, readonly string[]> = {
  technical: [
    'How do I set up a Python virtual environment for {topic}?',
    'Can you explain how {topic} works under the hood?',
    'What is the difference between {topic} and {other}?',
    'Show me an example of {topic} in TypeScript',
    'Why does my {topic} code throw a null pointer error?',
    'What are best practices for {topic} in production?',
    'How would you design a system around {topic}?',
  ],
  career: [
    'What projects has Noah built with {topic}?',
    'How many years of experience does Noah have with {topic}?',
    'Is Noah open to roles involving {topic}?',
    'Can you summarise Noah\'s work history?',
    'What was Noah\'s biggest achievement at his last job?',
    'Does Noah have leadership experience?',
  ],
  mma: [
    'What is the best way to train for a first amateur MMA fight?',
    'Who would win between a wrestler and a boxer?',
    'How should I cut weight safely before a weigh-in?',
    'What submissions should a beginner learn first?',
  ],
  fun: ['Tell me a joke about {topic}', 'What is your favourite programming language and why?', 'Write a haiku about {topic}'],
  general: [
    'What can you help me with?',
    'How does this assistant work?',
    'Where can I find Noah\'s resume?',
    'What time zone is Noah in?',
    'How do I contact Noah about {topic}?',
  ],
};

const TOPICS = ['React hooks', 'PostgreSQL indexes', 'Kubernetes', 'RAG pipelines', 'vector databases', 'async Rust', 'SQLite WAL mode', 'LLM evaluation', 'CI pipelines', 'GraphQL'];

const CONTENT: Record<string, ReadonlyArray<readonly [string, number]>> = {
  technical: [['code_snippet', 40], ['career_kb', 5]],
  career: [['career_kb', 60]],
  mma: [['mma_link', 25]],
  fun: [['career_kb', 10]],
  general: [['career_kb', 20]],
};

const USER_AGENTS = [
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
];

const DAY_MS = 86_400_000;

/**
 * Produces a realistic assistant workload: sessions of 1–8 turns from a mix of roles, questions
 * with popular repeats, log-normal response times, sparse ratings, and the knowledge items used.
 * Deterministic for a seed. Events are roughly in time order, about 500 bytes each as JSON.
 */
export function* generateWorkload(options: WorkloadOptions): Generator<InteractionInput> {
  const random = createRandom(options.seed ?? 1);
  const days = options.days ?? 30;
  const start = options.start ?? Date.UTC(2026, 0, 1) - days * DAY_MS;
  const span = days * DAY_MS;
  const prefix = options.idPrefix ?? 'ev';
  const iso = options.isoTimestamps ?? true;
  const network = options.networkFields ?? true;
  let produced = 0;
  let sessionIndex = 0;
  while (produced < options.events) {
    sessionIndex += 1;
    const turns = Math.min(options.events - produced, random.weighted([[1, 30], [2, 22], [3, 16], [4, 12], [5, 8], [6, 6], [8, 6]]));
    // Sessions spread evenly over the span, so the event rate is steady across days.
    let time = start + Math.floor((produced / options.events) * span) + random.int(0, 60_000);
    const sessionId = `sess-${options.seed ?? 1}-${sessionIndex.toString(36)}-${random.int(0, 0xffffff).toString(16)}`;
    const userRole = random.weighted(ROLES);
    const ipAddress = `${random.int(11, 223)}.${random.int(0, 255)}.${random.int(0, 255)}.${random.int(1, 254)}`;
    const userAgent = random.pick(USER_AGENTS);
    for (let turn = 1; turn <= turns; turn += 1) {
      yield makeInteraction(random, {
        eventId: `${prefix}-${options.seed ?? 1}-${produced}`,
        sessionId,
        userRole,
        turn,
        time,
        iso,
        ipAddress: network ? ipAddress : undefined,
        userAgent: network ? userAgent : undefined,
      });
      produced += 1;
      time += random.int(15_000, 240_000);
    }
  }
}

interface TurnContext {
  eventId: string;
  sessionId: string;
  userRole: string;
  turn: number;
  time: number;
  iso: boolean;
  ipAddress: string | undefined;
  userAgent: string | undefined;
}

function makeInteraction(random: Random, turn: TurnContext): InteractionInput {
  const queryType = random.weighted(QUERY_TYPES);
  const query = random
    .pick(QUESTIONS[queryType]!)
    .replace('{topic}', random.pick(TOPICS))
    .replace('{other}', random.pick(TOPICS));
  const success = random.next() < 0.93;
  const responseTime = Math.round(Math.min(45, random.logNormal(queryType === 'technical' ? 1.6 : 0.9, 0.55)) * 1000) / 1000;
  const contentKinds = CONTENT[queryType]!;
  const contentCount = random.int(0, 3);
  const content = Array.from({ length: contentCount }, () => {
    const [type] = random.pick(contentKinds);
    return { type, id: `${type}-${random.int(1, 120)}`, relevance: Math.round(random.next() * 1000) / 1000 };
  });
  const interaction: InteractionInput = {
    eventId: turn.eventId,
    sessionId: turn.sessionId,
    timestamp: turn.iso ? new Date(turn.time).toISOString() : turn.time,
    userRole: turn.userRole,
    query,
    queryType,
    responseTime,
    responseLength: random.int(120, 3200),
    codeSnippetsShown: queryType === 'technical' ? random.int(0, 3) : 0,
    citationsProvided: random.int(0, 3),
    success,
    conversationTurn: turn.turn,
    followUpQuery: turn.turn > 1,
    content,
  };
  if (random.next() < 0.3) interaction.userRating = success ? random.weighted([[3, 15], [4, 40], [5, 45]]) : random.int(1, 3);
  if (turn.ipAddress) interaction.ipAddress = turn.ipAddress;
  if (turn.userAgent) interaction.userAgent = turn.userAgent;
  return interaction;
}

/** The workload as JSON lines, for files and streams. */
export function* workloadLines(options: WorkloadOptions): Generator<string> {
  for (const event of generateWorkload(options)) yield JSON.stringify(event);
}
