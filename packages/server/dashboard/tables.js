// Tables built with DOM calls only: questions and content ids are user text, so nothing is ever
// parsed as HTML. Each row and cell carries its raw value in data-* attributes.

/**
 * columns: [{ label, value(row) → raw value, format?(raw, row) → text, numeric?, attribute?, bar?(row) → 0..1 }]
 * rowAttributes(row) → { 'data-role': … }
 */
export function renderTable(container, columns, rows, rowAttributes = () => ({})) {
  const table = document.createElement('table');
  const head = table.createTHead().insertRow();
  for (const column of columns) {
    const cell = document.createElement('th');
    cell.textContent = column.label;
    if (column.numeric) cell.className = 'number';
    head.append(cell);
  }
  const body = table.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    for (const [name, value] of Object.entries(rowAttributes(row))) tr.setAttribute(name, String(value));
    for (const column of columns) {
      const cell = tr.insertCell();
      const raw = column.value(row);
      if (column.attribute) cell.dataset.field = column.attribute;
      if (raw !== undefined && raw !== null && typeof raw !== 'object') cell.dataset.value = String(raw);
      if (column.bar) {
        cell.className = 'bar-cell';
        const bar = document.createElement('div');
        bar.className = 'bar';
        bar.style.width = `${Math.round(Math.max(0, Math.min(1, column.bar(row))) * 100)}%`;
        cell.append(bar);
        continue;
      }
      if (column.pill) {
        const pill = document.createElement('span');
        pill.className = `status-pill ${String(raw).replace(/[^a-z]/gi, '')}`;
        pill.textContent = column.format ? column.format(raw, row) : String(raw);
        cell.append(pill);
        continue;
      }
      cell.className = column.numeric ? 'number' : 'text';
      cell.textContent = column.format ? column.format(raw, row) : raw === undefined || raw === null ? '—' : String(raw);
    }
  }
  container.replaceChildren(table);
  return table;
}

/** A sentence instead of a table, for empty answers. */
export function renderEmpty(container, text) {
  const paragraph = document.createElement('p');
  paragraph.className = 'caption';
  paragraph.textContent = text;
  container.replaceChildren(paragraph);
}
