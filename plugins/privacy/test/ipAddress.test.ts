import { isIPv4, isIPv6 } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalIp, isIPv4At, isIPv6At, parseIPv4, parseIPv6 } from '../src/index.js';

/** Strings made of the pieces IP text is made of, so most are near misses of real addresses. */
const ipLike = fc
  .array(fc.constantFrom('0', '1', '9', '25', '255', '256', '01', 'a', 'f', 'ffff', 'g', '12345', '.', ':', '::', 'db8', '2001', '192.0.2.1'), { maxLength: 14 })
  .map((parts) => parts.join(''));

describe('IP parsing', () => {
  it('agrees with node:net on IPv4 for text built from IP-like pieces', () => {
    fc.assert(
      fc.property(ipLike, (text) => {
        expect(parseIPv4(text) !== null).toBe(isIPv4(text));
        expect(isIPv4At(text, 0, text.length)).toBe(isIPv4(text));
      }),
      { numRuns: 3_000 },
    );
  });

  it('agrees with node:net on IPv6 for text built from IP-like pieces', () => {
    fc.assert(
      fc.property(ipLike, (text) => {
        expect(parseIPv6(text) !== null).toBe(isIPv6(text));
        expect(isIPv6At(text, 0, text.length)).toBe(isIPv6(text));
      }),
      { numRuns: 3_000 },
    );
  });

  it('reads the groups of compressed and IPv4-tailed IPv6', () => {
    expect(parseIPv6('2001:db8::1')).toEqual([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
    expect(parseIPv6('::ffff:192.0.2.1')).toEqual([0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201]);
    expect(parseIPv6('1::2::3')).toBeNull();
  });

  it('spells one address one way before it is pseudonymised', () => {
    expect(canonicalIp(' 2001:DB8:0:0:0:0:0:1 ')).toBe('2001:db8::1');
    expect(canonicalIp('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(canonicalIp('[fe80::1]')).toBe('fe80::1');
    expect(canonicalIp('fe80::1%eth0')).toBe('fe80::1');
    expect(canonicalIp('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(canonicalIp('not an ip')).toBeNull();
  });
});
