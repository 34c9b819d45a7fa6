import { ssnValid } from './checksums.js';
import { DIGITS, findWithRegex, type Finding, type Recogniser } from './recogniser.js';

function validSsnText(text: string): boolean {
  const digits = text.replace(/\D/g, '');
  return digits.length === 9 && ssnValid(digits.slice(0, 3), digits.slice(3, 5), digits.slice(5));
}

/**
 * US Social Security numbers: `123-45-6789` or `123 45 6789` (the same separator twice) anywhere,
 * and nine bare digits only right after "SSN" or "social security". Ranges never issued are not
 * SSNs: area 000, 666 and 900–999, group 00, serial 0000.
 */
export function createSsnRecogniser(placeholder = '<SSN>'): Recogniser {
  const formatted = /(?<![\w\-./])\d{3}([- ])\d{2}\1\d{4}(?!\w|[\-./]\d)/g;
  const afterKeyword = /(?<![A-Za-z])(?:ssn|social security(?: number| no\.?| #)?|ss#)(?![A-Za-z])[^\d\n]{0,20}(\d{3}[- ]?\d{2}[- ]?\d{4})(?!\w|[\-./]\d)/dgi;
  return {
    name: 'ssn',
    placeholder,
    trigger: /\d{3}[- ]?\d{2}[- ]?\d{4}/,
    triggerHint: { chars: DIGITS },
    find(text: string, found: Finding[]): void {
      findWithRegex(formatted, text, 'ssn', placeholder, found, { validate: validSsnText });
      findWithRegex(afterKeyword, text, 'ssn', placeholder, found, { group: 1, validate: validSsnText });
    },
  };
}
