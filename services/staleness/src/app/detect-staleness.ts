/**
 * Detection: turns each queued change of an asset's current version (a detection task) into one StalenessDetected
 * per affected project, after the change has committed. When and how often it runs is the detector's business
 * (events/staleness-detector.ts); what one run does is this.
 */
import type { DataSource } from "typeorm";
import { runWithRequestId, type Logger } from "@provenance/shared";
import { detectedChange, type DetectedChange } from "../domain/detected-change.js";
import { enqueueStalenessDetected } from "../events/publishers.js";
import {
  hasPendingTask,
  insertTaskProject,
  pendingAssets,
  readProjectInputs,
  taskAgeMs,
  withAssetLock,
  type DetectionSession,
  type DetectionTask,
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
  /** Called after each project's transaction has committed; tests use it to interrupt a task half-way. */
  afterProject?: (task: DetectionTask, projectId: string) => Promise<void> | void;
}

/** Raised inside a project's transaction to roll it back: the task had already dealt with the project. */
class ProjectAlreadyDone extends Error {}

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
    const projects = await session.remainingProjects(task);
    let events = 0;
    for (const projectId of projects) {
      if (stopped()) return;
      const done = await this.detectProject(session, task, projectId);
      if (done?.detected) {
        events += 1;
        this.opts.observeDetection?.(done.latencyMs / 1000);
        this.log.debug({ taskId: task.taskId, projectId, latencyMs: done.latencyMs }, "staleness detected");
      }
      await this.opts.afterProject?.(task, projectId);
    }
    await session.finish(task);
    this.log.info(
      {
        taskId: task.taskId,
        assetId: task.change.assetId,
        version: task.change.currentVersion,
        projects: projects.length,
        events,
        ms: Math.round(performance.now() - startedAt),
      },
      "staleness detection finished",
    );
  }

  /**
   * One project's step, in one transaction: reads the project's active inputs of the asset with the rule's verdicts,
   * enqueues the project's StalenessDetected (when anything is stale or made fresh) and records the project as done
   * for the task. Undefined when the project was already done: the transaction is rolled back, the event with it.
   */
  private async detectProject(session: DetectionSession, task: DetectionTask, projectId: string): Promise<ProjectDetection | undefined> {
    try {
      return await session.transaction(async (m) => {
        const detected = detectedChange(task.change, projectId, await readProjectInputs(m, projectId, task.change));
        // The server's clock may step back between the task's creation and now.
        const latencyMs = Math.max(0, await taskAgeMs(m, task.taskId));
        let eventId: string | null = null;
        if (detected) {
          detected.detectionLatencyMs = latencyMs;
          eventId = await enqueueStalenessDetected(m, detected, task.requestId || undefined);
        }
        const recorded = await insertTaskProject(m, { taskId: task.taskId, projectId, eventId, detectionLatencyMs: detected ? latencyMs : null });
        if (!recorded) throw new ProjectAlreadyDone();
        return { projectId, detected, latencyMs };
      });
    } catch (err) {
      if (err instanceof ProjectAlreadyDone) return undefined;
      throw err;
    }
  }
}
