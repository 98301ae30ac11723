/**
 * The rows of the detection queue (staleness.detection_tasks, staleness.detection_task_projects), the asset's
 * detection lock, and the read of one project's inputs of the changed asset. Nothing here decides: the use case is
 * app/detect-staleness.ts.
 */
import type { DataSource, EntityManager, QueryRunner } from "typeorm";
import { rowsOf } from "@provenance/shared";
import type { AssetKindName } from "../domain/asset-kinds.js";
import type { CurrentChange, DetectionCounts } from "../domain/detected-change.js";
import { PROJECT_DETECTION_SQL, PROJECTS_DETECTION_SQL } from "./statements.js";

/** A queued change of an asset's current version. */
export interface DetectionTask {
  /** Increasing in commit order among one asset's tasks (a bigint, as text). */
  taskId: string;
  change: CurrentChange;
  /** The request that made the change ("" when unknown). */
  requestId: string;
}

/** A project a task has still to deal with, and how many active inputs of the task's asset it has. */
export interface RemainingProject {
  projectId: string;
  inputs: number;
}

/** Whether the holder of an asset's detection lock ran the work, and what it returned. */
export type LockOutcome<T> = { ran: true; value: T } | { ran: false };

/**
 * Queues a change of an asset's current version for detection. Taken while the change holds the asset's row lock,
 * so one asset's task ids follow commit order; its created_at (clock_timestamp(), the change's last statement) is
 * what detection latency is measured from.
 */
