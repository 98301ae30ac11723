/** Reproductions: which receipt a new receipt may name as the one it reproduces. Pure, no I/O. */
import { invalidArgument } from "@provenance/shared";
import type { EntryName } from "./batch-entries.js";
import type { ReceiptDraft } from "./new-receipt.js";
import { isReceiptId } from "./receipt-id.js";

/**
 * The receipts the drafts of a batch say they reproduce (to look up), after the checks that need no lookup: the id is a
 * receipt id, and a reproduction supersedes no segment — it is a check of the original, never its replacement
 * (INVALID_ARGUMENT on `reproduction_of_receipt_id`).
 */
export function reproducedReceiptIds(drafts: readonly ReceiptDraft[], entry: EntryName): string[] {
  const ids: string[] = [];
  drafts.forEach((d, i) => {
    const of = d.reproductionOfReceiptId;
    if (of === null) return;
    if (!isReceiptId(of)) throw invalidArgument(`${entry(i)}reproduction_of_receipt_id`, `"${of}" is not a receipt id (a UUID)`);
    if (d.supersedesSegmentId !== null) {
      throw invalidArgument(`${entry(i)}reproduction_of_receipt_id`, "a reproduction supersedes no segment: send it without supersedes_segment_id");
    }
    ids.push(of);
  });
  return ids;
}

/**
 * A reproduced receipt must be stored (`storedProjects`: the project of each one found) in the reproduction's project;
 * else INVALID_ARGUMENT on `reproduction_of_receipt_id`, without naming another project (the caller may have no grant
 * on it).
 */
export function checkReproductionTargets(drafts: readonly ReceiptDraft[], storedProjects: ReadonlyMap<string, string>, entry: EntryName): void {
  drafts.forEach((d, i) => {
    const of = d.reproductionOfReceiptId;
    if (of === null) return;
    const project = storedProjects.get(of);
    if (project === undefined) throw invalidArgument(`${entry(i)}reproduction_of_receipt_id`, `receipt "${of}" does not exist`);
    if (project !== d.segment.projectId) {
      throw invalidArgument(`${entry(i)}reproduction_of_receipt_id`, `receipt "${of}" cannot be reproduced from this project`);
    }
  });
}
