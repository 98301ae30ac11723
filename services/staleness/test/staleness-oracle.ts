/**
 * The staleness rule restated in plain TypeScript over plain rows: the oracle the equivalence tests compare the
 * service's SQL with. src/persistence/statements.ts is THE rule (it is what runs); this file runs only in tests.
 *
 * The rule: an active input is stale when its asset is registered, has a current version, and that version's content
 * hash differs from the input's; each stale input is one reason, a segment with one is stale; an input of an
 * unregistered asset is untracked. Detection judges against the change's own current version, and an input that has
 * the change's current hash, when the change moved to it from another, was made fresh by it.
 *
 * Pins: a differing input is waived (not stale, listed as pinned) while an open pin holds it — a pin of its project,
 * asset and hash, naming its scene or its segment, not unpinned, not expired at `now`, whose accepted version is the
 * asset's current one. At a change, an input such a pin waives for the change's current version is not stale, and
 * counts as made fresh when the change moved from another hash.
 */
import type pg from "pg";
import type { AssetKindName } from "../src/domain/asset-kinds.js";
import { detectedChange, type CurrentChange, type DetectedChange } from "../src/domain/detected-change.js";

/** The projection and the assets, as read plainly from their tables. */
export interface OracleTables {
  assets: { assetId: string; name: string; kind: AssetKindName }[];
  versions: { assetId: string; version: number; contentHash: string; isCurrent: boolean }[];
  /** `legacy`: not superseded, with a LEGACY receipt and no current one. */
  segments: { segmentId: string; projectId: string; active: boolean; legacy: boolean }[];
  inputs: { segmentId: string; projectId: string; sceneId: string; assetId: string; contentHash: string; active: boolean }[];
  pins: OraclePin[];
  /** The database's now(), which expiry is judged against. */
  now: Date;
}

/** A row of staleness.pins with its listed segments (none for a scene's pin). */
export interface OraclePin {
  pinId: string;
  projectId: string;
  sceneId: string | null;
  segmentIds: string[];
  assetId: string;
  contentHash: string;
  acceptedVersion: number;
  unpinned: boolean;
  expiresAt: Date | null;
  createdAt: Date;
}

/** Reads every row the rule looks at, with no staleness logic at all. */
export async function readOracleTables(sql: pg.Client): Promise<OracleTables> {
  const assets = await sql.query(`SELECT asset_id, name, kind FROM staleness.assets`);
  const versions = await sql.query(`SELECT asset_id, version, content_hash, is_current FROM staleness.asset_versions`);
  const segments = await sql.query(
    `SELECT segment_id, project_id, superseded_by_segment_id IS NULL AND current_receipt_id IS NOT NULL AS active,
            legacy AND superseded_by_segment_id IS NULL AND current_receipt_id IS NULL AS legacy FROM staleness.segments`,
  );
  const inputs = await sql.query(`SELECT segment_id, project_id, scene_id, asset_id, content_hash, active FROM staleness.segment_inputs`);
  const pins = await sql.query(
    `SELECT pin_id, project_id, scene_id, asset_id, content_hash, accepted_version, unpinned_at IS NOT NULL AS unpinned, expires_at, created_at FROM staleness.pins`,
  );
  const pinSegments = await sql.query(`SELECT pin_id, segment_id FROM staleness.pin_segments`);
  const [clock] = (await sql.query(`SELECT now() AS now`)).rows;
  return {
    pins: pins.rows.map((r) => ({
      pinId: r.pin_id,
      projectId: r.project_id,
      sceneId: r.scene_id,
      segmentIds: pinSegments.rows.filter((x) => x.pin_id === r.pin_id).map((x) => x.segment_id),
      assetId: r.asset_id,
      contentHash: r.content_hash,
      acceptedVersion: r.accepted_version,
      unpinned: r.unpinned,
      expiresAt: r.expires_at,
      createdAt: r.created_at,
    })),
    now: clock.now,
    assets: assets.rows.map((r) => ({ assetId: r.asset_id, name: r.name, kind: r.kind })),
    versions: versions.rows.map((r) => ({ assetId: r.asset_id, version: r.version, contentHash: r.content_hash, isCurrent: r.is_current })),
    segments: segments.rows.map((r) => ({ segmentId: r.segment_id, projectId: r.project_id, active: r.active, legacy: r.legacy })),
    inputs: inputs.rows.map((r) => ({
      segmentId: r.segment_id,
      projectId: r.project_id,
      sceneId: r.scene_id,
      assetId: r.asset_id,
      contentHash: r.content_hash,
      active: r.active,
    })),
  };
}

