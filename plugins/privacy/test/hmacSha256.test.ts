import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHmacSha256 } from '../src/hmacSha256.js';

/** What `createHmac` gives for the same key and text: the reference the one-shot construction must equal bit for bit. */
function reference(secret: Uint8Array, prefix: string, message: string): string {
  return createHmac('sha256', secret).update(prefix + message).digest('base64url');
}

/** Keys of every length class: empty, short, exactly one block, longer than a block (hashed first). */
const keys = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 80 }),
  fc.uint8Array({ minLength: 64, maxLength: 64 }),
  fc.uint8Array({ minLength: 65, maxLength: 300 }),
);

/** Any UTF-16 text, lone surrogates included (UTF-8 encoding turns each into U+FFFD, in both constructions). */
const codeUnits = fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 120 }).map((codes) => String.fromCharCode(...codes));
const messages = fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: 'binary', maxLength: 120 }), fc.string({ unit: 'grapheme', maxLength: 60 }), codeUnits);
const prefixes = fc.constantFrom('', 'strata/sessionId\u0000', 'strata/ipAddress\u0000', 'strata/userAgent\u0000', 'domain/ü\u0000');

describe('createHmacSha256', () => {
  it('equals createHmac for random keys, prefixes and messages', () => {
    fc.assert(
      fc.property(keys, prefixes, messages, (secret, prefix, message) => {
        expect(createHmacSha256(secret).base64url(prefix, message)).toBe(reference(secret, prefix, message));
      }),
      { numRuns: 3_000 },
    );
  });

  it('equals createHmac for a sequence of messages on one key, whatever their lengths and order', () => {
    // One instance reuses its buffers: a short message after a long one must not hash the long one's leftover bytes.
    fc.assert(
      fc.property(keys, fc.array(fc.tuple(prefixes, messages), { minLength: 1, maxLength: 30 }), (secret, inputs) => {
        const hmac = createHmacSha256(secret);
        for (const [prefix, message] of inputs) expect(hmac.base64url(prefix, message)).toBe(reference(secret, prefix, message));
      }),
      { numRuns: 500 },
    );
  });

  it('equals createHmac for empty, growing and very long messages', () => {
    const secret = Buffer.alloc(32, 0xa1);
    const hmac = createHmacSha256(secret);
    for (const message of ['', 'x', 'é'.repeat(100), '🚀'.repeat(3_000), 'a'.repeat(5_461), 'a'.repeat(5_462), 'ü'.repeat(100_000), '', 'short again']) {
      expect(hmac.base64url('strata/userAgent\u0000', message)).toBe(reference(secret, 'strata/userAgent\u0000', message));
    }
  });

  it('is RFC 4231 HMAC-SHA-256 (test cases 1 and 6)', () => {
    const hex = (base64url: string) => Buffer.from(base64url, 'base64url').toString('hex');
    expect(hex(createHmacSha256(Buffer.alloc(20, 0x0b)).base64url('', 'Hi There'))).toBe('b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7');
    expect(hex(createHmacSha256(Buffer.alloc(131, 0xaa)).base64url('', 'Test Using Larger Than Block-Size Key - Hash Key First'))).toBe(
      '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
    );
  });
});
