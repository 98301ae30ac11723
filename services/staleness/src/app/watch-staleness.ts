/** WatchStaleness: the staleness changes detected from now on, as every replica's detector publishes them. */
import type { HandlerContext } from "@connectrpc/connect";
import type { ProjectScope } from "@provenance/shared/auth";
import type { StalenessHub } from "../events/staleness-hub.js";
import type { WatchedChange } from "../events/watcher.js";

/**
 * The changes of one project — or, when `projectId` is undefined, of every project the caller may view (`viewable`,
 * fixed when the stream opens): a change is handed only to streams of its project, so a change the caller may not
 * view never reaches it — until the request ends. Throws WatchLimitReached when the caller or the server holds as
 * many streams as it may; the changes throw it when the reader falls behind.
 */
export function watchStaleness(
  hub: StalenessHub,
  projectId: string | undefined,
  viewable: ProjectScope,
  ctx: HandlerContext,
): AsyncGenerator<WatchedChange> {
  const projects = projectId !== undefined ? [projectId] : viewable.all ? undefined : [...viewable.projects];
  return hub.watch(projects, ctx);
}
