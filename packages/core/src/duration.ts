import { StrataError } from './errors.js';

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};

/**
 * Parses a duration such as `30d`, `12h`, `15m`, `500ms` or `1y` into milliseconds.
 * Returns undefined when the text is not a duration, so callers can name the field in their error.
 */
export function parseDuration(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w|y)\s*$/i.exec(text);
  if (!match) return undefined;
  const amount = Number(match[1]);
  const unit = UNIT_MS[match[2]!.toLowerCase()]!;
  return Math.round(amount * unit);
}

/** Like parseDuration, but throws a config error naming `field`. */
export function requireDuration(text: string, field: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) {
    throw new StrataError('STRATA_CONFIG_INVALID', `${field}: expected a duration such as 30d, 12h or 15m, got ${JSON.stringify(text)}`);
  }
  return ms;
}
