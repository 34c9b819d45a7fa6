import type { ExportFormat, ExportRow } from './exportFormat.js';
import { readJsonArrayElements } from './jsonArrayReader.js';

/**
 * One JSON array of row objects, one row per line (`[\n{…},\n{…}\n]\n`), written as the rows stream
 * (the array is never built in memory). Import reads it back element by element.
 */
export const jsonFormat: ExportFormat = {
  name: 'json',
  extensions: ['.json'],
  description: 'one JSON array of objects, streamed',
  encoder() {
    let first = true;
    return {
      begin: () => '[',
      rows(rows: readonly ExportRow[]) {
        let out = '';
        for (const row of rows) {
          out += `${first ? '\n' : ',\n'}${JSON.stringify(row)}`;
          first = false;
        }
        return out;
      },
      end: () => (first ? ']\n' : '\n]\n'),
    };
  },
  decode(input, options) {
    return readJsonArrayElements(input, options.source);
  },
};
