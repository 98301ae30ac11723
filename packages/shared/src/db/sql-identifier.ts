/** Quotes a PostgreSQL identifier (schema, role, channel) so it can be spliced into SQL. */
export function quoteIdentifier(name: string): string {
  if (name.length === 0 || name.includes("\0")) throw new Error(`invalid SQL identifier: ${JSON.stringify(name)}`);
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quotes a PostgreSQL string literal (for DDL, where bind parameters are not allowed). */
export function quoteLiteral(value: string): string {
  if (value.includes("\0")) throw new Error("invalid SQL literal: contains NUL");
  return `'${value.replaceAll("'", "''")}'`;
}
