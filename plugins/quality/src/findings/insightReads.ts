import type { CommonQuestion, ContentEffectiveness, InsightsPage, InsightsProvider, RoleBehaviour, TimeRange } from '@strata/core';

/** Most rows read for one question over one window; a page is 1,000. */
export const MAX_ROWS_PER_READ = 20_000;
const PAGE_SIZE = 1_000;

/** Rows of one answer, and whether every row was read (false: the cap or `stopAfter` ended the read). */
export interface ReadRows<T> {
  items: T[];
  complete: boolean;
}

/**
 * The insights answers the rules share, each read once per analysis (two rules look at the
 * recent behaviour by role, two at content per window).
 */
export class InsightReads {
  private readonly answers = new Map<string, Promise<unknown>>();

  constructor(
    private readonly insights: InsightsProvider,
    private readonly signal?: AbortSignal,
  ) {}

  behaviour(range: Required<TimeRange>): Promise<RoleBehaviour[]> {
    return this.once(`behaviour:${range.from}:${range.to}`, async () => (await this.pages((cursor) => this.insights.userBehaviour({ range, limit: PAGE_SIZE, ...cursor }))).items);
  }

  content(range: Required<TimeRange>): Promise<ReadRows<ContentEffectiveness>> {
    return this.once(`content:${range.from}:${range.to}`, () => this.pages((cursor) => this.insights.contentEffectiveness({ range, limit: PAGE_SIZE, ...cursor })));
  }

  /** Questions most asked first; with `minAsks`, the read stops at the first question asked less. */
  questions(range: Required<TimeRange>, minAsks = 0): Promise<ReadRows<CommonQuestion>> {
    return this.once(`questions:${range.from}:${range.to}:${minAsks}`, () =>
      this.pages((cursor) => this.insights.commonQuestions({ range, limit: PAGE_SIZE, ...cursor }), (question) => question.asks < minAsks),
    );
  }

  private once<T>(key: string, read: () => Promise<T>): Promise<T> {
    let answer = this.answers.get(key) as Promise<T> | undefined;
    if (!answer) {
      answer = read();
      this.answers.set(key, answer);
    }
    return answer;
  }

  private async pages<T>(ask: (cursor: { cursor?: string }) => Promise<InsightsPage<T>>, stopAt?: (item: T) => boolean): Promise<ReadRows<T>> {
    const items: T[] = [];
    let cursor: string | null = null;
    do {
      this.signal?.throwIfAborted();
      const page: InsightsPage<T> = await ask(cursor ? { cursor } : {});
      for (const item of page.items) {
        if (stopAt?.(item)) return { items, complete: false };
        items.push(item);
        if (items.length >= MAX_ROWS_PER_READ) return { items, complete: page.nextCursor === null && item === page.items.at(-1) };
      }
      cursor = page.nextCursor;
    } while (cursor);
    return { items, complete: true };
  }
}
