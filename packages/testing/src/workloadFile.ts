import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { workloadLines, type WorkloadOptions } from './workload.js';

/** Writes a workload as a JSONL file, streaming (flat memory for any size). Returns bytes written. */
export async function writeWorkloadFile(path: string, options: WorkloadOptions): Promise<number> {
  const out = createWriteStream(path, { encoding: 'utf8' });
  let bytes = 0;
  let chunk = '';
  for (const line of workloadLines(options)) {
    chunk += `${line}\n`;
    if (chunk.length >= 1 << 16) {
      bytes += Buffer.byteLength(chunk);
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  if (chunk) {
    bytes += Buffer.byteLength(chunk);
    out.write(chunk);
  }
  out.end();
  await once(out, 'finish');
  return bytes;
}
