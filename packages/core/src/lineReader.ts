import { StringDecoder } from 'node:string_decoder';

/**
 * Splits a byte stream into lines (`\n` or `\r\n`), reading the next chunk only when the consumer
 * asks for the next line. readline's async iterator keeps reading while its consumer waits, and
 * buffers every line it has read: with writes on another thread the main thread is free, the whole
 * file ends up in memory (600 MB for a 1M-event file). Pulling keeps memory flat.
 */
export async function* readLines(stream: AsyncIterable<Uint8Array | string>): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of stream) {
    const text = rest + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
    let start = 0;
    for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', start)) {
      const end = newline > start && text.charCodeAt(newline - 1) === 13 ? newline - 1 : newline;
      yield text.slice(start, end);
      start = newline + 1;
    }
    rest = text.slice(start);
  }
  rest += decoder.end();
  if (rest.length > 0) yield rest.endsWith('\r') ? rest.slice(0, -1) : rest;
}
