import { hashQuery, normalizeQuery } from '@strata/core';
import type { Finding, FindingKind } from './finding.js';

/** The kinds of finding that quote question texts. */
export const QUOTING_KINDS: readonly FindingKind[] = ['question-trending-up', 'question-trending-down', 'unanswered-cluster'];

/**
 * The query hashes of the questions a finding quotes: a trending question's own (its subject), an
 * unanswered cluster's examples (`details.questions`, normalised texts as the insights API gives them).
 */
export function quotedQuestionHashes(finding: Finding): string[] {
  if (finding.kind === 'question-trending-up' || finding.kind === 'question-trending-down') {
    const hash = finding.details.queryHash;
    return [typeof hash === 'string' ? hash : hashQuery(normalizeQuery(finding.subject))];
  }
  if (finding.kind === 'unanswered-cluster') {
    const questions = finding.details.questions;
    return (Array.isArray(questions) ? questions : []).map((question) => hashQuery(normalizeQuery(question)));
  }
  return [];
}
