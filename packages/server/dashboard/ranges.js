// The time ranges the page asks for: whole UTC days, ending with today, so a "7 days" chart has
// exactly seven daily points and matches the API's daily rollups.

export const DAY_MS = 86_400_000;
export const PRESET_DAYS = { '7d': 7, '30d': 30, '90d': 90 };

export function startOfUtcDay(ms) {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

/** `{ preset, from, to, days }` for 7d/30d/90d: the last `days` UTC days, today included. */
export function presetRange(preset, now = Date.now()) {
  const days = PRESET_DAYS[preset];
  if (!days) throw new Error(`unknown range ${preset}`);
  const to = startOfUtcDay(now) + DAY_MS;
  return { preset, from: to - days * DAY_MS, to, days };
}

/** A custom range from two `YYYY-MM-DD` dates, both included. Returns `{ error }` when it is not one. */
export function customRange(fromDate, toDate) {
  const from = Date.parse(`${fromDate}T00:00:00Z`);
  const last = Date.parse(`${toDate}T00:00:00Z`);
  if (!Number.isFinite(from) || !Number.isFinite(last)) return { error: 'pick both dates' };
  if (last < from) return { error: 'the end date is before the start date' };
  const days = Math.round((last - from) / DAY_MS) + 1;
  if (days > 3_650) return { error: 'pick at most ten years' };
  return { preset: 'custom', from, to: last + DAY_MS, days };
}

/** Every day of the range, as epoch ms of 00:00 UTC. */
export function daysOf(range) {
  const days = [];
  for (let day = range.from; day < range.to; day += DAY_MS) days.push(day);
  return days;
}
