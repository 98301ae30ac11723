/** WatchStaleness: the staleness changes detected from now on, as every replica's detector publishes them. */
import type { HandlerContext } from "@connectrpc/connect";
import type { StalenessHub } from "../events/staleness-hub.js";
import type { WatchedChange } from "../events/watcher.js";

/**
 * The changes of one project (every project when `projectId` is undefined) until the request ends. Throws
 * WatchLimitReached when the caller or the server holds as many streams as it may; the changes throw it when the
 * reader falls behind.
 */
export function watchStaleness(hub: StalenessHub, projectId: string | undefined, ctx: HandlerContext): AsyncGenerator<WatchedChange> {
  return hub.watch(projectId === undefined ? undefined : [projectId], ctx);
}
