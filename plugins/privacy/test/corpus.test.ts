import { PII_NEGATIVE_TEXTS, PII_POSITIVE_CASES, PII_TYPES, type PiiType } from '@strata/testing';
import { describe, expect, it } from 'vitest';
import { createScrubber, type Finding } from '../src/index.js';

const scrubber = createScrubber();

interface TypeScore {
  expected: number;
  found: number;
  /** Findings of this type that are a labelled value of this type, at exactly its span. */
  correct: number;
}

/** Per-type counts over the corpus: a finding is correct only if type and span both match a labelled value. */
function score(): { byType: Record<PiiType, TypeScore>; falsePositives: Array<{ text: string; finding: string }> } {
  const byType = Object.fromEntries(PII_TYPES.map((type) => [type, { expected: 0, found: 0, correct: 0 }])) as Record<PiiType, TypeScore>;
  const falsePositives: Array<{ text: string; finding: string }> = [];
  const count = (finding: Finding) => {
    const entry = byType[finding.recogniser as PiiType];
    if (entry) entry.found += 1;
  };
  for (const { text, pii } of PII_POSITIVE_CASES) {
    const findings = scrubber.find(text);
    findings.forEach(count);
    for (const value of pii) {
      byType[value.type].expected += 1;
      if (findings.some((finding) => finding.recogniser === value.type && finding.start === value.start && finding.end === value.start + value.value.length)) {
        byType[value.type].correct += 1;
      }
    }
  }
  for (const text of PII_NEGATIVE_TEXTS) {
    const findings = scrubber.find(text);
    findings.forEach(count);
    for (const finding of findings) falsePositives.push({ text, finding: `${finding.recogniser}: ${text.slice(finding.start, finding.end)}` });
  }
  return { byType, falsePositives };
}

describe('the PII corpus', () => {
  const { byType, falsePositives } = score();

  it('has at least 200 positive and 200 negative cases, and at least 30 values of every type', () => {
    expect(PII_POSITIVE_CASES.length).toBeGreaterThanOrEqual(200);
    expect(PII_NEGATIVE_TEXTS.length).toBeGreaterThanOrEqual(200);
    for (const type of PII_TYPES) expect(byType[type].expected, type).toBeGreaterThanOrEqual(30);
  });

  for (const type of PII_TYPES) {
    it(`finds at least 98% of the ${type} values, each at exactly its span`, () => {
      const { expected, correct } = byType[type];
      expect(correct / expected).toBeGreaterThanOrEqual(0.98);
    });

    it(`reports ${type} only where a ${type} value is (precision at least 98%)`, () => {
      const { found, correct } = byType[type];
      expect(found).toBeGreaterThan(0);
      expect(correct / found).toBeGreaterThanOrEqual(0.98);
    });
  }

  it('finds nothing in any negative text', () => {
    expect(falsePositives).toEqual([]);
  });

  it('leaves no labelled value in the scrubbed text', () => {
    const left = PII_POSITIVE_CASES.flatMap(({ text, pii }) => {
      const scrubbed = scrubber.scrub(text);
      return pii.filter((value) => scrubbed.includes(value.value)).map((value) => `${value.type} ${value.value} in ${scrubbed}`);
    });
    expect(left).toEqual([]);
  });
});
