/** WatchStaleness: the staleness changes detected from now on, as every replica's detector publishes them. */
import type { StalenessDetected } from "@provenance/shared";
import type { StalenessHub } from "../events/staleness-hub.js";

/** The changes of one project (every project when `projectId` is undefined) until `signal` aborts. */
export function watchStaleness(hub: StalenessHub, projectId: string | undefined, signal: AbortSignal): AsyncGenerator<StalenessDetected> {
  return hub.watch(projectId ?? "", signal);
}