export async function insertDetectionTask(m: EntityManager, change: CurrentChange, requestId: string): Promise<void> {
  await m.query(
    `INSERT INTO staleness.detection_tasks (asset_id, previous_version, previous_content_hash, current_version, current_content_hash, request_id)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [change.assetId, change.previousVersion, change.previousContentHash, change.currentVersion, change.currentContentHash, requestId],
  );
}

/** Assets with unfinished tasks, the one waiting longest first (detection_tasks_unfinished_idx). */
export async function pendingAssets(m: EntityManager, limit: number): Promise<string[]> {
  const rows = rowsOf(
    await m.query(
      `SELECT asset_id FROM staleness.detection_tasks WHERE finished_at IS NULL
        GROUP BY asset_id ORDER BY min(task_id) LIMIT $1`,
      [limit],
    ),
  );
  return rows.map((r) => r.asset_id as string);
}

/** Whether `assetId` has an unfinished task. */
export async function hasPendingTask(m: EntityManager, assetId: string): Promise<boolean> {
  const rows = rowsOf(await m.query(`SELECT 1 FROM staleness.detection_tasks WHERE asset_id = $1 AND finished_at IS NULL LIMIT 1`, [assetId]));
  return rows.length > 0;
}

/**
 * Runs `work` on a connection of its own that holds the asset's detection lock (a session advisory lock), so no
 * other connection holding it works on the asset meanwhile. Returns `{ ran: false }` at once when another connection
 * holds the lock. A process that dies loses its connection, and with it the lock.
 */
export async function withAssetLock<T>(ds: DataSource, assetId: string, work: (session: DetectionSession) => Promise<T>): Promise<LockOutcome<T>> {
  const runner = ds.createQueryRunner();
  const key = `staleness.detection:${assetId}`;
  try {
    const [row] = rowsOf(await runner.query(`SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked`, [key]));
    if (!row?.locked) return { ran: false };
    try {
      return { ran: true, value: await work(new DetectionSession(runner, assetId)) };
    } finally {
      // Should the unlock fail the connection is broken, and the lock went with it.
      await runner.query(`SELECT pg_advisory_unlock(hashtextextended($1, 0))`, [key]).catch(() => undefined);
    }
  } finally {
    await runner.release();
  }
}

/** The connection holding one asset's detection lock, and the reads and writes of that asset's tasks through it. */
export class DetectionSession {
  constructor(
    private readonly runner: QueryRunner,
    /** The asset whose tasks this session may work on. */
    readonly assetId: string,
  ) {}

  /** The asset's oldest unfinished task. */
  async nextTask(): Promise<DetectionTask | undefined> {
    const [row] = rowsOf(
      await this.runner.query(
        `SELECT t.task_id::text AS task_id, t.asset_id, a.name, a.kind, t.previous_version, t.previous_content_hash,
                t.current_version, t.current_content_hash, t.request_id
           FROM staleness.detection_tasks t JOIN staleness.assets a ON a.asset_id = t.asset_id
          WHERE t.asset_id = $1 AND t.finished_at IS NULL
          ORDER BY t.task_id LIMIT 1`,
        [this.assetId],
      ),
    );
    if (!row) return undefined;
    return {
      taskId: row.task_id as string,
      requestId: row.request_id as string,
      change: {
        assetId: row.asset_id as string,
        assetName: row.name as string,
        kind: row.kind as AssetKindName,
        previousVersion: row.previous_version as number,
        previousContentHash: row.previous_content_hash as string,
        currentVersion: row.current_version as number,
        currentContentHash: row.current_content_hash as string,
      },
    };
  }

  /**
   * The projects whose active inputs use the task's asset and that the task has not dealt with yet, those with the
   * fewest such inputs first. The sizes come from one index-only pass over the asset's entries in
   * segment_inputs_active_asset_project_idx, which is small (its keys repeat and are deduplicated): ~50 ms for an
   * asset used by 450,000 inputs.
   */
  async remainingProjects(task: DetectionTask): Promise<RemainingProject[]> {
    const rows = rowsOf(
      await this.runner.query(
        `WITH used AS MATERIALIZED (
           SELECT project_id, count(*) AS inputs FROM staleness.segment_inputs
            WHERE asset_id = $1 AND active GROUP BY project_id
         )
         SELECT u.project_id, u.inputs::int AS inputs FROM used u
          WHERE NOT EXISTS (SELECT 1 FROM staleness.detection_task_projects d WHERE d.task_id = $2 AND d.project_id = u.project_id)
          ORDER BY u.inputs, u.project_id`,
        [task.change.assetId, task.taskId],
      ),
    );
    return rows.map((r) => ({ projectId: r.project_id as string, inputs: r.inputs as number }));
  }

  /**
   * Runs `work` in a transaction on this connection: committed when it resolves, rolled back when it throws. JIT
   * compilation is off in it, as in the report: the detection statement's pin probes raise its estimate past JIT's
   * threshold, and compiling (~0.1 s per project, seconds past the optimisation threshold) never pays for itself on one
   * index range.
   */
  async transaction<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
    await this.runner.startTransaction();
    try {
      await this.runner.query(`SET LOCAL jit = off`);
      // The detection statement's distinct counts sort a project's inputs of the asset (~50,000 for the biggest
      // project): in memory rather than in temporary files.
      await this.runner.query(`SET LOCAL work_mem = '64MB'`);
      const value = await work(this.runner.manager);
      await this.runner.commitTransaction();
      return value;
    } catch (err) {
      await this.runner.rollbackTransaction().catch(() => undefined);
      throw err;
    }
  }

  /** Marks the task finished. */
  async finish(task: DetectionTask): Promise<void> {
    await this.runner.query(`UPDATE staleness.detection_tasks SET finished_at = clock_timestamp() WHERE task_id = $1`, [task.taskId]);
  }
}

function noCounts(): DetectionCounts {
  return { staleSegmentIds: [], freshSegmentIds: [], totalStaleSegments: 0, totalStaleScenes: 0, groups: [] };
}

/** Adds one row of the detection statement to its project's counts. */
function addRow(counts: DetectionCounts, r: Record<string, unknown>): void {
  if (r.receipt_version === null) {
    counts.totalStaleSegments = r.stale_segments as number;
    counts.totalStaleScenes = r.stale_scenes as number;
    counts.staleSegmentIds = (r.stale_ids as string[] | null) ?? [];
    counts.freshSegmentIds = (r.fresh_ids as string[] | null) ?? [];
  } else {
    counts.groups.push({
      receiptVersion: r.receipt_version as number,
      affectedSegments: r.stale_segments as number,
      affectedScenes: r.stale_scenes as number,
      segmentIds: (r.stale_ids as string[] | null) ?? [],
    });
  }
}

function changeParams(change: CurrentChange): unknown[] {
  return [change.assetId, change.currentContentHash, change.previousContentHash, change.currentVersion];
}

/** One project's verdicts on the changed asset, counted by `PROJECT_DETECTION_SQL` (ids cut at 5,000, exact totals). */
export async function readProjectCounts(m: EntityManager, projectId: string, change: CurrentChange): Promise<DetectionCounts> {
  const counts = noCounts();
  for (const r of rowsOf(await m.query(PROJECT_DETECTION_SQL, [projectId, ...changeParams(change)]))) addRow(counts, r);
  return counts;
}

/**
 * Several projects' verdicts on the changed asset in one statement (`PROJECTS_DETECTION_SQL`), by project; a project
 * none of whose active inputs uses the asset any more has empty counts.
 */
export async function readProjectsCounts(m: EntityManager, projectIds: readonly string[], change: CurrentChange): Promise<Map<string, DetectionCounts>> {
  const out = new Map(projectIds.map((p) => [p, noCounts()]));
  for (const r of rowsOf(await m.query(PROJECTS_DETECTION_SQL, [projectIds, ...changeParams(change)]))) {
    const counts = out.get(r.project_id as string);
    if (counts) addRow(counts, r);
  }
  return out;
}

/** Records the projects as dealt with by the task; false when one of them already was (its primary key's row was there). */
export async function insertTaskProjects(m: EntityManager, rows: readonly TaskProjectRow[]): Promise<boolean> {
  const inserted = rowsOf(
    await m.query(
      `INSERT INTO staleness.detection_task_projects (task_id, project_id, event_id, detection_latency_ms)
       SELECT $1::bigint, p, e, l FROM unnest($2::text[], $3::uuid[], $4::int[]) AS t(p, e, l)
       ON CONFLICT (task_id, project_id) DO NOTHING RETURNING project_id`,
      [rows[0]?.taskId, rows.map((r) => r.projectId), rows.map((r) => r.eventId), rows.map((r) => r.detectionLatencyMs)],
    ),
  );
  return inserted.length === rows.length;
}

/** Milliseconds from the task's creation (the change's commit) to now, by the database's clock. */
export async function taskAgeMs(m: EntityManager, taskId: string): Promise<number> {
  const [clock] = rowsOf(
    await m.query(`SELECT floor(extract(epoch FROM clock_timestamp() - created_at) * 1000)::int AS ms FROM staleness.detection_tasks WHERE task_id = $1`, [
      taskId,
    ]),
  );
  return clock!.ms as number;
}

/** What a task did for one project: the event it enqueued (null when none) and that event's detection latency. */
export interface TaskProjectRow {
  taskId: string;
  projectId: string;
  eventId: string | null;
  detectionLatencyMs: number | null;
}
