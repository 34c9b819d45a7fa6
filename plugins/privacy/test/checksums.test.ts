import { describe, expect, it } from 'vitest';
import { cardPrefixValid, ibanValid, luhnValid, nanpValid, ssnValid } from '../src/index.js';

describe('checksums', () => {
  it('Luhn accepts test cards and rejects a changed digit', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('378282246310005')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
  });

  it('a card needs its network prefix and length as well', () => {
    expect(cardPrefixValid('4111111111111111')).toBe(true);
    expect(cardPrefixValid('378282246310005')).toBe(true);
    expect(cardPrefixValid('37828224631000')).toBe(false);
    expect(cardPrefixValid('1234567812345670')).toBe(false);
  });

  it('IBAN needs a known country, its exact length and mod 97', () => {
    expect(ibanValid('DE89370400440532013000')).toBe(true);
    expect(ibanValid('GB82WEST12345698765432')).toBe(true);
    expect(ibanValid('DE8937040044053201300')).toBe(false);
    expect(ibanValid('DE89370400440532013001')).toBe(false);
    expect(ibanValid('XX89370400440532013000')).toBe(false);
  });

  it('SSN excludes the ranges never issued', () => {
    expect(ssnValid('078', '05', '1120')).toBe(true);
    for (const [area, group, serial] of [['000', '12', '3456'], ['666', '12', '3456'], ['900', '12', '3456'], ['999', '12', '3456'], ['123', '00', '4567'], ['123', '45', '0000']] as const) {
      expect(ssnValid(area, group, serial), `${area}-${group}-${serial}`).toBe(false);
    }
  });

  it('NANP needs area code and exchange starting 2–9 and not N11', () => {
    expect(nanpValid('4155552671')).toBe(true);
    expect(nanpValid('9115552671')).toBe(false);
    expect(nanpValid('4151552671')).toBe(false);
    expect(nanpValid('4154112671')).toBe(false);
  });
});
