/**
 * ListSegments: the segments of a project (optionally one scene) in scene, sequence index, segment id order — active
 * ones unless superseded ones are asked for too — each with its current receipt, its newest receipt's status and its
 * receipt count, whatever its inputs (registered as assets or not). Keyset-paged; an unknown project is an empty list.
 */
import type { DataSource } from "typeorm";
import type { SegmentListingRecord } from "../domain/listings.js";
import { listPageSize, pageOf, parseSegmentCursor, segmentCursorToken } from "../domain/page-cursors.js";
import { listSegments as readSegments } from "../persistence/segment-repository.js";

/** What ListSegments asks for. */
export interface SegmentsQuery {
  projectId: string;
  /** "" = every scene. */
  sceneId: string;
  includeSuperseded: boolean;
  pageSize: number;
  pageToken: string;
}

/** One page of ListSegments. */
export interface SegmentsPage {
  segments: SegmentListingRecord[];
  nextPageToken: string;
}

/** ListSegments: one statement per page (page_size default 100, at most 1000; a bad page_token is INVALID_ARGUMENT). */
export async function listSegments(ds: DataSource, query: SegmentsQuery): Promise<SegmentsPage> {
  const limit = listPageSize(query.pageSize);
  const rows = await readSegments(ds.manager, {
    projectId: query.projectId,
    sceneId: query.sceneId === "" ? undefined : query.sceneId,
    includeSuperseded: query.includeSuperseded,
    after: parseSegmentCursor(query.pageToken),
    limit: limit + 1,
  });
  const { items, nextPageToken } = pageOf(rows, limit, (last) => segmentCursorToken(last.segment));
  return { segments: items, nextPageToken };
}
