// Plain-text tables in the style of `docker network ls`: upper-case headers, space-padded columns.

const COLUMN_GAP = '   ';

export function renderTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const renderRow = (cells: readonly string[]): string =>
    headers
      .map((_, column) => {
        const cell = cells[column] ?? '';
        return column === headers.length - 1 ? cell : cell.padEnd(widths[column] ?? 0);
      })
      .join(COLUMN_GAP)
      .trimEnd();
  return [renderRow(headers), ...rows.map(renderRow)].join('\n') + '\n';
}

/** "key: value" lines with the values aligned. */
export function renderFields(fields: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(0, ...fields.map(([key]) => key.length + 1));
  return fields.map(([key, value]) => `${`${key}:`.padEnd(width)} ${value}`).join('\n') + '\n';
}

/** Ids are long hex strings; like docker, tables show a 12-character prefix. */
export function shortId(id: string): string {
  return id.slice(0, 12);
}
