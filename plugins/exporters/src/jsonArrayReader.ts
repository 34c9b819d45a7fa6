import { StringDecoder } from 'node:string_decoder';
import { ImportFileError } from './exportErrors.js';

const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const NEWLINE = 10;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;

const isSpace = (code: number) => code === 32 || code === 9 || code === 10 || code === 13 || code === 0xfeff;

/**
 * Yields the text of each element of a top-level JSON array, reading the input only as elements
 * are consumed, so a file of any size is imported at flat memory (`JSON.parse` of the whole file
 * would hold it all). Elements are split at the array's own commas by tracking nesting outside
 * strings; each element's text is parsed later by ingest, so an element that is not valid JSON is
 * rejected on its own (dead-lettered) while the rest are imported. Only a file that is not an array
 * at all, is truncated, or has text after its `]` fails as a whole.
 */
export async function* readJsonArrayElements(input: AsyncIterable<Uint8Array | string>, source: string): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let state = 'before' as 'before' | 'between' | 'element' | 'after';
  let line = 1;
  let elementLine = 1;
  let depth = 0;
  let inString = false;
  let escaped = false;
  /** Text of the current element from earlier chunks. */
  let pending = '';
  let elements = 0;

  const fail = (reason: string, at = line): never => {
    throw new ImportFileError(source, at, reason);
  };

  const feed = function* (text: string): Generator<string> {
    let start = 0;
    for (let index = 0; index < text.length; index += 1) {
      const code = text.charCodeAt(index);
      if (state === 'element') {
        if (inString) {
          if (escaped) escaped = false;
          else if (code === BACKSLASH) escaped = true;
          else if (code === QUOTE) inString = false;
          continue;
        }
        if (code === QUOTE) inString = true;
        else if (code === NEWLINE) line += 1;
        else if (code === OPEN_BRACE || code === OPEN_BRACKET) depth += 1;
        else if (code === CLOSE_BRACE || (code === CLOSE_BRACKET && depth > 0)) {
          depth -= 1;
          if (depth < 0) fail('has a } that closes nothing');
        } else if (depth === 0 && (code === COMMA || code === CLOSE_BRACKET)) {
          const element = (pending + text.slice(start, index)).trim();
          pending = '';
          if (element === '') fail('has an empty element (two commas in a row?)', elementLine);
          elements += 1;
          yield element;
          state = code === COMMA ? 'between' : 'after';
          if (state === 'between') start = index + 1;
        }
        continue;
      }
      if (code === NEWLINE) line += 1;
      if (isSpace(code)) continue;
      if (state === 'before') {
        if (code !== OPEN_BRACKET) fail(`is not a JSON array (it starts with ${JSON.stringify(text[index])}); import takes an array of interaction objects, or JSON Lines (.jsonl) with one object per line`);
        state = 'between';
        continue;
      }
      if (state === 'between') {
        if (code === CLOSE_BRACKET) {
          if (elements > 0) fail('has a comma before the closing ]');
          state = 'after';
          continue;
        }
        state = 'element';
        elementLine = line;
        start = index;
        index -= 1; // the element's first character is scanned in the element state
        continue;
      }
      fail('has text after the closing ] of the array');
    }
    if (state === 'element') pending += text.slice(start);
  };

  for await (const chunk of input) {
    yield* feed(typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer));
  }
  yield* feed(decoder.end());
  if (state === 'before') fail('is empty; import takes a JSON array of interaction objects');
  if (state !== 'after') fail('ends before the closing ] of the array (is the file truncated?)');
}