/** One stale input, with what a reason names. */
export interface OracleStaleInput {
  projectId: string;
  sceneId: string;
  segmentId: string;
  assetId: string;
  assetName: string;
  receiptVersion: number;
  currentVersion: number;
}

/** The earliest open pin that waives input `i` while its asset is on `currentVersion`; undefined when none does. */
export function waivingPin(
  t: Pick<OracleTables, "pins" | "now">,
  i: { projectId: string; sceneId: string; segmentId: string; assetId: string; contentHash: string },
  currentVersion: number,
): OraclePin | undefined {
  return t.pins
    .filter(
      (p) =>
        p.projectId === i.projectId &&
        p.assetId === i.assetId &&
        p.contentHash === i.contentHash &&
        !p.unpinned &&
        p.acceptedVersion === currentVersion &&
        (p.expiresAt === null || p.expiresAt > t.now) &&
        (p.sceneId !== null ? p.sceneId === i.sceneId : p.segmentIds.includes(i.segmentId)),
    )
    .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || compare(a.pinId, b.pinId))[0];
}

/** An input the rule would call stale, waived by a pin. */
export type OraclePinnedInput = OracleStaleInput & { pinId: string };

/** Every differing input of the tables, split by the rule into stale ones and those a pin waives. */
function differingInputs(t: OracleTables): { stale: OracleStaleInput[]; pinned: OraclePinnedInput[] } {
  const names = new Map(t.assets.map((a) => [a.assetId, a.name]));
  const out: OracleStaleInput[] = [];
  const pinned: OraclePinnedInput[] = [];
  for (const i of t.inputs) {
    if (!i.active || !names.has(i.assetId)) continue;
    const current = t.versions.find((v) => v.assetId === i.assetId && v.isCurrent);
    if (!current || current.contentHash === i.contentHash) continue;
    const used = t.versions.find((v) => v.assetId === i.assetId && v.contentHash === i.contentHash);
    const differing: OracleStaleInput = {
      projectId: i.projectId,
      sceneId: i.sceneId,
      segmentId: i.segmentId,
      assetId: i.assetId,
      assetName: names.get(i.assetId)!,
      receiptVersion: used?.version ?? 0,
      currentVersion: current.version,
    };
    const pin = waivingPin(t, i, current.version);
    if (pin) pinned.push({ ...differing, pinId: pin.pinId });
    else out.push(differing);
  }
  return { stale: out, pinned };
}

/** Every stale input of the tables, by the rule. */
export function staleInputs(t: OracleTables): OracleStaleInput[] {
  return differingInputs(t).stale;
}

/** Every input a pin waives, by the rule. */
export function pinnedInputs(t: OracleTables): OraclePinnedInput[] {
  return differingInputs(t).pinned;
}

/** A report group as the oracle computes it. */
export interface OracleGroup {
  projectId: string;
  assetId: string;
  assetName: string;
  receiptVersion: number;
  currentVersion: number;
  segmentIds: string[];
  affectedScenes: number;
}

