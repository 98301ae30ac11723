/** The rows of pins (staleness.pins, staleness.pin_segments): each function one read or write, in the caller's transaction. Nothing here decides. */
import type { EntityManager } from "typeorm";
import { rowsOf, type Row } from "@provenance/shared";
import type { AssetKindName } from "../domain/asset-kinds.js";
import type { CurrentChange, DetectionInput } from "../domain/detected-change.js";
import type { PinRecord } from "../domain/pins.js";
import { PIN_DETECTION_SQL } from "./statements.js";

const PIN_SELECT = `
  SELECT p.pin_id, p.project_id, p.scene_id, p.asset_id, a.name AS asset_name, p.version, p.content_hash, p.accepted_version,
         p.reason, p.pinned_by, p.expires_at, p.created_at, p.unpinned_at, p.unpinned_by,
         COALESCE(cv.version, 0) AS current_version,
         COALESCE((SELECT array_agg(ps.segment_id ORDER BY ps.segment_id) FROM staleness.pin_segments ps WHERE ps.pin_id = p.pin_id), '{}')
           AS segment_ids
    FROM staleness.pins p
    JOIN staleness.assets a ON a.asset_id = p.asset_id
    LEFT JOIN staleness.asset_versions cv ON cv.asset_id = p.asset_id AND cv.is_current`;

function pinOf(r: Row): PinRecord {
  return {
    pinId: r.pin_id as string,
    projectId: r.project_id as string,
    sceneId: (r.scene_id as string | null) ?? null,
    segmentIds: r.segment_ids as string[],
    assetId: r.asset_id as string,
    assetName: r.asset_name as string,
    version: r.version as number,
    contentHash: (r.content_hash as string).trim(),
    acceptedVersion: r.accepted_version as number,
    reason: r.reason as string,
    pinnedBy: r.pinned_by as string,
    expiresAt: (r.expires_at as Date | null) ?? null,
    createdAt: r.created_at as Date,
    unpinnedAt: (r.unpinned_at as Date | null) ?? null,
    unpinnedBy: (r.unpinned_by as string | null) ?? null,
    currentVersion: r.current_version as number,
  };
}

/** The database's clock (the transaction's now(), which the rule judges expiry by). */
export async function databaseNow(m: EntityManager): Promise<Date> {
  const [row] = rowsOf(await m.query(`SELECT now() AS now`));
  return row!.now as Date;
}

/** Of `segmentIds`, those that are not segments of `projectId` in the projection. */
export async function segmentsNotInProject(m: EntityManager, projectId: string, segmentIds: readonly string[]): Promise<string[]> {
  const rows = rowsOf(
    await m.query(
      `SELECT x.id FROM unnest($2::text[]) AS x(id)
        WHERE NOT EXISTS (SELECT 1 FROM staleness.segments s WHERE s.segment_id = x.id AND s.project_id = $1)`,
      [projectId, segmentIds],
    ),
  );
  return rows.map((r) => r.id as string);
}

/** Whether the projection has a segment of `projectId` in `sceneId`. */
export async function sceneInProject(m: EntityManager, projectId: string, sceneId: string): Promise<boolean> {
  const rows = rowsOf(await m.query(`SELECT 1 FROM staleness.segments WHERE project_id = $1 AND scene_id = $2 LIMIT 1`, [projectId, sceneId]));
  return rows.length > 0;
}

/** A pin to insert. */
export interface NewPinRow {
  pinId: string;
  projectId: string;
  sceneId: string | null;
  segmentIds: readonly string[];
  assetId: string;
  version: number;
  contentHash: string;
  acceptedVersion: number;
  reason: string;
  pinnedBy: string;
  expiresAt: Date | null;
}

/**
 * The open pin (not unpinned, not expired) that already pins exactly this: the same project, scene or set of segments,
 * asset, version, accepted version, reason and expiry.
 */
export async function findIdenticalPin(m: EntityManager, p: Omit<NewPinRow, "pinId" | "pinnedBy" | "contentHash">): Promise<PinRecord | undefined> {
  const [row] = rowsOf(
    await m.query(
      `${PIN_SELECT}
        WHERE p.project_id = $1 AND p.scene_id IS NOT DISTINCT FROM $2 AND p.asset_id = $3 AND p.version = $4 AND p.accepted_version = $5
          AND p.reason = $6 AND p.expires_at IS NOT DISTINCT FROM $7 AND p.unpinned_at IS NULL
          AND (p.expires_at IS NULL OR p.expires_at > now())
          AND COALESCE((SELECT array_agg(ps.segment_id ORDER BY ps.segment_id) FROM staleness.pin_segments ps WHERE ps.pin_id = p.pin_id), '{}')
              = COALESCE((SELECT array_agg(DISTINCT x ORDER BY x) FROM unnest($8::text[]) x), '{}')
        ORDER BY p.pin_id LIMIT 1`,
      [p.projectId, p.sceneId, p.assetId, p.version, p.acceptedVersion, p.reason, p.expiresAt, p.segmentIds],
    ),
  );
  return row ? pinOf(row) : undefined;
}

