import { createHash, createHmac, hash } from 'node:crypto';

/** SHA-256 reads its input in 64-byte blocks: the HMAC key is padded (or first hashed) to one block. */
const BLOCK_BYTES = 64;
const DIGEST_BYTES = 32;
/** UTF-8 takes at most 3 bytes per UTF-16 code unit (a surrogate pair, two units, takes 4). */
const MAX_UTF8_BYTES_PER_UNIT = 3;
/** Message room a scratch buffer starts with; it grows for a longer message, up to the next limit. */
const INITIAL_MESSAGE_BYTES = 256;
/** Longer messages (only a malformed dead-letter line could hold one) go through `createHmac`, so no large buffer is kept. */
const MAX_SCRATCH_MESSAGE_BYTES = 16_384;

/** HMAC-SHA-256 under one key, prepared once for many short messages. */
export interface HmacSha256 {
  /**
   * base64url of HMAC-SHA-256(key, prefix + message), both encoded as UTF-8 exactly as
   * `createHmac(…).update(string)` encodes them (a lone surrogate becomes U+FFFD). `prefix` is one
   * of a few fixed strings (a domain such as `strata/sessionId\0`) that must not end inside a
   * surrogate pair; a buffer is kept for each.
   */
  base64url(prefix: string, message: string): string;
}

/** One prefix's input buffer: `(K ⊕ ipad) ‖ prefix`, then room for the message. */
interface Scratch {
  buffer: Buffer;
  messageStart: number;
  /** Views of the buffer's first n bytes, by n: made once per length rather than per message. */
  views: Uint8Array[];
}

/**
 * RFC 2104 HMAC-SHA-256 computed as two one-shot hashes:
 * `H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ message))`, with K the key zero-padded to 64 bytes (a longer key
 * is hashed first). `createHmac('sha256', key)` per message re-imports the key and allocates an
 * Hmac object, a native context and a digest buffer every time; here the padded key blocks are
 * made once and each message is two `crypto.hash` calls over reused buffers, which costs about
 * half as much CPU. The output is bit-identical to `createHmac` (property-tested over random keys,
 * including long ones, and random Unicode messages).
 */
export function createHmacSha256(secret: Uint8Array): HmacSha256 {
  const key = secret.length > BLOCK_BYTES ? createHash('sha256').update(secret).digest() : secret;
  const innerPad = Buffer.alloc(BLOCK_BYTES, 0x36);
  // The outer hash's whole input: K ⊕ opad, then the inner digest written in place each time.
  const outer = Buffer.alloc(BLOCK_BYTES + DIGEST_BYTES);
  outer.fill(0x5c, 0, BLOCK_BYTES);
  for (let index = 0; index < key.length; index += 1) {
    innerPad[index]! ^= key[index]!;
    outer[index]! ^= key[index]!;
  }
  const scratches = new Map<string, Scratch>();

  function scratchFor(prefix: string, maxMessageBytes: number): Scratch {
    let scratch = scratches.get(prefix);
    if (scratch === undefined || scratch.buffer.length - scratch.messageStart < maxMessageBytes) {
      const head = Buffer.concat([innerPad, Buffer.from(prefix, 'utf8')]);
      const buffer = Buffer.alloc(head.length + Math.max(INITIAL_MESSAGE_BYTES, maxMessageBytes));
      head.copy(buffer);
      scratch = { buffer, messageStart: head.length, views: [] };
      scratches.set(prefix, scratch);
    }
    return scratch;
  }

  return {
    base64url(prefix, message) {
      const maxMessageBytes = message.length * MAX_UTF8_BYTES_PER_UNIT;
      if (maxMessageBytes > MAX_SCRATCH_MESSAGE_BYTES) return createHmac('sha256', secret).update(prefix + message).digest('base64url');
      const { buffer, messageStart, views } = scratchFor(prefix, maxMessageBytes);
      const end = messageStart + buffer.write(message, messageStart, 'utf8');
      const input = (views[end] ??= new Uint8Array(buffer.buffer, buffer.byteOffset, end));
      // 'binary' (Latin-1) gives the 32 digest bytes as 32 one-byte characters: cheaper than a Buffer result.
      const innerDigest = hash('sha256', input, 'binary');
      outer.write(innerDigest, BLOCK_BYTES, DIGEST_BYTES, 'latin1');
      return hash('sha256', outer, 'base64url');
    },
  };
}
