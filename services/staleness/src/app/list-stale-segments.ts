/** ListStaleSegments: stale active segments of a project and/or made stale by an asset, each with every reason, paged. */
import type { StaleSegmentRecord } from "../domain/stale-segments.js";
import { readStaleSegments } from "../persistence/staleness-repository.js";
import type { StaleSegmentsFilter } from "../persistence/statements.js";
import type { AppDeps } from "./deps.js";

/** One page of stale segments, and the segment id the next page starts after (none when this is the last). */
export interface StaleSegmentPage {
  segments: StaleSegmentRecord[];
  nextAfterSegmentId?: string;
}

/** Up to `limit` stale segments of the filter in segment id order after `filter.after`; a full page may have a next one. */
export async function listStaleSegments(deps: AppDeps, filter: StaleSegmentsFilter, limit: number): Promise<StaleSegmentPage> {
  const segments = await readStaleSegments(deps.dataSource.manager, filter, limit);
  const last = segments.at(-1);
  return { segments, nextAfterSegmentId: segments.length === limit && last ? last.segmentId : undefined };
}
