/**
 * PinSegments, UnpinSegments, ListPins and the expiry of pins. A pin holds segments on an older version of an asset
 * while the asset stays on the version that was current when pinned (the rule in persistence/statements.ts waives
 * their inputs then); each change of what a pin waives — pinning, unpinning or the expiry of a pin that held —
 * enqueues one StalenessDetected for the pin's project in the transaction that makes it.
 */
import { randomBytes } from "node:crypto";
import type { EntityManager } from "typeorm";
import { currentRequestId, invalidArgument, notFound, type Logger } from "@provenance/shared";
import { detectedChange } from "../domain/detected-change.js";
import { pinHolds, type PinRecord } from "../domain/pins.js";
import { enqueueStalenessDetected } from "../events/publishers.js";
import { findVersion } from "../persistence/asset-repository.js";
import {
  databaseNow,
  findIdenticalPin,
  findPin,
  insertPin,
  listPins as readPins,
  lockExpiredPins,
  markExpiryDetected,
  markUnpinned,
  pinChange,
  readPinInputs,
  sceneInProject,
  segmentsNotInProject,
} from "../persistence/pin-repository.js";
import { lockAsset } from "./asset-change.js";
import type { AppDeps } from "./deps.js";

/** What PinSegments asks for (validated: exactly one of `sceneId` and `segmentIds`, an expiry in the future). */
export interface PinInput {
  projectId: string;
  sceneId?: string;
  segmentIds: readonly string[];
  assetId: string;
  version: number;
  reason: string;
  expiresAt?: Date;
  /** The caller's subject. */
  pinnedBy: string;
}

/** A pin with what it waives now. */
export interface PinOutcome {
  pin: PinRecord;
  /** Distinct segments the pin's inputs waive now. */
  pinnedSegments: number;
  created: boolean;
  now: Date;
}

/** Ids that sort in creation order: the time in ms (base 36, fixed width), then 48 random bits. */
function newPinId(): string {
  return `pin_${Date.now().toString(36).padStart(9, "0")}${randomBytes(6).toString("hex")}`;
}

/**
 * Enqueues the StalenessDetected of a pin change (its project, its asset on its current version, its inputs' verdicts
 * now); returns how many distinct segments the pin's inputs are waived now. Nothing is enqueued when none of its
 * inputs differ from the current version.
 */
async function enqueuePinChange(m: EntityManager, pin: PinRecord): Promise<number> {
  const change = await pinChange(m, pin.pinId);
  if (!change) return 0;
  const verdicts = await readPinInputs(m, pin.pinId);
  const detected = detectedChange(change, pin.projectId, verdicts);
  if (detected) await enqueueStalenessDetected(m, detected, currentRequestId());
  return new Set(verdicts.filter((v) => v.fresh).map((v) => v.segmentId)).size;
}

/**
 * Pins, under the asset's row lock (so no current-version change slips between reading the accepted version and the
 * insert). The asset must be the project's or shared (else NOT_FOUND, as a missing one), the version one of its
 * versions other than the current one, the segments the project's, the scene one with a segment of the project.
 * An open pin of exactly this is returned instead of a new one.
 */
