/**
 * The one CSV writer of every CSV answer (history, portfolio, the Alpha
 * Vantage gateway): RFC 4180 quoting, and text a spreadsheet would run as a
 * formula made inert — a vendor's company name such as `=HYPERLINK(…)` is
 * cached and served to every client who asks, so it must reach none of them
 * as a formula.
 */

export type CsvCell = string | number | null;

export interface CsvOptions {
  /** The columns of free text (names, symbols, reasons): only they are guarded as formulas; numbers such as "-1.57" are not text. */
  textColumns?: readonly string[];
  /** Alpha Vantage ends its lines with CRLF; the service's own CSV with LF. */
  lineEnd?: '\n' | '\r\n';
}

/**
 * Text a spreadsheet may run as a formula (OWASP's CSV injection list: =, +, -,
 * @, TAB, CR first), also behind leading white space, which an import that
 * trims spaces would remove.
 */
const FORMULA_START = /^[\t\r]|^\s*[=+\-@]/u;

/** A CSV field: empty for null, quoted when it must be; text a spreadsheet would run as a formula is prefixed with '. */
function csvField(value: CsvCell, text: boolean): string {
  if (value === null) return '';
  let field = String(value);
  if (text && FORMULA_START.test(field)) field = `'${field}`;
  return /[",\r\n]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field;
}

/** A header line of `columns`, then one line per row, each line ended by `lineEnd`. */
export function csvTable(columns: readonly string[], rows: readonly (readonly CsvCell[])[], options: CsvOptions = {}): string {
  return `${columns.join(',')}${options.lineEnd ?? '\n'}${csvRows(columns, rows, options)}`;
}

/** The lines of `rows` without the header: a table written in parts (a streamed export) writes the header once. */
export function csvRows(columns: readonly string[], rows: readonly (readonly CsvCell[])[], options: CsvOptions = {}): string {
  const text = columns.map((column) => options.textColumns?.includes(column) ?? false);
  const lineEnd = options.lineEnd ?? '\n';
  return rows.map((row) => `${row.map((cell, i) => csvField(cell, text[i] ?? false)).join(',')}${lineEnd}`).join('');
}
