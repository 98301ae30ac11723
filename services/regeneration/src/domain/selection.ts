/** Which stale segments a plan or submission covers: a project, narrowed by segment ids, scene ids and an asset. */

/** A normalised selection: ids de-duplicated and sorted, so equal selections compare equal. */
export interface Selection {
  readonly projectId: string;
  /** Only these segments; empty = no narrowing by segment. */
  readonly segmentIds: readonly string[];
  /** Only segments of these scenes; empty = no narrowing by scene. */
  readonly sceneIds: readonly string[];
  /** Only segments stale because of this asset; "" = any asset. */
  readonly assetId: string;
}

/** The selection fields of a Plan or Submit request. */
export interface SelectionFields {
  projectId: string;
  segmentIds: readonly string[];
  sceneIds: readonly string[];
  assetId: string;
}

function sortedUnique(ids: readonly string[]): string[] {
  return [...new Set(ids)].sort();
}

/** Normalises request fields into a {@link Selection}. */
export function selectionOf(fields: SelectionFields): Selection {
  return {
    projectId: fields.projectId,
    segmentIds: sortedUnique(fields.segmentIds),
    sceneIds: sortedUnique(fields.sceneIds),
    assetId: fields.assetId,
  };
}

/**
 * Whether a stale segment is selected. Every given filter must hold (they narrow together):
 * segment ids AND scene ids; the asset filter is applied by asking StalenessService for that asset's segments.
 */
export function isSelected(selection: Selection, segment: { segmentId: string; sceneId: string; projectId: string }): boolean {
  if (segment.projectId !== selection.projectId) return false;
  if (selection.segmentIds.length > 0 && !selection.segmentIds.includes(segment.segmentId)) return false;
  if (selection.sceneIds.length > 0 && !selection.sceneIds.includes(segment.sceneId)) return false;
  return true;
}

/**
 * The stale segments `selection` covers, page by page, in the order given: the returned function keeps the segments
 * of each page `selection` covers and has not kept from an earlier page, so a plan can act on each page as it arrives
 * and still count a segment seen on two pages (it moved while paging) once, where first seen.
 */
export function staleSelector<T extends { segmentId: string; sceneId: string; projectId: string }>(selection: Selection): (page: readonly T[]) => T[] {
  const seen = new Set<string>();
  return (page) =>
    page.filter((s) => {
      if (!isSelected(selection, s) || seen.has(s.segmentId)) return false;
      seen.add(s.segmentId);
      return true;
    });
}

/** The selection as stored with a batch (snake_case JSON), to tell a retry from a conflicting reuse of a key. */
export function selectionDocument(selection: Selection): Record<string, unknown> {
  return {
    project_id: selection.projectId,
    segment_ids: [...selection.segmentIds],
    scene_ids: [...selection.sceneIds],
    asset_id: selection.assetId,
  };
}

/** Whether two selections are the same (both normalised). */
export function sameSelection(a: Selection, b: Selection): boolean {
  return JSON.stringify(selectionDocument(a)) === JSON.stringify(selectionDocument(b));
}

/** Reads a stored selection document back. */
export function selectionFromDocument(doc: Record<string, unknown>): Selection {
  return selectionOf({
    projectId: String(doc.project_id ?? ""),
    segmentIds: (doc.segment_ids as string[] | undefined) ?? [],
    sceneIds: (doc.scene_ids as string[] | undefined) ?? [],
    assetId: String(doc.asset_id ?? ""),
  });
}
