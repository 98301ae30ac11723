/** A caller's viewable projects as the parameter of a `project_id = ANY($n)` filter, so lists page within them in SQL. */
import type { ProjectScope } from "../auth/policy.js";

/**
 * The projects a list read from SQL may return for a caller who may view `scope` (`callerOf(ctx).viewable`):
 * undefined when it may view every project (no filter at all), else the ids to pass as `project_id = ANY($n::text[])`
 * — empty when it may view none. Filtering in the statement, not after it, keeps pages full and cursors right.
 */
export function projectFilter(scope: ProjectScope): readonly string[] | undefined {
  return scope.all ? undefined : [...scope.projects].sort();
}
