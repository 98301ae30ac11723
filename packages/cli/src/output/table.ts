/** Aligned plain-text tables and key/value blocks for human output. */

/** How a column is aligned: text left, numbers right. */
export type Align = "left" | "right";

/** A column of a table: its header and alignment. */
export interface Column {
  readonly header: string;
  readonly align?: Align;
}

/** Visible width of a cell (code points, so "—" counts as one). */
function width(text: string): number {
  return [...text].length;
}

function pad(text: string, to: number, align: Align): string {
  const gap = " ".repeat(Math.max(0, to - width(text)));
  return align === "right" ? gap + text : text + gap;
}

/**
 * Renders rows under headers with columns separated by two spaces; every line ends with "\n" and
 * carries no trailing spaces. With no rows it renders `empty` instead (when given).
 */
export function renderTable(columns: readonly Column[], rows: readonly (readonly string[])[], empty?: string): string {
  if (rows.length === 0 && empty !== undefined) return `${empty}\n`;
  const widths = columns.map((c, i) => Math.max(width(c.header), ...rows.map((r) => width(r[i] ?? ""))));
  const line = (cells: readonly string[]) =>
    columns
      .map((c, i) => pad(cells[i] ?? "", widths[i]!, c.align ?? "left"))
      .join("  ")
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...rows.map(line)].map((l) => `${l}\n`).join("");
}

/** Renders `label: value` pairs with the values aligned; a multi-line value continues under its column. */
export function renderFields(fields: readonly (readonly [string, string])[]): string {
  const labelWidth = Math.max(0, ...fields.map(([label]) => width(label) + 1));
  return fields
    .map(([label, value]) => {
      const [first = "", ...rest] = value.split("\n");
      const head = `${pad(`${label}:`, labelWidth, "left")}  ${first}`.trimEnd();
      return [head, ...rest.map((l) => `${" ".repeat(labelWidth + 2)}${l}`.trimEnd())].join("\n");
    })
    .map((l) => `${l}\n`)
    .join("");
}
