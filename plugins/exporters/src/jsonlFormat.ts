import { readLines } from '@strata/core';
import type { ExportFormat, ExportRow } from './exportFormat.js';

/**
 * JSON Lines: one row object per line, `\n`-terminated, keys in the dataset's order (for
 * interactions, exactly the line the cold archive stores: `interactionLine`). Import passes each
 * line to ingest as it is, so line numbers in the dead-letter store are the file's.
 */
export const jsonlFormat: ExportFormat = {
  name: 'jsonl',
  extensions: ['.jsonl', '.ndjson'],
  description: 'JSON Lines: one JSON object per line',
  encoder() {
    return {
      begin: () => '',
      rows(rows: readonly ExportRow[]) {
        let out = '';
        for (const row of rows) out += `${JSON.stringify(row)}\n`;
        return out;
      },
      end: () => '',
    };
  },
  decode(input) {
    return readLines(input);
  },
};
