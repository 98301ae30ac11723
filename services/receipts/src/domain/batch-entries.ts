/** How the entries of a request are named in errors, and the rule that a batch names each key once: pure, no I/O. */
import { invalidArgument } from "@provenance/shared";

/** The field prefix naming entry `i` of a request: "" for a single call, `receipts[i].` for an entry of a batch. */
export type EntryName = (i: number) => string;

/** A single CreateReceipt / CompleteReceipt: its fields are named as they are. */
export const singleCall: EntryName = () => "";

/** An entry of CreateReceipts / CompleteReceipts: `receipts[i].<field>`. */
export const batchEntry: EntryName = (i) => `receipts[${i}].`;

/** A batch names each idempotency key (or receipt id) once: a repeat is INVALID_ARGUMENT naming the later entry. */
export function requireDistinct(values: readonly string[], field: string, entry: EntryName = batchEntry): void {
  const first = new Map<string, number>();
  values.forEach((v, i) => {
    const earlier = first.get(v);
    if (earlier !== undefined) throw invalidArgument(`${entry(i)}${field}`, `repeats ${entry(earlier)}${field}; send each once`);
    first.set(v, i);
  });
}
