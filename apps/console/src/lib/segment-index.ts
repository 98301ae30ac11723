/** Projects, scenes and segments, assembled from reverse provenance (every registered asset's usages). */
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { ReceiptStatus } from "@gen/common_pb.js";
import type { AssetUsage } from "@gen/receipts_pb.js";

/** What the project view shows of one segment. */
export interface SegmentSummary {
  segmentId: string;
  sceneId: string;
  projectId: string;
  characterName: string;
  active: boolean;
  /** The status of its latest receipt. */
  status: ReceiptStatus;
  /** When its latest receipt's generation started, in ms since the epoch. */
  startedMs: number;
}

/** One scene and its segments, in id order. */
export interface SceneSummary {
  sceneId: string;
  segments: SegmentSummary[];
}

/** One project and its scenes, in id order. */
export interface ProjectSummary {
  projectId: string;
  scenes: SceneSummary[];
  segmentCount: number;
}

const byId = (a: string, b: string) => a.localeCompare(b, undefined, { numeric: true });

/** Folds usages (any number per segment) into one summary per segment, taking the latest receipt's status. */
export function summarizeSegments(usages: readonly AssetUsage[]): Map<string, SegmentSummary> {
  const out = new Map<string, SegmentSummary>();
  for (const u of usages) {
    const startedMs = u.generationStartedAt ? timestampMs(u.generationStartedAt) : 0;
    const seen = out.get(u.segmentId);
    if (seen && seen.startedMs > startedMs) continue;
    if (seen && seen.startedMs === startedMs && seen.status === ReceiptStatus.SUCCEEDED) continue;
    out.set(u.segmentId, {
      segmentId: u.segmentId,
      sceneId: u.sceneId,
      projectId: u.projectId,
      characterName: u.characterName,
      active: u.segmentActive,
      status: u.status,
      startedMs,
    });
  }
  return out;
}

/** Arranges segments into projects and scenes. */
export function groupProjects(segments: Iterable<SegmentSummary>): ProjectSummary[] {
  const projects = new Map<string, Map<string, SegmentSummary[]>>();
  for (const s of segments) {
    const scenes = projects.get(s.projectId) ?? new Map<string, SegmentSummary[]>();
    projects.set(s.projectId, scenes);
    const list = scenes.get(s.sceneId) ?? [];
    scenes.set(s.sceneId, list);
    list.push(s);
  }
  return [...projects.entries()]
    .sort(([a], [b]) => byId(a, b))
    .map(([projectId, scenes]) => {
      const list = [...scenes.entries()]
        .sort(([a], [b]) => byId(a, b))
        .map(([sceneId, segs]) => ({ sceneId, segments: segs.sort((a, b) => byId(a.segmentId, b.segmentId)) }));
      return { projectId, scenes: list, segmentCount: list.reduce((n, s) => n + s.segments.length, 0) };
    });
}
