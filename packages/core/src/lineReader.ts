import { isAscii } from 'node:buffer';
import { StringDecoder } from 'node:string_decoder';

/**
 * The lines that end in one chunk read. For a chunk of ASCII bytes the chunk's bytes come too, so
 * that a consumer keeping a line for later (the ingest queue keeps each line until its event is
 * stored, for the dead-letter file) can keep it as a range of bytes outside the JS heap: the
 * garbage collector copies every queued line's string twice otherwise, the largest part of its
 * work during an ingest.
 */
export interface LineBatch {
  lines: string[];
  /** A copy of the chunk, when it was all ASCII: `lines[i]` is then `bytes.toString('latin1', starts[i], starts[i] + lines[i].length)`. */
  bytes?: Buffer;
  /** Where each line starts in `bytes`; -1 for the line that began in an earlier chunk. */
  starts?: number[];
}

/** Where `readLines` keeps its chunk-at-a-time view, for `takeLineBatches`. */
const LINE_BATCHES = Symbol('strata.lineBatches');

type LinesWithBatches = AsyncGenerator<string> & { [LINE_BATCHES]?: () => AsyncGenerator<LineBatch> | undefined };

/**
 * Splits a byte stream into lines (`\n` or `\r\n`), reading the next chunk only when the consumer
 * asks for the next line. readline's async iterator keeps reading while its consumer waits, and
 * buffers every line it has read: with writes on another thread the main thread is free, the whole
 * file ends up in memory (600 MB for a 1M-event file). Pulling keeps memory flat.
 */
export function readLines(stream: AsyncIterable<Uint8Array | string>): AsyncGenerator<string> {
  const batches = splitLines(stream);
  let started = false;
  let claimed = false;
  const lines: LinesWithBatches = (async function* () {
    started = true;
    // Once ingestLines took the batches, they are no longer this generator's to read.
    if (claimed) return;
    for await (const batch of batches) for (const line of batch.lines) yield line;
  })();
  Object.defineProperty(lines, LINE_BATCHES, {
    value: () => {
      if (started || claimed) return undefined;
      claimed = true;
      return batches;
    },
  });
  return lines;
}

/**
 * The lines of a `readLines` generator nobody has read from yet, one batch per chunk read: a
 * consumer that handles lines synchronously (ingestLines) then awaits once per chunk rather than
 * once per line. Undefined for any other iterable, or once its lines were read; after a
 * successful call, the generator itself yields nothing more.
 */
export function takeLineBatches(lines: AsyncIterable<string>): AsyncIterable<LineBatch> | undefined {
  return (lines as LinesWithBatches)[LINE_BATCHES]?.();
}

/** The lines of each chunk (those that end in it), pulling the next chunk only when asked. */
async function* splitLines(stream: AsyncIterable<Uint8Array | string>): AsyncGenerator<LineBatch> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of stream) {
    const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
    let newline = text.indexOf('\n');
    if (newline === -1) {
      rest += text;
      continue;
    }
    // The same length means the decoder added nothing held from the previous chunk: offsets in
    // `text` are offsets in the bytes. The copy is ours: a producer may reuse its buffer.
    const ascii = typeof chunk !== 'string' && text.length === chunk.length && isAscii(chunk);
    const batch: LineBatch = ascii ? { lines: [], bytes: Buffer.copyBytesFrom(chunk), starts: [] } : { lines: [] };
    const { lines, starts } = batch;
    let start = 0;
    if (rest !== '') {
      // Only the line that began in an earlier chunk is joined: prefixing the whole chunk with it
      // would copy every chunk once more.
      const line = rest + text.slice(0, newline);
      rest = '';
      lines.push(line.charCodeAt(line.length - 1) === 13 ? line.slice(0, -1) : line);
      starts?.push(-1);
      start = newline + 1;
      newline = text.indexOf('\n', start);
    }
    for (; newline !== -1; newline = text.indexOf('\n', start)) {
      const end = newline > start && text.charCodeAt(newline - 1) === 13 ? newline - 1 : newline;
      lines.push(text.slice(start, end));
      starts?.push(start);
      start = newline + 1;
    }
    rest = text.slice(start);
    yield batch;
  }
  rest += decoder.end();
  if (rest.length > 0) yield { lines: [rest.endsWith('\r') ? rest.slice(0, -1) : rest] };
}
