/**
 * Minimal RFC 4180 CSV: comma-separated, optional double-quoted fields with
 * "" escapes, LF or CRLF line ends, first row is the header. Enough for
 * tables written by this CLI, QuPath, pandas and spreadsheets.
 */

export interface CsvTable {
  header: string[];
  rows: string[][];
}

export function parseCsv(text: string): CsvTable {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  let fieldStarted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // byte-order mark
  const endField = () => {
    record.push(field);
    field = '';
    fieldStarted = false;
  };
  const endRecord = () => {
    endField();
    // Blank lines carry no data.
    if (!(record.length === 1 && record[0] === '')) records.push(record);
    record = [];
  };
  for (; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
        }
      } else {
        field += ch;
      }
    } else if (ch === '"' && !fieldStarted && field === '') {
      quoted = true;
      fieldStarted = true;
    } else if (ch === ',') {
      endField();
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      endRecord();
    } else {
      field += ch;
      fieldStarted = true;
    }
  }
  if (quoted) throw new Error('unterminated quoted field');
  if (field !== '' || record.length > 0) endRecord();
  if (records.length === 0) throw new Error('the table is empty (no header)');
  const [header, ...rows] = records;
  rows.forEach((row, r) => {
    if (row.length !== header.length) {
      throw new Error(`line ${r + 2} has ${row.length} fields, the header has ${header.length}`);
    }
  });
  return { header, rows };
}

function quoteField(value: string): string {
  return /[",\r\n]/.test(value) || value !== value.trim() ? `"${value.replace(/"/g, '""')}"` : value;
}

export function formatCsv(table: CsvTable): string {
  const lines = [table.header, ...table.rows].map((row) => row.map(quoteField).join(','));
  return lines.join('\n') + '\n';
}

/** A column is numeric when every row holds a finite number. */
export function isNumericColumn(table: CsvTable, column: number): boolean {
  if (table.rows.length === 0) return false;
  for (const row of table.rows) {
    const text = row[column].trim();
    if (text === '' || !Number.isFinite(Number(text))) return false;
  }
  return true;
}

/** Rows × columns as one row-major Float64Array. */
export function numericMatrix(table: CsvTable, columns: readonly number[]): Float64Array {
  const out = new Float64Array(table.rows.length * columns.length);
  table.rows.forEach((row, r) => {
    columns.forEach((c, j) => {
      out[r * columns.length + j] = Number(row[c]);
    });
  });
  return out;
}
