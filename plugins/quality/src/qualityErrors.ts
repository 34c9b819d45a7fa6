import { StrataError } from '@strata/core';

/**
 * A business rule is not in the rule language. Names the rule, the 1-based character position
 * and what was expected there, so the config can be fixed without guessing.
 */
export class RuleSyntaxError extends StrataError {
  readonly rule: string;
  /** 1-based character position in the rule's text. */
  readonly position: number;
  readonly reason: string;

  constructor(rule: string, position: number, reason: string) {
    super('STRATA_CONFIG_INVALID', `quality: rule "${rule}" at position ${position}: ${reason}`);
    this.rule = rule;
    this.position = position;
    this.reason = reason;
  }
}

/** The configuration cannot be served: no hot tier, or one this plugin cannot read. */
export class QualitySetupError extends StrataError {
  constructor(message: string) {
    super('STRATA_CONFIG_INVALID', `quality: ${message}`);
  }
}

/** The quality history database cannot be opened or written. */
export class QualityStoreError extends StrataError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('STRATA_STORAGE_FAILED', `quality: ${message}`, options);
  }
}
