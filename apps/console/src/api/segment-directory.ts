/**
 * Projects and their segments as the receipts service knows them (ReceiptService.ListProjects / ListSegments, paged):
 * every segment appears whatever its inputs, registered as assets or not.
 */
import type { ProjectSummary, SegmentListing } from "@gen/receipts_pb.js";
import { readAllPages } from "./paged.js";
import type { Clients } from "./clients.js";

const PAGE_SIZE = 500;

/** Every project that has segments, ordered by project id, with its active and superseded counts. */
export function loadProjects(clients: Clients, signal?: AbortSignal): Promise<ProjectSummary[]> {
  return readAllPages(async (pageToken) => {
    const res = await clients.receipts.listProjects({ pageSize: PAGE_SIZE, pageToken }, { signal });
    return { items: res.projects, nextPageToken: res.nextPageToken };
  });
}

/** Which segments of a project to list. */
export interface SegmentQuery {
  projectId: string;
  /** Only this scene; undefined = every scene. */
  sceneId?: string;
  /** Also the superseded ones (the default lists active segments only). */
  includeSuperseded?: boolean;
}

/** The segments of one project (or one scene of it), by scene then sequence index. */
export function loadSegments(clients: Clients, query: SegmentQuery, signal?: AbortSignal): Promise<SegmentListing[]> {
  return readAllPages(async (pageToken) => {
    const res = await clients.receipts.listSegments(
      { projectId: query.projectId, sceneId: query.sceneId ?? "", includeSuperseded: query.includeSuperseded ?? false, pageSize: PAGE_SIZE, pageToken },
      { signal },
    );
    return { items: res.segments, nextPageToken: res.nextPageToken };
  });
}
