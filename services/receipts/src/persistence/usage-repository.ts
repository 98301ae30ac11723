/** Reverse usage rows (receipt_inputs by asset, with receipt and segment): reads them and decides nothing. */
import type { EntityManager } from "typeorm";
import type { Row } from "@provenance/shared";
import type { UsageRecord } from "../domain/asset-usage.js";
import type { UsageCursor } from "../domain/page-cursors.js";
import { usageOf } from "./row-records.js";
import { assetUsageSql } from "./statements.js";

/**
 * Up to `limit` inputs that named `assetId` (with `contentHash` when given), newest receipt first, after `after`;
 * only of segments in `projects` when given.
 */
export async function assetUsage(
  m: EntityManager,
  assetId: string,
  contentHash: string | undefined,
  limit: number,
  after?: UsageCursor,
  projects?: readonly string[],
): Promise<UsageRecord[]> {
  const params: unknown[] = [assetId];
  if (contentHash !== undefined) params.push(contentHash);
  if (after !== undefined) params.push(after.receiptSeq.toString(), after.role, after.position);
  if (projects !== undefined) params.push(projects);
  const sql = assetUsageSql({ byContentHash: contentHash !== undefined, after: after !== undefined, byProjects: projects !== undefined, limit });
  const rows: Row[] = await m.query(sql, params);
  return rows.map(usageOf);
}
