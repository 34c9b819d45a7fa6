import type { CommonQuestion } from '@strata/core';
import type { Finding } from './finding.js';
import { compareText, type FindingRule } from './findingRule.js';
import { percent, round, successesOf } from './findingStatistics.js';

/** Words too common in questions to say what a question is about. */
const STOP_WORDS = new Set(
  (
    'the and for with how what why when where who whom which whose does did doing done can could would should will shall may might must ' +
    'you your yours are was were been being have has had not but nor yet also than then there their they them this that these those ' +
    'about from into onto over under between after before during its it\'s his her hers our ours out off any all some each every ' +
    'tell show explain give get got use using used make made best way ways please help need want know like just more most very much ' +
    'one two there\'s what\'s how\'s i\'m don\'t can\'t'
  ).split(' '),
);

/** The distinct significant words of a normalised question: letters and digits, 3+ characters, not a stop word, not only digits. */
export function questionTokens(text: string): string[] {
  const tokens = new Set<string>();
  for (const word of text.toLowerCase().split(/[^\p{L}\p{N}']+/u)) {
    const token = word.replace(/^'+|'+$/g, '');
    if (token.length >= 3 && !STOP_WORDS.has(token) && !/^\p{N}+$/u.test(token)) tokens.add(token);
  }
  return [...tokens];
}

interface Candidate {
  question: CommonQuestion;
  failed: number;
  tokens: string[];
}

/**
 * Questions people keep asking that the assistant does not answer, grouped by a shared word.
 * Over the level window, a question is unanswered when asked at least `minAsks` times with a
 * success rate under `maxSuccessRate`. Greedy, deterministic grouping: of the words shared by at
 * least `minQuestions` unanswered questions not yet in a cluster, take the one whose questions
 * (all of them, answered or not) fail most often — the word that best marks failure — ties to
 * the word covering more questions, then alphabetical; its unanswered questions form a cluster
 * if they failed at least `minFailedAsks` times together; repeat until no word qualifies.
 */
export const unansweredClusterRule: FindingRule = {
  kind: 'unanswered-cluster',
  async find({ reads, windows, options }) {
    const { minAsks, maxSuccessRate, minQuestions, minFailedAsks } = options.unanswered;
    const { items } = await reads.questions(windows.level);
    // How often each word's questions fail, over every question of the window.
    const wordAsks = new Map<string, { asks: number; failed: number }>();
    const unassigned: Candidate[] = [];
    for (const question of items) {
      const tokens = questionTokens(question.query);
      const failed = question.asks - successesOf(question.successRate, question.asks);
      for (const token of tokens) {
        const totals = wordAsks.get(token) ?? { asks: 0, failed: 0 };
        totals.asks += question.asks;
        totals.failed += failed;
        wordAsks.set(token, totals);
      }
      if (question.asks >= minAsks && question.successRate < maxSuccessRate) unassigned.push({ question, failed, tokens });
    }

    const findings: Finding[] = [];
    const rejected = new Set<string>();
    while (findings.length < options.maxPerKind) {
      const word = bestWord(unassigned, wordAsks, rejected, minQuestions);
      if (word === undefined) break;
      const members = unassigned.filter((candidate) => candidate.tokens.includes(word));
      const asks = members.reduce((sum, member) => sum + member.question.asks, 0);
      const failed = members.reduce((sum, member) => sum + member.failed, 0);
      if (failed < minFailedAsks) {
        rejected.add(word);
        continue;
      }
      for (const member of members) unassigned.splice(unassigned.indexOf(member), 1);
      const totals = wordAsks.get(word)!;
      const successRate = (asks - failed) / asks;
      const questions = members
        .map((member) => member.question)
        .sort((a, b) => b.asks - a.asks || compareText(a.query, b.query));
      findings.push({
        kind: 'unanswered-cluster',
        severity: 'warning',
        subject: word,
        summary:
          `${members.length} questions mentioning "${word}" were asked ${asks} times in the last ${options.levelDays} days and answered successfully ${percent(successRate)} of the time ` +
          `(every question with "${word}": ${percent(1 - totals.failed / totals.asks)} of ${totals.asks} asks), e.g. "${questions[0]!.query}": add content that answers them.`,
        numbers: { questions: members.length, asks, failedAsks: failed, successRate: round(successRate), wordAsks: totals.asks, wordSuccessRate: round(1 - totals.failed / totals.asks) },
        details: { word, questions: questions.slice(0, 5).map((question) => question.query) },
        window: { ...windows.level },
      });
    }
    return findings;
  },
};

function bestWord(unassigned: readonly Candidate[], wordAsks: ReadonlyMap<string, { asks: number; failed: number }>, rejected: ReadonlySet<string>, minQuestions: number): string | undefined {
  const covered = new Map<string, number>();
  for (const candidate of unassigned) {
    for (const token of candidate.tokens) if (!rejected.has(token)) covered.set(token, (covered.get(token) ?? 0) + 1);
  }
  let best: { word: string; failShare: number; questions: number } | undefined;
  for (const [word, questions] of covered) {
    if (questions < minQuestions) continue;
    const totals = wordAsks.get(word)!;
    const failShare = totals.failed / totals.asks;
    if (!best || failShare > best.failShare || (failShare === best.failShare && (questions > best.questions || (questions === best.questions && word < best.word)))) {
      best = { word, failShare, questions };
    }
  }
  return best?.word;
}
