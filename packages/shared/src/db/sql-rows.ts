/** Row helpers for raw queries through TypeORM. */

/** A row as node-postgres returns it. */
export type Row = Record<string, unknown>;

/** The rows of a query result: TypeORM returns `[rows, affected]` for UPDATE/DELETE and plain rows otherwise. */
export function rowsOf(result: unknown): Row[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === "number") {
    return result[0] as Row[];
  }
  return result as Row[];
}
