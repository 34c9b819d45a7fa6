import { createGunzip } from 'node:zlib';

/** The two bytes every gzip stream starts with. */
const isGzip = (chunk: Uint8Array | string): boolean => typeof chunk !== 'string' && chunk.length >= 2 && chunk[0] === 0x1f && chunk[1] === 0x8b;

/**
 * The input, decompressed when it is gzip (told by its first bytes, not its name), so rotated sink
 * files (`.jsonl.gz`) and gzip exports import as they are. Pulls the input only as output is consumed.
 */
export async function* gunzipIfCompressed(input: AsyncIterable<Uint8Array | string>): AsyncGenerator<Uint8Array | string> {
  const iterator = input[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) return;
  if (!isGzip(first.value)) {
    try {
      yield first.value;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
    } finally {
      await iterator.return?.();
    }
    return;
  }
  const gunzip = createGunzip();
  // Feed the decompressor as it drains; its output is read below at the consumer's pace.
  const feeding = (async () => {
    try {
      let chunk: Uint8Array | string = first.value;
      for (;;) {
        if (gunzip.destroyed) return;
        if (!gunzip.write(chunk)) await drainedOrClosed(gunzip);
        const next = await iterator.next();
        if (next.done) break;
        chunk = next.value;
      }
      gunzip.end();
    } catch (error) {
      gunzip.destroy(error as Error);
    } finally {
      await iterator.return?.();
    }
  })();
  try {
    for await (const chunk of gunzip) yield chunk as Uint8Array;
  } finally {
    if (!gunzip.destroyed) gunzip.destroy();
    await feeding;
  }
}

function drainedOrClosed(stream: NodeJS.EventEmitter): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}
