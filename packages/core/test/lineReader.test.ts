import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readLines } from '@strata/core';

async function linesOf(chunks: Array<string | Buffer>): Promise<string[]> {
  const out: string[] = [];
  for await (const line of readLines(Readable.from(chunks))) out.push(line);
  return out;
}

describe('readLines', () => {
  it('splits on LF and CRLF and keeps blank lines for the caller to count', async () => {
    expect(await linesOf(['a\nb\r\n\nc\r\n'])).toEqual(['a', 'b', '', 'c']);
  });

  it('joins a line split across chunks, including a character split mid-byte-sequence', async () => {
    const bytes = Buffer.from('{"q":"héllo 🧠"}\nnext\n');
    const cut = bytes.indexOf(0xf0) + 2; // inside the 4-byte emoji
    expect(await linesOf([bytes.subarray(0, 3), bytes.subarray(3, cut), bytes.subarray(cut)])).toEqual(['{"q":"héllo 🧠"}', 'next']);
  });

  it('yields a last line that has no newline', async () => {
    expect(await linesOf(['one\ntwo'])).toEqual(['one', 'two']);
  });

  it('reads only as far as the consumer has asked', async () => {
    let pulled = 0;
    async function* chunks() {
      for (let i = 0; i < 1_000; i += 1) {
        pulled += 1;
        yield `line ${i}\n`;
      }
    }
    const lines = readLines(chunks());
    await lines.next();
    await lines.next();
    expect(pulled).toBeLessThanOrEqual(3);
    await lines.return(undefined);
  });
});
