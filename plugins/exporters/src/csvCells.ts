/**
 * CSV cells per RFC 4180, made safe for spreadsheets.
 *
 * Formula injection: a spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (and some
 * also after a leading tab or carriage return) as a formula, so a query such as
 * `=HYPERLINK("http://evil", "click")` typed by a visitor would run on an analyst's machine. Every
 * text cell that starts with one of those characters is written with a single quote in front
 * (`'=HYPERLINK(…)`), which spreadsheets show as text. A text that itself starts with a single
 * quote gets one more, so the rule can be undone exactly: on import, one leading quote is removed
 * from a text cell whose next character is one of `= + - @ ' \t \r`. Numbers are never prefixed: a
 * number Strata writes (`-1.5`) is data to a spreadsheet, not a formula.
 */

const FORMULA_TRIGGERS = new Set(['=', '+', '-', '@', '\t', '\r']);

/** The text as a spreadsheet-safe cell value (see the module comment). */
export function protectFormula(text: string): string {
  if (text.length === 0) return text;
  const first = text[0]!;
  return FORMULA_TRIGGERS.has(first) || first === "'" ? `'${text}` : text;
}

/** Undoes `protectFormula`; a cell with a lone leading quote before anything else is left as it is. */
export function unprotectFormula(cell: string): string {
  if (cell.length < 2 || cell.charCodeAt(0) !== 39) return cell;
  const second = cell[1]!;
  return FORMULA_TRIGGERS.has(second) || second === "'" ? cell.slice(1) : cell;
}

const NEEDS_QUOTES = /[",\r\n]/;

/**
 * One field: quoted (with `"` doubled) when it holds a comma, a quote, CR or LF, and when it is an
 * empty string, so that an empty text (`""`) stays distinct from an absent value (nothing).
 */
export function csvField(value: string): string {
  if (value.length === 0) return '""';
  return NEEDS_QUOTES.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** RFC 4180 ends every record, the last one included, with CRLF. */
export const CSV_RECORD_END = '\r\n';
