const DAY_MS = 86_400_000;

/** The periods one analysis compares, epoch ms, half-open, on whole UTC days (the rollups' grain). */
export interface InsightWindows {
  /** End of every window: the end of the UTC day that holds `now`, as the trending question ends its window. */
  asOf: number;
  /** The last `recentDays` days before `asOf`. */
  recent: { from: number; to: number };
  /** The `baselineDays` days just before `recent`. */
  baseline: { from: number; to: number };
  /** The last `levelDays` days before `asOf`: where levels (content success, unanswered questions) are measured. */
  level: { from: number; to: number };
}

export function insightWindows(now: number, days: { recentDays: number; baselineDays: number; levelDays: number }): InsightWindows {
  // The tiers widen ranges outward to whole days; ending on a day boundary keeps every read the same shape.
  const asOf = Math.ceil(now / DAY_MS) * DAY_MS;
  const recentFrom = asOf - days.recentDays * DAY_MS;
  return {
    asOf,
    recent: { from: recentFrom, to: asOf },
    baseline: { from: recentFrom - days.baselineDays * DAY_MS, to: recentFrom },
    level: { from: asOf - days.levelDays * DAY_MS, to: asOf },
  };
}
