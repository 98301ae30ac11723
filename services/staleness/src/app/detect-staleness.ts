/**
 * Detection: turns each queued change of an asset's current version (a detection task) into one StalenessDetected
 * per affected project, after the change has committed. When and how often it runs is the detector's business
 * (events/staleness-detector.ts); what one run does is this.
 */
import type { DataSource } from "typeorm";
import { runWithRequestId, type Logger } from "@provenance/shared";
import { detectedChangeOfCounts, type DetectedChange } from "../domain/detected-change.js";
import { enqueueStalenessDetected } from "../events/publishers.js";
import {
  hasPendingTask,
  insertTaskProjects,
  pendingAssets,
  readProjectsCounts,
  taskAgeMs,
  withAssetLock,
  type DetectionSession,
  type DetectionTask,
  type RemainingProject,
  type TaskProjectRow,
} from "../persistence/detection-repository.js";

/** What one project's step did. */
export interface ProjectDetection {
  projectId: string;
  /** The event enqueued; undefined when none of the project's active inputs used the asset any more. */
  detected?: DetectedChange;
  /** From the change's commit (the task's creation) to the event's enqueueing, by the database's clock. */
  latencyMs: number;
}

/** What detection needs. */
export interface DetectStalenessOptions {
  dataSource: DataSource;
  logger: Logger;
  /** Told each enqueued event's detection latency, in seconds (the staleness_detection_latency_seconds histogram). */
  observeDetection?: (seconds: number) => void;
  /**
   * Called for each project after the transaction that dealt with it has committed (in the order they were dealt
   * with); tests use it to interrupt a task half-way.
   */
  afterProject?: (task: DetectionTask, projectId: string) => Promise<void> | void;
}

/** Raised inside a batch's transaction to roll it back: the task had already dealt with one of its projects. */
class ProjectAlreadyDone extends Error {}

/**
 * How many projects one transaction deals with: the first transaction one (the first event after the least work),
 * then twice as many as the last, as long as their inputs of the asset together stay within
 * {@link BATCH_MAX_INPUTS} (a bigger project has a transaction of its own). A transaction's commit waits for the WAL
 * flush; one per project made 200 small projects take seconds.
 */
const BATCH_MAX_INPUTS = 20_000;

/** The next batch of `remaining` (smallest first) after a batch of `previous` projects. */
export function nextBatch(remaining: readonly RemainingProject[], previous: number): RemainingProject[] {
  const most = Math.max(1, previous * 2);
  const batch: RemainingProject[] = [];
  let inputs = 0;
  for (const p of remaining) {
    if (batch.length >= most || (batch.length > 0 && inputs + p.inputs > BATCH_MAX_INPUTS)) break;
    batch.push(p);
    inputs += p.inputs;
  }
  return batch;
}

/**
 * Works through detection tasks. For one asset: takes its detection lock (one replica per asset at a time) and runs
 * its unfinished tasks oldest first (commit order); within a task, project by project, the smallest first (fewest
 * inputs of the asset), so the first events go out after the least work; each project's event is enqueued in a
 * transaction that also records the project as done, and the task is marked finished after the last. Stopped or
 * crashed half-way, a task resumes with the projects not yet done, so every affected project gets its event exactly
 * once. A project's event is computed when its turn comes, from the projection as it is then, against the task's own
 * versions, so a later change is reported by its own task, after this one.
 */
export class DetectStaleness {
  private readonly log: Logger;

  constructor(private readonly opts: DetectStalenessOptions) {
    this.log = opts.logger.child({ component: "staleness-detector" });
  }

  /** Up to `limit` assets with unfinished tasks, the one waiting longest first. */
  pendingAssets(limit: number): Promise<string[]> {
    return pendingAssets(this.opts.dataSource.manager, limit);
  }

  /**
   * Runs the asset's tasks under its lock until none is left or `stopped()` says so; "held elsewhere" when another
   * replica holds the lock. After unlocking it looks once more: a change that committed while the lock was held may
   * have found it taken, and relies on the holder to see its task.
   */
  async runAsset(assetId: string, stopped: () => boolean): Promise<"done" | "held elsewhere"> {
    for (;;) {
      const outcome = await withAssetLock(this.opts.dataSource, assetId, async (session) => {
        for (let task = await session.nextTask(); task && !stopped(); task = await session.nextTask()) {
          const t = task;
          await runWithRequestId(t.requestId, () => this.runTask(session, t, stopped));
        }
      });
      if (!outcome.ran) return "held elsewhere";
      if (stopped() || !(await hasPendingTask(this.opts.dataSource.manager, assetId))) return "done";
    }
  }

  private async runTask(session: DetectionSession, task: DetectionTask, stopped: () => boolean): Promise<void> {
    const startedAt = performance.now();
    let remaining = await session.remainingProjects(task);
    const projects = remaining.length;
    let events = 0;
    let previous = 0;
    while (remaining.length > 0) {
      if (stopped()) return;
      const batch = nextBatch(remaining, previous);
      const done = await this.detectProjects(session, task, batch);
      if (!done) {
        // Some project of the batch had been dealt with already: start again from what the task has left.
        remaining = await session.remainingProjects(task);
        previous = 0;
        continue;
      }
      remaining = remaining.slice(batch.length);
      previous = batch.length;
      for (const d of done) {
        if (d.detected) {
          events += 1;
          this.opts.observeDetection?.(d.latencyMs / 1000);
          this.log.debug({ taskId: task.taskId, projectId: d.projectId, latencyMs: d.latencyMs }, "staleness detected");
        }
      }
      for (const d of done) await this.opts.afterProject?.(task, d.projectId);
    }
    await session.finish(task);
    this.log.info(
      {
        taskId: task.taskId,
        assetId: task.change.assetId,
        version: task.change.currentVersion,
        projects,
        events,
        ms: Math.round(performance.now() - startedAt),
      },
      "staleness detection finished",
    );
  }

  /**
   * One batch of projects, in one transaction: for each, counts the project's active inputs of the asset with the
   * rule's verdicts, enqueues its StalenessDetected (when anything is stale or made fresh) and records it as done for
   * the task. Undefined when one of them was already done: the transaction is rolled back, its events with it.
   */
  private async detectProjects(session: DetectionSession, task: DetectionTask, batch: readonly RemainingProject[]): Promise<ProjectDetection[] | undefined> {
    try {
      return await session.transaction(async (m) => {
        const counts = await readProjectsCounts(
          m,
          batch.map((p) => p.projectId),
          task.change,
        );
        // The server's clock may step back between the task's creation and now.
        const latencyMs = Math.max(0, await taskAgeMs(m, task.taskId));
        const out: ProjectDetection[] = [];
        const rows: TaskProjectRow[] = [];
        for (const { projectId } of batch) {
          const detected = detectedChangeOfCounts(task.change, projectId, counts.get(projectId)!);
          let eventId: string | null = null;
          if (detected) {
            detected.detectionLatencyMs = latencyMs;
            eventId = await enqueueStalenessDetected(m, detected, task.requestId || undefined);
          }
          rows.push({ taskId: task.taskId, projectId, eventId, detectionLatencyMs: detected ? latencyMs : null });
          out.push({ projectId, detected, latencyMs });
        }
        if (!(await insertTaskProjects(m, rows))) throw new ProjectAlreadyDone();
        return out;
      });
    } catch (err) {
      if (err instanceof ProjectAlreadyDone) return undefined;
      throw err;
    }
  }
}