export async function pinSegments(deps: AppDeps, input: PinInput): Promise<PinOutcome> {
  return deps.dataSource.transaction(async (m) => {
    const asset = await lockAsset(m, input.assetId);
    if (asset.projectId !== null && asset.projectId !== input.projectId) throw notFound("asset", input.assetId);
    const version = await findVersion(m, input.assetId, input.version);
    if (!version) throw invalidArgument("version", `asset "${input.assetId}" has no version ${input.version}`);
    if (input.version === asset.currentVersion) {
      throw invalidArgument(
        "version",
        `v${input.version} is ${asset.name}'s current version: pin the older version the segments stay on while the asset is on v${asset.currentVersion}`,
      );
    }
    if (input.sceneId !== undefined) {
      if (!(await sceneInProject(m, input.projectId, input.sceneId))) {
        throw invalidArgument("scene_id", `project "${input.projectId}" has no segment in scene "${input.sceneId}"`);
      }
    } else {
      const [outside] = await segmentsNotInProject(m, input.projectId, input.segmentIds);
      if (outside !== undefined) {
        const at = input.segmentIds.indexOf(outside);
        throw invalidArgument(`segment_ids[${at}]`, `"${outside}" is not a segment of project "${input.projectId}"`);
      }
    }
    const row = {
      projectId: input.projectId,
      sceneId: input.sceneId ?? null,
      segmentIds: input.sceneId !== undefined ? [] : input.segmentIds,
      assetId: input.assetId,
      version: input.version,
      acceptedVersion: asset.currentVersion,
      reason: input.reason,
      expiresAt: input.expiresAt ?? null,
    };
    const now = await databaseNow(m);
    const same = await findIdenticalPin(m, row);
    if (same) {
      const verdicts = await readPinInputs(m, same.pinId);
      return { pin: same, pinnedSegments: new Set(verdicts.filter((v) => v.fresh).map((v) => v.segmentId)).size, created: false, now };
    }
    const pinId = newPinId();
    await insertPin(m, { ...row, pinId, contentHash: version.contentHash, pinnedBy: input.pinnedBy });
    const pin = (await findPin(m, input.projectId, pinId))!;
    const pinnedSegments = await enqueuePinChange(m, pin);
    return { pin, pinnedSegments, created: true, now };
  });
}

/**
 * Unpins: the pin's inputs are stale again where no other pin holds them, and when the pin held (it was neither
 * expired nor lapsed) the change is published. NOT_FOUND when the project has no such pin; an ended pin is returned
 * unchanged.
 */
export async function unpinSegments(deps: AppDeps, input: { projectId: string; pinId: string; by: string }): Promise<{ pin: PinRecord; now: Date }> {
  return deps.dataSource.transaction(async (m) => {
    const before = await findPin(m, input.projectId, input.pinId, true);
    if (!before) throw notFound("pin", input.pinId);
    const now = await databaseNow(m);
    if (before.unpinnedAt !== null) return { pin: before, now };
    await markUnpinned(m, input.pinId, input.by);
    if (pinHolds(before, now)) await enqueuePinChange(m, before);
    return { pin: (await findPin(m, input.projectId, input.pinId))!, now };
  });
}

/** One page of a project's pins, newest first, and the pin id the next page starts before (none when this is the last). */
export async function listPins(
  deps: AppDeps,
  filter: { projectId: string; includeEnded: boolean; before?: string },
  limit: number,
): Promise<{ pins: PinRecord[]; nextBefore?: string; now: Date }> {
  return deps.dataSource.transaction(async (m) => {
    const pins = await readPins(m, filter, limit);
    const last = pins.at(-1);
    return { pins, nextBefore: pins.length === limit && last ? last.pinId : undefined, now: await databaseNow(m) };
  });
}

/** Most expired pins dealt with in one transaction. */
const EXPIRY_BATCH = 100;

/**
 * Deals with the pins whose expiry has passed, a batch per transaction until none is left: each is marked in the
 * transaction that enqueues its StalenessDetected (when it held until it expired: the asset was still on its accepted
 * version), so each expiry is published exactly once, whichever replica gets to it. Returns how many were dealt with.
 */
export async function expirePins(deps: AppDeps, logger: Logger): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await deps.dataSource.transaction(async (m) => {
      const expired = await lockExpiredPins(m, EXPIRY_BATCH);
      for (const { pinId, projectId } of expired) {
        const record = (await findPin(m, projectId, pinId))!;
        await markExpiryDetected(m, pinId);
        // It held until it expired when the asset is still on the version it accepted.
        if (record.currentVersion === record.acceptedVersion) await enqueuePinChange(m, record);
        logger.info({ pinId, projectId: record.projectId, assetId: record.assetId }, "pin expired");
      }
      return expired.length;
    });
    total += n;
    if (n < EXPIRY_BATCH) return total;
  }
}
