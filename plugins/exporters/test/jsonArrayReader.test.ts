import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ImportFileError, jsonFormat } from '../src/index.js';

async function elements(text: string, chunkSize = 5): Promise<string[]> {
  const bytes = Buffer.from(text);
  const chunks = Array.from({ length: Math.ceil(bytes.length / chunkSize) }, (_, index) => bytes.subarray(index * chunkSize, (index + 1) * chunkSize));
  const out: string[] = [];
  for await (const element of jsonFormat.decode!(Readable.from(chunks), { source: 'file.json', columns: [] })) out.push(element);
  return out;
}

async function failure(text: string): Promise<ImportFileError> {
  try {
    await elements(text);
  } catch (error) {
    expect(error).toBeInstanceOf(ImportFileError);
    return error as ImportFileError;
  }
  throw new Error('expected the file to be refused');
}

describe('reading a JSON array element by element', () => {
  it('yields the text of each element, whatever the nesting, strings and chunking (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.jsonValue(), { maxLength: 6 }), fc.constantFrom(0, 2), fc.integer({ min: 1, max: 30 }), async (values, indent, chunkSize) => {
        const text = JSON.stringify(values, null, indent);
        const texts = await elements(text, chunkSize);
        expect(texts.map((element) => JSON.parse(element) as unknown)).toEqual(JSON.parse(text));
      }),
      { numRuns: 400 },
    );
  });

  it('reads an empty array, with or without spaces and a byte-order mark', async () => {
    expect(await elements('[]')).toEqual([]);
    expect(await elements('\ufeff [ \n ] \n')).toEqual([]);
  });

  it('passes an element that is not valid JSON on as text, so ingest can reject just that one', async () => {
    expect(await elements('[{"a":1}, {oops}, {"b":2}]')).toEqual(['{"a":1}', '{oops}', '{"b":2}']);
  });

  it('refuses a file that is not an array, naming what it starts with and suggesting JSON Lines', async () => {
    const error = await failure('{"eventId":"x"}\n{"eventId":"y"}\n');
    expect(error.message).toMatch(/file\.json line 1: is not a JSON array \(it starts with "\{"\).*JSON Lines/);
  });

  it('refuses a truncated array, an empty element, a trailing comma and text after the array', async () => {
    expect((await failure('[{"a":1},\n{"b":')).message).toMatch(/ends before the closing \] of the array \(is the file truncated\?\)/);
    expect((await failure('[1,,2]')).message).toMatch(/empty element/);
    expect((await failure('[1,2,]')).message).toMatch(/comma before the closing \]/);
    expect((await failure('[1]\n[2]')).message).toMatch(/line 2: has text after the closing \]/);
    expect((await failure('')).message).toMatch(/is empty/);
  });
});