/** The report of one project (every project when undefined): totals and groups, the groups in (project, asset, receipt version) order. */
export function oracleReport(t: OracleTables, projectId: string | undefined) {
  const inScope = (p: string) => projectId === undefined || p === projectId;
  const stale = staleInputs(t).filter((i) => inScope(i.projectId));
  const registered = new Set(t.assets.map((a) => a.assetId));
  const groups = new Map<string, OracleGroup & { segments: Set<string>; scenes: Set<string> }>();
  for (const i of stale) {
    const key = JSON.stringify([i.projectId, i.assetId, i.receiptVersion]);
    let g = groups.get(key);
    if (!g) {
      const { sceneId: _scene, segmentId: _segment, ...group } = i;
      g = { ...group, segmentIds: [], affectedScenes: 0, segments: new Set(), scenes: new Set() };
      groups.set(key, g);
    }
    g.segments.add(i.segmentId);
    g.scenes.add(i.sceneId);
  }
  // One entry per waived (segment, asset): the lowest pinned version's, with its earliest pin.
  const pinned = new Map<string, OraclePinnedInput>();
  for (const i of pinnedInputs(t).filter((x) => inScope(x.projectId))) {
    const key = JSON.stringify([i.segmentId, i.assetId]);
    const had = pinned.get(key);
    if (!had || i.receiptVersion < had.receiptVersion) pinned.set(key, i);
  }
  return {
    pinnedSegments: new Set([...pinned.values()].map((i) => i.segmentId)).size,
    pinned: [...pinned.values()]
      .sort((a, b) => compare(a.projectId, b.projectId) || compare(a.segmentId, b.segmentId) || compare(a.assetId, b.assetId))
      .map((i) => ({ projectId: i.projectId, segmentId: i.segmentId, assetId: i.assetId, version: i.receiptVersion, pinId: i.pinId })),
    totalActiveSegments: t.segments.filter((s) => s.active && inScope(s.projectId)).length,
    legacySegments: t.segments.filter((s) => s.legacy && inScope(s.projectId)).length,
    totalStaleSegments: new Set(stale.map((i) => i.segmentId)).size,
    totalStaleScenes: new Set(stale.map((i) => JSON.stringify([i.projectId, i.sceneId]))).size,
    untrackedInputs: t.inputs.filter((i) => i.active && inScope(i.projectId) && !registered.has(i.assetId)).length,
    groups: [...groups.values()]
      .map(({ segments, scenes, ...g }): OracleGroup => ({ ...g, segmentIds: [...segments].sort(), affectedScenes: scenes.size }))
      .sort(groupOrder),
  };
}

/** Orders report groups by project, asset and receipt version (the oracle's order, not the report's). */
export function groupOrder(a: OracleGroup, b: OracleGroup): number {
  return compare(a.projectId, b.projectId) || compare(a.assetId, b.assetId) || a.receiptVersion - b.receiptVersion;
}

/** The stale segments of a project and/or made stale by an asset, in id order, each with its number of reasons. */
export function oracleStaleSegments(t: OracleTables, filter: { projectId?: string; assetId?: string }): [string, number][] {
  const stale = staleInputs(t);
  const reasons = new Map<string, number>();
  for (const i of stale) reasons.set(i.segmentId, (reasons.get(i.segmentId) ?? 0) + 1);
  const chosen = new Set(
    stale
      .filter((i) => (filter.projectId === undefined || i.projectId === filter.projectId) && (filter.assetId === undefined || i.assetId === filter.assetId))
      .map((i) => i.segmentId),
  );
  return [...chosen].sort(compare).map((id) => [id, reasons.get(id)!]);
}

/** One active segment that used the changed asset, with the hash (and known version) its current receipt used. */
export interface AffectedInput {
  projectId: string;
  sceneId: string;
  segmentId: string;
  contentHash: string;
  /** The version with that hash; 0 when the hash is not a version of the asset. */
  receiptVersion: number;
}

/**
 * The detected change per affected project, the rule judged here in TypeScript: an input is stale when its hash is
 * not the change's current one, and made fresh when it is and the change moved from another hash. Projects with
 * neither are left out; the message is built by the service's own domain/detected-change.ts.
 */
export function oracleDetectedChanges(
  change: CurrentChange,
  inputs: readonly AffectedInput[],
  pins: Pick<OracleTables, "pins" | "now"> = { pins: [], now: new Date() },
): DetectedChange[] {
  const projects = [...new Set(inputs.map((i) => i.projectId))].sort((a, b) => a.localeCompare(b));
  const out: DetectedChange[] = [];
  for (const projectId of projects) {
    const verdicts = inputs
      .filter((i) => i.projectId === projectId)
      .map((i) => {
        const waived = waivingPin(pins, { ...i, assetId: change.assetId }, change.currentVersion) !== undefined;
        return {
          sceneId: i.sceneId,
          segmentId: i.segmentId,
          receiptVersion: i.receiptVersion,
          stale: i.contentHash !== change.currentContentHash && !waived,
          fresh: change.previousContentHash !== change.currentContentHash && (i.contentHash === change.currentContentHash || waived),
        };
      });
    const detected = detectedChange(change, projectId, verdicts);
    if (detected) out.push(detected);
  }
  return out;
}

/** Byte order, as the test databases' C collation orders text. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
