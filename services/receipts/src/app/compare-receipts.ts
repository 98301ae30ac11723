/**
 * CompareReceipts: reads both receipts (one statement each, outside any transaction: receipts never change once
 * completed) and compares them field by field (domain/receipt-comparison.ts). The access decision has already hidden
 * receipts of projects the caller may not view, as NOT_FOUND.
 */
import type { DataSource } from "typeorm";
import type { Receipt } from "@provenance/shared";
import { compareReceipts as compareFields, type ReceiptComparison } from "../domain/receipt-comparison.js";
import { toReceiptMessage } from "../domain/receipt-record.js";
import { getReceipt } from "./read-provenance.js";

/** Both receipts and their field-level differences. */
export interface ComparedReceipts extends ReceiptComparison {
  left: Receipt;
  right: Receipt;
}

/** CompareReceipts; NOT_FOUND naming the first receipt that is not stored. */
export async function compareReceipts(ds: DataSource, leftReceiptId: string, rightReceiptId: string): Promise<ComparedReceipts> {
  const left = toReceiptMessage(await getReceipt(ds, leftReceiptId));
  const right = toReceiptMessage(await getReceipt(ds, rightReceiptId));
  return { left, right, ...compareFields(left, right) };
}