/** Inserts a pin and its listed segments (each once). */
export async function insertPin(m: EntityManager, p: NewPinRow): Promise<void> {
  await m.query(
    `INSERT INTO staleness.pins (pin_id, project_id, scene_id, asset_id, version, content_hash, accepted_version, reason, pinned_by, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [p.pinId, p.projectId, p.sceneId, p.assetId, p.version, p.contentHash, p.acceptedVersion, p.reason, p.pinnedBy, p.expiresAt],
  );
  if (p.segmentIds.length > 0) {
    await m.query(
      `INSERT INTO staleness.pin_segments (pin_id, segment_id) SELECT DISTINCT $1, x FROM unnest($2::text[]) x ON CONFLICT DO NOTHING`,
      [p.pinId, p.segmentIds],
    );
  }
}

/** A pin of `projectId`, locked for the rest of the transaction when `lock`; undefined when the project has no such pin. */
export async function findPin(m: EntityManager, projectId: string, pinId: string, lock = false): Promise<PinRecord | undefined> {
  if (lock) {
    const locked = rowsOf(await m.query(`SELECT 1 FROM staleness.pins WHERE pin_id = $1 AND project_id = $2 FOR UPDATE`, [pinId, projectId]));
    if (locked.length === 0) return undefined;
  }
  const [row] = rowsOf(await m.query(`${PIN_SELECT} WHERE p.pin_id = $1 AND p.project_id = $2`, [pinId, projectId]));
  return row ? pinOf(row) : undefined;
}

/** Stamps the pin unpinned by `by`. */
export async function markUnpinned(m: EntityManager, pinId: string, by: string): Promise<void> {
  await m.query(`UPDATE staleness.pins SET unpinned_at = now(), unpinned_by = $2 WHERE pin_id = $1`, [pinId, by]);
}

/** Up to `limit` pins of a project, newest first, after `before` (a pin id); only open ones unless `includeEnded`. */
export async function listPins(
  m: EntityManager,
  filter: { projectId: string; includeEnded: boolean; before?: string },
  limit: number,
): Promise<PinRecord[]> {
  const params: unknown[] = [filter.projectId];
  const before = filter.before !== undefined ? `AND p.pin_id < $${params.push(filter.before)}` : "";
  const open = filter.includeEnded ? "" : `AND p.unpinned_at IS NULL AND (p.expires_at IS NULL OR p.expires_at > now())`;
  const rows = rowsOf(await m.query(`${PIN_SELECT} WHERE p.project_id = $1 ${before} ${open} ORDER BY p.pin_id DESC LIMIT ${limit}`, params));
  return rows.map(pinOf);
}

/**
 * Up to `limit` pins whose expiry has passed and whose expiry nobody has dealt with, the earliest first, locked (rows
 * another transaction holds are skipped: it is dealing with them).
 */
export async function lockExpiredPins(m: EntityManager, limit: number): Promise<{ pinId: string; projectId: string }[]> {
  const rows = rowsOf(
    await m.query(
      `SELECT pin_id, project_id FROM staleness.pins
        WHERE unpinned_at IS NULL AND expiry_detected_at IS NULL AND expires_at IS NOT NULL AND expires_at <= now()
        ORDER BY expires_at, pin_id LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [limit],
    ),
  );
  return rows.map((r) => ({ pinId: r.pin_id as string, projectId: r.project_id as string }));
}

/** Records that the pin's expiry has been dealt with (its event enqueued, when it had one). */
export async function markExpiryDetected(m: EntityManager, pinId: string): Promise<void> {
  await m.query(`UPDATE staleness.pins SET expiry_detected_at = now() WHERE pin_id = $1`, [pinId]);
}

/** The "change" a pin change reports: its asset, on its current version (previous = current: no version moved). */
export async function pinChange(m: EntityManager, pinId: string): Promise<CurrentChange | undefined> {
  const [row] = rowsOf(
    await m.query(
      `SELECT a.asset_id, a.name, a.kind, cv.version, cv.content_hash
         FROM staleness.pins p JOIN staleness.assets a ON a.asset_id = p.asset_id
         JOIN staleness.asset_versions cv ON cv.asset_id = p.asset_id AND cv.is_current
        WHERE p.pin_id = $1`,
      [pinId],
    ),
  );
  if (!row) return undefined;
  const hash = (row.content_hash as string).trim();
  return {
    assetId: row.asset_id as string,
    assetName: row.name as string,
    kind: row.kind as AssetKindName,
    previousVersion: row.version as number,
    previousContentHash: hash,
    currentVersion: row.version as number,
    currentContentHash: hash,
  };
}

/** The active inputs a pin names, each with the rule's verdict now (`PIN_DETECTION_SQL`). */
export async function readPinInputs(m: EntityManager, pinId: string): Promise<DetectionInput[]> {
  const rows = rowsOf(await m.query(PIN_DETECTION_SQL, [pinId]));
  return rows.map((r) => ({
    sceneId: (r.scene_id as string | null) ?? "",
    segmentId: r.segment_id as string,
    receiptVersion: r.receipt_version as number,
    stale: r.stale as boolean,
    fresh: r.fresh as boolean,
  }));
}
