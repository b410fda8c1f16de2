/**
 * RFC 4180 CSV: quoted fields may hold commas, quotes (doubled) and line breaks; lines end in CRLF, LF or CR; a
 * UTF-8 byte order mark (spreadsheet exports start with one) is dropped. Returns records with the line each starts
 * on, or the line of the first unterminated quote.
 */
export type CsvResult =
  | { readonly records: ReadonlyArray<{ readonly line: number; readonly fields: string[] }> }
  | { readonly unterminatedQuoteAt: number };

export function parseCsv(text: string): CsvResult {
  const records: Array<{ line: number; fields: string[] }> = [];
  const input = text.startsWith('\ufeff') ? text.slice(1) : text;
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let i = 0;
  const endRecord = () => {
    fields.push(field);
    // A blank line is no record.
    if (!(fields.length === 1 && fields[0] === '')) records.push({ line: recordLine, fields });
    fields = [];
    field = '';
  };
  while (i < input.length) {
    const char = input[i] as string;
    if (char === '"' && field === '') {
      const quoteLine = line;
      i++;
      for (;;) {
        if (i >= input.length) return { unterminatedQuoteAt: quoteLine };
        const inner = input[i] as string;
        if (inner === '"') {
          if (input[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (inner === '\n' || (inner === '\r' && input[i + 1] !== '\n')) line++;
        field += inner;
        i++;
      }
      continue;
    }
    if (char === ',') {
      fields.push(field);
      field = '';
      i++;
    } else if (char === '\r' || char === '\n') {
      endRecord();
      i += char === '\r' && input[i + 1] === '\n' ? 2 : 1;
      line++;
      recordLine = line;
    } else {
      field += char;
      i++;
    }
  }
  if (field !== '' || fields.length > 0) endRecord();
  return { records };
}
