import { setTimeout as sleep } from 'node:timers/promises';

/** A knowledge item an answer used, as Strata records it in `content`. */
export interface KnowledgeItem {
  type: 'career_kb' | 'code_snippet' | 'mma_link';
  id: string;
  /** How relevant the retriever found it, 0–1. */
  relevance: number;
}

export interface ModelAnswer {
  text: string;
  /** technical | career | mma | fun | general: Strata's built-in query types. */
  queryType: string;
  /** False when nothing matched and the model could only apologise. */
  found: boolean;
  content: KnowledgeItem[];
  citations: number;
  codeSnippets: number;
}

interface CannedTopic {
  queryType: string;
  keywords: string[];
  text: string;
  content: KnowledgeItem[];
}

// The stand-in for a real model: the topic with the most keyword hits answers. Deterministic, so
// the example runs offline and its tests know what each question records.
const TOPICS: CannedTopic[] = [
  {
    queryType: 'technical',
    keywords: ['typescript', 'python', 'code', 'bug', 'error', 'api', 'sql', 'function', 'example'],
    text: 'Here is how Noah would write it in TypeScript:\n```ts\nconst byId = new Map(items.map((item) => [item.id, item]));\n```\nSee the snippet library for more.',
    content: [
      { type: 'code_snippet', id: 'ts-map-by-id', relevance: 0.92 },
      { type: 'career_kb', id: 'stack-typescript', relevance: 0.55 },
    ],
  },
  {
    queryType: 'career',
    keywords: ['experience', 'job', 'role', 'hire', 'hiring', 'resume', 'project', 'projects', 'work', 'team'],
    text: 'Noah has eight years of backend experience, most recently leading a data platform team [1]. His projects include an analytics pipeline and an AI assistant [2].',
    content: [
      { type: 'career_kb', id: 'work-history', relevance: 0.88 },
      { type: 'career_kb', id: 'projects', relevance: 0.74 },
    ],
  },
  {
    queryType: 'mma',
    keywords: ['mma', 'fight', 'bjj', 'jiu', 'wrestling', 'boxing', 'submission', 'training'],
    text: 'Start with two grappling and one striking session a week; this guide explains why [1].',
    content: [{ type: 'mma_link', id: 'beginner-training-plan', relevance: 0.81 }],
  },
  {
    queryType: 'fun',
    keywords: ['joke', 'fun', 'favourite', 'favorite', 'hobby', 'weekend'],
    text: 'Why do programmers prefer dark mode? Because light attracts bugs.',
    content: [],
  },
  {
    queryType: 'general',
    keywords: ['hello', 'hi', 'hey', 'help', 'who'],
    text: 'Hi! Ask me about Noah’s work, code examples, or MMA training.',
    content: [],
  },
];

const FALLBACK: CannedTopic = { queryType: 'general', keywords: [], text: 'I do not know that one yet. Try asking about projects, code or training.', content: [] };

/** The topic whose keywords the question mentions most; the fallback when it mentions none. */
export function pickTopic(question: string): { topic: CannedTopic; found: boolean } {
  const words = new Set(question.toLowerCase().match(/[a-z]+/g) ?? []);
  let best: CannedTopic | undefined;
  let bestHits = 0;
  for (const topic of TOPICS) {
    const hits = topic.keywords.filter((keyword) => words.has(keyword)).length;
    if (hits > bestHits) [best, bestHits] = [topic, hits];
  }
  return best ? { topic: best, found: true } : { topic: FALLBACK, found: false };
}

/**
 * Answers after a simulated think time (`thinkMs` plus a little per knowledge item), like a model
 * that retrieves, then generates.
 */
export async function askModel(question: string, thinkMs: number): Promise<ModelAnswer> {
  const { topic, found } = pickTopic(question);
  await sleep(thinkMs + topic.content.length * Math.ceil(thinkMs / 10));
  return {
    text: topic.text,
    queryType: topic.queryType,
    found,
    content: topic.content.map((item) => ({ ...item })),
    citations: topic.content.filter((item) => item.type !== 'code_snippet').length,
    codeSnippets: topic.content.filter((item) => item.type === 'code_snippet').length,
  };
}
