import { randomBytes } from 'node:crypto';
import { ValidationError, type Issue } from '@strata/core';
import { checkLabelMatcher, matchesAll, parseLabelMatcher, type LabelMatcher } from './labelMatcher.js';

/**
 * Mutes notifications of the alerts its matchers select, from `startsAt` until `endsAt`. A
 * silenced alert is still evaluated and recorded; only notifications about it are held back.
 */
export interface Silence {
  id: string;
  matchers: LabelMatcher[];
  startsAt: number;
  endsAt: number;
  createdAt: number;
  createdBy: string;
  comment: string;
}

export interface SilenceInput {
  /** `label=value`, `label!=value`, `label=~regex`, `label!~regex`, or matcher objects; at least one. */
  matchers: ReadonlyArray<string | LabelMatcher>;
  /** Epoch ms; default now. */
  startsAt?: number;
  /** Epoch ms. Give this or `durationMs`. */
  endsAt?: number;
  /** Length from `startsAt`. */
  durationMs?: number;
  createdBy?: string;
  comment?: string;
}

/** Checks a silence request and builds the silence; every problem is reported at once, each with its field. */
export function buildSilence(input: SilenceInput, now: number): Silence {
  const issues: Issue[] = [];
  const matchers: LabelMatcher[] = [];
  if (!Array.isArray(input.matchers) || input.matchers.length === 0) {
    issues.push({ path: 'matchers', message: 'at least one matcher is required (a silence without one would mute every alert), such as alertname=HighErrorRate' });
  } else {
    for (const [index, given] of input.matchers.entries()) {
      const parsed = typeof given === 'string' ? parseLabelMatcher(given) : checkedObject(given);
      if ('problem' in parsed) issues.push({ path: `matchers[${index}]`, message: parsed.problem });
      else matchers.push(parsed);
    }
  }
  const startsAt = input.startsAt ?? now;
  if (!Number.isFinite(startsAt)) issues.push({ path: 'startsAt', message: 'must be a time (epoch ms)' });
  let endsAt: number | undefined;
  if (input.endsAt !== undefined && input.durationMs !== undefined) issues.push({ path: 'endsAt', message: 'give endsAt or a duration, not both' });
  else if (input.endsAt !== undefined) endsAt = input.endsAt;
  else if (input.durationMs !== undefined) {
    if (!Number.isFinite(input.durationMs) || input.durationMs <= 0) issues.push({ path: 'duration', message: 'must be a positive duration such as 2h' });
    else endsAt = startsAt + input.durationMs;
  } else issues.push({ path: 'endsAt', message: 'a silence needs an end: give endsAt or a duration such as 2h' });
  if (endsAt !== undefined) {
    if (!Number.isFinite(endsAt)) issues.push({ path: 'endsAt', message: 'must be a time (epoch ms)' });
    else if (endsAt <= startsAt) issues.push({ path: 'endsAt', message: `must be after the start (${new Date(startsAt).toISOString()})` });
    else if (endsAt <= now) issues.push({ path: 'endsAt', message: 'is already past; a silence must end in the future' });
  }
  if (issues.length > 0) throw new ValidationError(issues);
  return {
    id: randomBytes(6).toString('hex'),
    matchers,
    startsAt,
    endsAt: endsAt!,
    createdAt: now,
    createdBy: input.createdBy ?? 'unknown',
    comment: input.comment ?? '',
  };
}

function checkedObject(matcher: LabelMatcher): LabelMatcher | { problem: string } {
  if (typeof matcher !== 'object' || matcher === null || typeof matcher.label !== 'string' || typeof matcher.value !== 'string' || !['=', '!=', '=~', '!~'].includes(matcher.op)) {
    return { problem: 'expected "label=value" or { label, op: "=" | "!=" | "=~" | "!~", value }' };
  }
  const problem = checkLabelMatcher(matcher);
  return problem ? { problem } : { label: matcher.label, op: matcher.op, value: matcher.value };
}

export function isSilenceActive(silence: Silence, now: number): boolean {
  return silence.startsAt <= now && now < silence.endsAt;
}

/** Ids of the silences (assumed active) whose matchers all hold for these labels. */
export function silencesMatching(silences: readonly Silence[], labels: Readonly<Record<string, string>>): string[] {
  return silences.filter((silence) => matchesAll(silence.matchers, labels)).map((silence) => silence.id);
}
