/**
 * The detection queue (staleness.detection_tasks): a change of an asset's current version, queued by the transaction
 * that made it, turned into one provenance.staleness.detected.<project_id> event per affected project, each project in
 * a transaction of its own that also records it as done.
 */
import type { DataSource, QueryRunner } from "typeorm";
import { StalenessDetectedSchema, enqueueEvent, rowsOf } from "@provenance/shared";
import type { AssetKindName } from "../domain/asset-kinds.js";
import { detectedSubject } from "../domain/detected-subject.js";
import { detectChanges, type AffectedInput, type CurrentChange, type DetectedChange } from "../domain/staleness-groups.js";
import { STALENESS_SCHEMA } from "./asset-repository.js";

/** A queued change of an asset's current version. */
export interface DetectionTask {
  /** Increasing in commit order among one asset's tasks (a bigint, as text). */
  taskId: string;
  change: CurrentChange;
  /** The request that made the change ("" when unknown). */
  requestId: string;
}

/** What one project's step did. */
export interface ProjectDetection {
  projectId: string;
  /** The event enqueued; undefined when none of the project's active inputs used the asset any more. */
  detected?: DetectedChange;
  /** From the change's commit (the task's creation) to the event's enqueueing, by the database's clock. */
  latencyMs: number;
}

/** Whether the holder of an asset's detection lock ran the work, and what it returned. */
export type LockOutcome<T> = { ran: true; value: T } | { ran: false };

/** One project's active inputs of one asset ($1 project, $2 asset), index-only from segment_inputs_active_project_asset_idx. */
export const PROJECT_INPUTS_SQL = `
  SELECT i.scene_id, i.segment_id, i.content_hash, COALESCE(v.version, 0) AS receipt_version
    FROM staleness.segment_inputs i
    LEFT JOIN staleness.asset_versions v ON v.asset_id = i.asset_id AND v.content_hash = i.content_hash
   WHERE i.project_id = $1 AND i.asset_id = $2 AND i.active`;

/** Reads the queue and opens sessions on one asset's tasks. */
export class DetectionRepository {
  constructor(private readonly ds: DataSource) {}

  /** Assets with unfinished tasks, the one waiting longest first (detection_tasks_unfinished_idx). */
  async pendingAssets(limit: number): Promise<string[]> {
    const rows = rowsOf(
      await this.ds.query(
        `SELECT asset_id FROM staleness.detection_tasks WHERE finished_at IS NULL
          GROUP BY asset_id ORDER BY min(task_id) LIMIT $1`,
        [limit],
      ),
    );
    return rows.map((r) => r.asset_id as string);
  }

  /** Whether `assetId` has an unfinished task. */
  async hasPending(assetId: string): Promise<boolean> {
    const rows = rowsOf(
      await this.ds.query(`SELECT 1 FROM staleness.detection_tasks WHERE asset_id = $1 AND finished_at IS NULL LIMIT 1`, [assetId]),
    );
    return rows.length > 0;
  }

  /**
   * Runs `work` on a connection of its own that holds the asset's detection lock (a session advisory lock), so no
   * other replica works on the asset's tasks meanwhile and they are taken one at a time, in commit order. Returns
   * `{ ran: false }` at once when another connection holds the lock. A process that dies loses its connection, and
   * with it the lock.
   */
  async withAssetLock<T>(assetId: string, work: (session: DetectionSession) => Promise<T>): Promise<LockOutcome<T>> {
    const runner = this.ds.createQueryRunner();
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
}

function isUniqueViolation(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { code?: unknown }).code === "23505";
}

/** One asset's tasks, worked on through the connection that holds its detection lock. */
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
   * fewest such inputs first, so the first events go out after the least work. The sizes come from one index-only
   * pass over the asset's entries in segment_inputs_active_asset_project_idx, which is small (its keys repeat and are
   * deduplicated): ~50 ms for an asset used by 450,000 inputs.
   */
  async remainingProjects(task: DetectionTask): Promise<string[]> {
    const rows = rowsOf(
      await this.runner.query(
        `WITH used AS MATERIALIZED (
           SELECT project_id, count(*) AS inputs FROM staleness.segment_inputs
            WHERE asset_id = $1 AND active GROUP BY project_id
         )
         SELECT u.project_id FROM used u
          WHERE NOT EXISTS (SELECT 1 FROM staleness.detection_task_projects d WHERE d.task_id = $2 AND d.project_id = u.project_id)
          ORDER BY u.inputs, u.project_id`,
        [task.change.assetId, task.taskId],
      ),
    );
    return rows.map((r) => r.project_id as string);
  }

  /**
   * One project's step, in one transaction: reads the project's active inputs of the asset, enqueues the project's
   * StalenessDetected (as {@link detectChanges} computes it) and records the project as done for the task. Returns
   * undefined when the project was already done (the primary key of detection_task_projects refuses it a second
   * time, and the event with it).
   */
  async detectProject(task: DetectionTask, projectId: string): Promise<ProjectDetection | undefined> {
    const m = this.runner.manager;
    await this.runner.startTransaction();
    try {
      const inputs: AffectedInput[] = rowsOf(await m.query(PROJECT_INPUTS_SQL, [projectId, task.change.assetId])).map((r) => ({
        projectId,
        sceneId: (r.scene_id as string | null) ?? "",
        segmentId: r.segment_id as string,
        contentHash: r.content_hash as string,
        receiptVersion: r.receipt_version as number,
      }));
      const [detected] = detectChanges(task.change, inputs);
      const [clock] = rowsOf(
        await m.query(
          `SELECT floor(extract(epoch FROM clock_timestamp() - created_at) * 1000)::int AS ms FROM staleness.detection_tasks WHERE task_id = $1`,
          [task.taskId],
        ),
      );
      const latencyMs = Math.max(0, clock!.ms as number);
      let eventId: string | null = null;
      if (detected) {
        detected.detectionLatencyMs = latencyMs;
        eventId = await enqueueEvent(m, {
          schema: STALENESS_SCHEMA,
          subject: detectedSubject(projectId),
          eventSchema: StalenessDetectedSchema,
          event: detected,
          requestId: task.requestId || undefined,
        });
      }
      await m.query(
        `INSERT INTO staleness.detection_task_projects (task_id, project_id, event_id, detection_latency_ms) VALUES ($1, $2, $3, $4)`,
        [task.taskId, projectId, eventId, detected ? latencyMs : null],
      );
      await this.runner.commitTransaction();
      return { projectId, detected, latencyMs };
    } catch (err) {
      await this.runner.rollbackTransaction().catch(() => undefined);
      if (isUniqueViolation(err)) return undefined;
      throw err;
    }
  }

  /** Marks the task finished: every project it affected has its event. */
  async finish(task: DetectionTask): Promise<void> {
    await this.runner.query(`UPDATE staleness.detection_tasks SET finished_at = clock_timestamp() WHERE task_id = $1`, [task.taskId]);
  }
}
