import { createCardRecogniser } from './cardRecogniser.js';
import { createEmailRecogniser } from './emailRecogniser.js';
import { createIbanRecogniser } from './ibanRecogniser.js';
import { createIpRecogniser } from './ipRecogniser.js';
import { createPhoneRecogniser } from './phoneRecogniser.js';
import type { Recogniser } from './recogniser.js';
import { createSecretRecogniser } from './secretRecogniser.js';
import { createSsnRecogniser } from './ssnRecogniser.js';

/**
 * The built-in recognisers, in priority order: when two findings start at the same place and have
 * the same length, the earlier type names it (a secret before an email, an SSN before a phone).
 */
export const BUILT_IN_RECOGNISERS = ['secret', 'email', 'card', 'iban', 'ssn', 'ip', 'phone'] as const;

export type BuiltInRecogniserName = (typeof BUILT_IN_RECOGNISERS)[number];

/** Placeholder of each built-in type. */
export const BUILT_IN_PLACEHOLDERS: Readonly<Record<BuiltInRecogniserName, string>> = {
  secret: '<SECRET>',
  email: '<EMAIL>',
  card: '<CARD>',
  iban: '<IBAN>',
  ssn: '<SSN>',
  ip: '<IP>',
  phone: '<PHONE>',
};

const FACTORIES: Readonly<Record<BuiltInRecogniserName, (placeholder: string) => Recogniser>> = {
  secret: createSecretRecogniser,
  email: createEmailRecogniser,
  card: createCardRecogniser,
  iban: createIbanRecogniser,
  ssn: createSsnRecogniser,
  ip: createIpRecogniser,
  phone: createPhoneRecogniser,
};

/** Fresh instances of the enabled built-ins (each owns its regexes), in priority order. */
export function createBuiltInRecognisers(enabled: Partial<Record<BuiltInRecogniserName, boolean>> = {}): Recogniser[] {
  return BUILT_IN_RECOGNISERS.filter((name) => enabled[name] !== false).map((name) => FACTORIES[name](BUILT_IN_PLACEHOLDERS[name]));
}
