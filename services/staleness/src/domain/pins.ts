/**
 * Pins: segments held on an older version of an asset on purpose, as stored, their state, and their API messages.
 * Pure, no I/O. Which inputs a pin waives is the staleness rule's (persistence/statements.ts), not restated here.
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { PinSchema, PinState, PinnedSegmentSchema, type Pin, type PinnedSegment } from "@provenance/shared";

/** Most segments one pin may list. */
export const MAX_PIN_SEGMENTS = 1_000;

/** A pin as stored, with its asset's name and current version when read. */
export interface PinRecord {
  pinId: string;
  projectId: string;
  /** null: a pin of `segmentIds`. */
  sceneId: string | null;
  segmentIds: string[];
  assetId: string;
  assetName: string;
  version: number;
  contentHash: string;
  acceptedVersion: number;
  reason: string;
  pinnedBy: string;
  expiresAt: Date | null;
  createdAt: Date;
  unpinnedAt: Date | null;
  unpinnedBy: string | null;
  /** The asset's current version when the pin was read. */
  currentVersion: number;
}

/** A pin's state at `now`: unpinned, expired, lapsed (the asset is not on the accepted version) or active. */
export function pinState(p: Pick<PinRecord, "unpinnedAt" | "expiresAt" | "acceptedVersion" | "currentVersion">, now: Date): PinState {
  if (p.unpinnedAt !== null) return PinState.UNPINNED;
  if (p.expiresAt !== null && p.expiresAt <= now) return PinState.EXPIRED;
  if (p.currentVersion !== p.acceptedVersion) return PinState.LAPSED;
  return PinState.ACTIVE;
}

/** Whether a pin waives anything at `now` (the rule's own condition, as a state). */
export function pinHolds(p: Parameters<typeof pinState>[0], now: Date): boolean {
  return pinState(p, now) === PinState.ACTIVE;
}

/** The API message of a pin, in its state at `now`. */
export function toPinMessage(p: PinRecord, now: Date): Pin {
  return create(PinSchema, {
    pinId: p.pinId,
    projectId: p.projectId,
    sceneId: p.sceneId ?? "",
    segmentIds: p.segmentIds,
    assetId: p.assetId,
    assetName: p.assetName,
    version: p.version,
    acceptedVersion: p.acceptedVersion,
    reason: p.reason,
    pinnedBy: p.pinnedBy,
    expiresAt: p.expiresAt ? timestampFromDate(p.expiresAt) : undefined,
    createdAt: timestampFromDate(p.createdAt),
    unpinnedAt: p.unpinnedAt ? timestampFromDate(p.unpinnedAt) : undefined,
    unpinnedBy: p.unpinnedBy ?? "",
    state: pinState(p, now),
  });
}

/** One waived (segment, asset) as the report statement returns it (`expiresAt` as JSON text, null when none). */
export interface PinnedSegmentRow {
  projectId: string;
  segmentId: string;
  sceneId: string;
  assetId: string;
  assetName: string;
  version: number;
  currentVersion: number;
  pinId: string;
  reason: string;
  pinnedBy: string;
  expiresAt: string | null;
}

/** The API message of a waived (segment, asset). */
export function toPinnedSegmentMessage(p: PinnedSegmentRow): PinnedSegment {
  return create(PinnedSegmentSchema, {
    segmentId: p.segmentId,
    sceneId: p.sceneId,
    projectId: p.projectId,
    assetId: p.assetId,
    assetName: p.assetName,
    version: p.version,
    currentVersion: p.currentVersion,
    pinId: p.pinId,
    reason: p.reason,
    pinnedBy: p.pinnedBy,
    expiresAt: p.expiresAt === null ? undefined : timestampFromDate(new Date(p.expiresAt)),
  });
}

/** How many distinct segments the waived rows name (a segment pinned for two assets counts once). */
export function pinnedSegmentCount(rows: readonly PinnedSegmentRow[]): number {
  return new Set(rows.map((r) => r.segmentId)).size;
}
