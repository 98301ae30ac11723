/** ListProjects: every project that has segments and the caller may view, in project id order, with its counts; keyset-paged. */
import type { DataSource } from "typeorm";
import { projectFilter } from "@provenance/shared";
import type { ProjectScope } from "@provenance/shared/auth";
import type { ProjectSummaryRecord } from "../domain/listings.js";
import { listPageSize, pageOf, parseProjectCursor, projectCursorToken } from "../domain/page-cursors.js";
import { listProjects as readProjects } from "../persistence/segment-repository.js";

/** One page of ListProjects. */
export interface ProjectsPage {
  projects: ProjectSummaryRecord[];
  nextPageToken: string;
}

/**
 * ListProjects: the projects in `viewable` (the caller's), one statement per page (page_size default 100, at most
 * 1000; a bad page_token is INVALID_ARGUMENT).
 */
export async function listProjects(ds: DataSource, query: { pageSize: number; pageToken: string }, viewable: ProjectScope): Promise<ProjectsPage> {
  const limit = listPageSize(query.pageSize);
  const rows = await readProjects(ds.manager, limit + 1, parseProjectCursor(query.pageToken), projectFilter(viewable));
  const { items, nextPageToken } = pageOf(rows, limit, (last) => projectCursorToken(last.projectId));
  return { projects: items, nextPageToken };
}
