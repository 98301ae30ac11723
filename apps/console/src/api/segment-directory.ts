/** Loads every segment the system knows, through GetAssetUsage of every registered asset (there is no list-segments RPC). */
import { readAllPages } from "./paged.js";
import type { Clients } from "./clients.js";
import { groupProjects, summarizeSegments, type ProjectSummary } from "../lib/segment-index.js";

/** Every project with its scenes and segments. Segments whose inputs are all unregistered cannot be found this way. */
export async function loadProjects(clients: Clients): Promise<ProjectSummary[]> {
  const assets = await readAllPages(async (pageToken) => {
    const res = await clients.assets.listAssets({ pageSize: 500, pageToken });
    return { items: res.assets, nextPageToken: res.nextPageToken };
  });
  const usages = await Promise.all(
    assets.map((a) =>
      readAllPages(async (pageToken) => {
        const res = await clients.receipts.getAssetUsage({ assetId: a.assetId, pageSize: 500, pageToken });
        return { items: res.usages, nextPageToken: res.nextPageToken };
      }),
    ),
  );
  return groupProjects(summarizeSegments(usages.flat()).values());
}
