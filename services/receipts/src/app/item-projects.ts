/**
 * The access decision's resolvers: the project of each receipt and segment a request names, one statement per request
 * and kind. Ids that name nothing — malformed receipt ids included — are simply absent, so the handler answers them.
 */
import type { ProjectResolvers } from "@provenance/shared/auth";
import type { DataSource } from "typeorm";
import { isReceiptId } from "../domain/receipt-id.js";
import { receiptProjects } from "../persistence/receipt-repository.js";
import { segmentProjects } from "../persistence/segment-repository.js";

/** The receipt and segment resolvers over the receipts schema. */
export function receiptsResolvers(ds: DataSource): ProjectResolvers {
  return {
    receipt: (ids) => receiptProjects(ds.manager, ids.filter(isReceiptId)),
    segment: (ids) => segmentProjects(ds.manager, ids),
  };
}
