import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AssetKind, AssetService, createLogger, type StalenessDetected } from "@provenance/shared";
import type { DetectionTask } from "../src/persistence/detection-repository.js";
import { startStaleness, type RunningStaleness } from "../src/start.js";
import { assetWithVersions, eventually, sha, startStalenessHarness, watchDetectedOnNats, type StalenessHarness } from "./staleness-harness.js";

/**
 * Detection runs after the change commits, from the durable task the change queued: one event per affected project,
 * each project once, the smallest first, an asset's changes in commit order, resumed after an interruption. The
 * projection is filled with SQL, as the consumer would have left it.
 */

/** Projects of the given sizes whose every active segment used `assetId` with `hash` (three scenes each). */
async function fillProjects(h: StalenessHarness, assetId: string, hash: string, sizes: Record<string, number>): Promise<void> {
  const projects = Object.keys(sizes);
  await h.sql.query(
    `INSERT INTO staleness.segments (segment_id, project_id, scene_id, character_name, sequence_index, current_receipt_id, current_receipt_created_at)
     SELECT format('%s-%s-%s', p, $3::text, lpad(n::text, 3, '0')), p, format('%s-scene-%s', p, n % 3), 'anna', n,
            format('r-%s-%s-%s', p, $3::text, n), now()
       FROM unnest($1::text[], $2::int[]) AS t(p, total), generate_series(1, total) AS n`,
    [projects, projects.map((p) => sizes[p]), assetId],
  );
  await h.sql.query(
    `INSERT INTO staleness.segment_inputs (segment_id, role, position, asset_id, content_hash, receipt_id, project_id, scene_id)
     SELECT segment_id, 'lora', 0, $2, $3, current_receipt_id, project_id, scene_id
       FROM staleness.segments WHERE project_id = ANY($1::text[]) AND segment_id LIKE '%-' || $2 || '-%'`,
    [projects, assetId, hash],
  );
}

/** Waits until every task is finished and every event relayed, then until this connection has received what NATS delivered. */
async function quiet(h: StalenessHarness): Promise<void> {
  await eventually(async () => {
    const { rows } = await h.sql.query(
      `SELECT (SELECT count(*) FROM staleness.detection_tasks WHERE finished_at IS NULL)::int
            + (SELECT count(*) FROM staleness.outbox)::int AS waiting`,
    );
    return rows[0].waiting === 0 ? true : undefined;
  }, 30_000);
  await h.nats.nc.flush();
}

function perProject(events: StalenessDetected[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of events) out[e.projectId] = (out[e.projectId] ?? 0) + 1;
  return out;
}

describe("detection, after the change commits", () => {
  let h: StalenessHarness;
  beforeAll(async () => {
    h = await startStalenessHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it("pushes one event per affected project on NATS and WatchStaleness, smallest project first, and finishes the task", async () => {
    const [v1, v2] = await assetWithVersions(h, "det-lora", AssetKind.LORA, "det_lora", ["det v1", "det v2"]);
    await quiet(h);
    await fillProjects(h, "det-lora", v1!, { "det-p1": 30, "det-p2": 5, "det-p3": 12, "det-p4": 1 });
    // A project already on v2: the change makes its segments fresh.
    await fillProjects(h, "det-lora", v2!, { "det-p5": 4 });
    const nats = watchDetectedOnNats(h);
    await nats.ready;
    const abort = new AbortController();
    const watched: StalenessDetected[] = [];
    const stream = (async () => {
      for await (const r of h.report.watchStaleness({}, { signal: abort.signal })) if (r.change?.assetId === "det-lora") watched.push(r.change);
    })().catch(() => undefined);
    await new Promise((r) => setTimeout(r, 200));

    await h.assets.setCurrentVersion({ assetId: "det-lora", version: 2 });
    // The change and its task commit together: the task is there as soon as the call returns.
    const task = await h.sql.query(
      `SELECT previous_version, current_version, current_content_hash FROM staleness.detection_tasks WHERE asset_id = 'det-lora' AND current_version = 2`,
    );
    expect(task.rows).toMatchObject([{ previous_version: 1, current_version: 2, current_content_hash: v2 }]);

    const events = await eventually(() => {
      const mine = nats.events.filter((e) => e.assetId === "det-lora");
      return mine.length === 5 ? mine : undefined;
    });
    expect(events.map((e) => e.projectId)).toEqual(["det-p4", "det-p5", "det-p2", "det-p3", "det-p1"]);
    const big = events.find((e) => e.projectId === "det-p1")!;
    expect(big).toMatchObject({ previousVersion: 1, currentVersion: 2, totalStaleSegments: 30, totalStaleScenes: 3, freshSegmentIds: [] });
    expect(big.staleSegmentIds).toHaveLength(30);
    expect(big.staleSegmentIds[0]).toBe("det-p1-det-lora-001");
    expect(big.groups.map((g) => g.summary)).toEqual(["30 segments across 3 scenes used det_lora v1 — you are on v2"]);
    expect(events.find((e) => e.projectId === "det-p5")).toMatchObject({ staleSegmentIds: [], totalStaleSegments: 0 });
    expect(events.find((e) => e.projectId === "det-p5")!.freshSegmentIds).toHaveLength(4);

    await eventually(() => (watched.length === 5 ? true : undefined));
    expect(watched.map((e) => e.projectId)).toEqual(events.map((e) => e.projectId));

    await quiet(h);
    const done = await h.sql.query(
      `SELECT t.finished_at IS NOT NULL AS finished, d.project_id, d.event_id::text, d.detection_latency_ms
         FROM staleness.detection_tasks t JOIN staleness.detection_task_projects d USING (task_id)
        WHERE t.asset_id = 'det-lora' AND t.current_version = 2 ORDER BY d.project_id`,
    );
    expect(done.rows.map((r) => [r.project_id, r.finished])).toEqual(["det-p1", "det-p2", "det-p3", "det-p4", "det-p5"].map((p) => [p, true]));
    for (const row of done.rows) {
      const event = events.find((e) => e.projectId === row.project_id)!;
      expect(event.eventId).toBe(row.event_id);
      expect(event.detectionLatencyMs).toBe(row.detection_latency_ms);
    }
    expect(perProject(nats.events.filter((e) => e.assetId === "det-lora"))).toEqual({ "det-p1": 1, "det-p2": 1, "det-p3": 1, "det-p4": 1, "det-p5": 1 });
    abort.abort();
    await stream;
    nats.stop();
  });

  it("pushes quick successive changes of one asset in commit order: every project's event of one change before the next change's", async () => {
    const [v1] = await assetWithVersions(h, "seq-lora", AssetKind.LORA, "seq_lora", ["seq v1", "seq v2", "seq v3"]);
    await quiet(h);
    await fillProjects(h, "seq-lora", v1!, { "seq-a": 3, "seq-b": 1, "seq-c": 2 });
    const nats = watchDetectedOnNats(h);
    await nats.ready;

    await h.assets.setCurrentVersion({ assetId: "seq-lora", version: 2 });
    await h.assets.setCurrentVersion({ assetId: "seq-lora", version: 1 });
    await h.assets.setCurrentVersion({ assetId: "seq-lora", version: 3 });
    await h.assets.publishVersion({ assetId: "seq-lora", contentHash: sha("seq v4"), uploadedBy: "creator" });

    await quiet(h);
    const events = nats.events.filter((e) => e.assetId === "seq-lora");
    expect(events.map((e) => `${e.previousVersion}->${e.currentVersion} ${e.projectId}`)).toEqual([
      "1->2 seq-b",
      "1->2 seq-c",
      "1->2 seq-a",
      "2->1 seq-b",
      "2->1 seq-c",
      "2->1 seq-a",
      "1->3 seq-b",
      "1->3 seq-c",
      "1->3 seq-a",
      "3->4 seq-b",
      "3->4 seq-c",
      "3->4 seq-a",
    ]);
    // The rollback to v1 made the segments fresh again, v3 stale again.
    expect(events[3]).toMatchObject({ staleSegmentIds: [], freshSegmentIds: ["seq-b-seq-lora-001"] });
    expect(events[6]).toMatchObject({ staleSegmentIds: ["seq-b-seq-lora-001"], freshSegmentIds: [] });
    nats.stop();
  });
});

describe("a detection task interrupted half-way", () => {
  let h: StalenessHarness;
  /** What the hook does after each project's commit. */
  let interrupt: (task: DetectionTask, projectId: string, done: number) => void = () => undefined;
  const doneByTask = new Map<string, number>();
  beforeAll(async () => {
    h = await startStalenessHarness({
      staleness: {
        detector: {
          pollIntervalMs: 100,
          afterProject: (task, projectId) => {
            const done = (doneByTask.get(task.taskId) ?? 0) + 1;
            doneByTask.set(task.taskId, done);
            interrupt(task, projectId, done);
          },
        },
      },
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  async function doneProjects(assetId: string): Promise<{ projects: string[]; finished: boolean }> {
    const { rows } = await h.sql.query(
      `SELECT t.finished_at IS NOT NULL AS finished, array_remove(array_agg(d.project_id ORDER BY d.project_id), NULL) AS projects
         FROM staleness.detection_tasks t LEFT JOIN staleness.detection_task_projects d USING (task_id)
        WHERE t.asset_id = $1 AND t.current_version = 2 GROUP BY t.task_id`,
      [assetId],
    );
    return rows[0];
  }

  it("by a service stop resumes when the service starts again and emits each remaining project exactly once", async () => {
    const [v1] = await assetWithVersions(h, "stop-lora", AssetKind.LORA, "stop_lora", ["stop v1"]);
    await quiet(h);
    const sizes = { "stop-a": 1, "stop-b": 2, "stop-c": 3, "stop-d": 4, "stop-e": 5, "stop-f": 6 };
    await fillProjects(h, "stop-lora", v1!, sizes);
    const nats = watchDetectedOnNats(h);
    await nats.ready;
    let stopping: Promise<void> | undefined;
    interrupt = (task, _projectId, done) => {
      // Stops the service from inside the detector, right after the second project's commit: nothing else runs after it.
      if (task.change.assetId === "stop-lora" && done === 2 && !stopping) stopping = h.stopStaleness();
    };

    await h.assets.publishVersion({ assetId: "stop-lora", contentHash: sha("stop v2"), uploadedBy: "creator" });
    await eventually(() => (stopping ? true : undefined));
    await stopping;
    // Projects are dealt with in batches (stop-a alone, then stop-b with stop-c, then the rest): the stop came after
    // the second batch's commit.
    expect(await doneProjects("stop-lora")).toEqual({ projects: ["stop-a", "stop-b", "stop-c"], finished: false });

    interrupt = () => undefined;
    await h.startStaleness();
    await quiet(h);
    expect(await doneProjects("stop-lora")).toEqual({ projects: Object.keys(sizes), finished: true });
    expect(perProject(nats.events.filter((e) => e.assetId === "stop-lora"))).toEqual(Object.fromEntries(Object.keys(sizes).map((p) => [p, 1])));
    const f = nats.events.find((e) => e.assetId === "stop-lora" && e.projectId === "stop-f")!;
    expect(f).toMatchObject({ previousVersion: 1, currentVersion: 2, totalStaleSegments: 6 });
    nats.stop();
  });

  it("by a failure resumes after a pause in the same process, without repeating a project", async () => {
    const [v1] = await assetWithVersions(h, "fail-lora", AssetKind.LORA, "fail_lora", ["fail v1"]);
    await quiet(h);
    const sizes = { "fail-a": 1, "fail-b": 2, "fail-c": 3, "fail-d": 4 };
    await fillProjects(h, "fail-lora", v1!, sizes);
    const nats = watchDetectedOnNats(h);
    await nats.ready;
    let failed = false;
    interrupt = (task, _projectId, done) => {
      if (task.change.assetId === "fail-lora" && done === 3 && !failed) {
        failed = true;
        throw new Error("simulated crash after the third project");
      }
    };

    await h.assets.publishVersion({ assetId: "fail-lora", contentHash: sha("fail v2"), uploadedBy: "creator" });
    await quiet(h);
    expect(failed).toBe(true);
    expect(await doneProjects("fail-lora")).toEqual({ projects: Object.keys(sizes), finished: true });
    expect(perProject(nats.events.filter((e) => e.assetId === "fail-lora"))).toEqual({ "fail-a": 1, "fail-b": 1, "fail-c": 1, "fail-d": 1 });
    interrupt = () => undefined;
    nats.stop();
  });
});

describe("two replicas of the service", () => {
  let h: StalenessHarness;
  let second: RunningStaleness;
  beforeAll(async () => {
    h = await startStalenessHarness({ staleness: { detector: { pollIntervalMs: 50 } } });
    second = await startStaleness(h.config, createLogger("staleness", "silent"), { detector: { pollIntervalMs: 50 } });
  });
  afterAll(async () => {
    await second?.stop();
    await h?.close();
  });

  it("share the queue: each project's event of each change exactly once, and one asset's changes processed in commit order", async () => {
    const viaSecond = h.env.client(AssetService, second.url);
    const assets = ["rep-x", "rep-y"];
    for (const assetId of assets) {
      const [v1] = await assetWithVersions(h, assetId, AssetKind.MODEL, assetId, [`${assetId} v1`, `${assetId} v2`]);
      await quiet(h);
      await fillProjects(h, assetId, v1!, { [`${assetId}-1`]: 2, [`${assetId}-2`]: 3, [`${assetId}-3`]: 1 });
    }
    const nats = watchDetectedOnNats(h);
    await nats.ready;

    // Alternate replicas and assets: v2, v1, v2, v1 for each asset.
    for (let round = 0; round < 4; round++) {
      for (const [i, assetId] of assets.entries()) {
        const client = (round + i) % 2 === 0 ? h.assets : viaSecond;
        await client.setCurrentVersion({ assetId, version: round % 2 === 0 ? 2 : 1 });
      }
    }

    await quiet(h);
    for (const assetId of assets) {
      // Processing order: every event of one change enqueued before any of the next change's. Event ids are UUIDv7,
      // ordered by the time they were made (the outbox rows themselves are gone once relayed).
      const { rows } = await h.sql.query(
        `SELECT t.current_version, count(*)::int AS events, min(d.event_id::text) AS first, max(d.event_id::text) AS last,
                array_agg(d.event_id::text ORDER BY d.event_id) AS ids
           FROM staleness.detection_tasks t
           JOIN staleness.detection_task_projects d USING (task_id)
          WHERE t.asset_id = $1 AND t.previous_version > 0 GROUP BY t.task_id ORDER BY t.task_id`,
        [assetId],
      );
      expect(rows.map((r) => [r.current_version, r.events])).toEqual([[2, 3], [1, 3], [2, 3], [1, 3]]);
      for (let k = 1; k < rows.length; k++) expect(rows[k].first > rows[k - 1].last).toBe(true);
      // Delivery: each of those events once. (Across replicas the relays may interleave their batches on the stream.)
      const events = nats.events.filter((e) => e.assetId === assetId);
      expect(events.map((e) => e.eventId).sort()).toEqual(rows.flatMap((r) => r.ids as string[]).sort());
      expect(perProject(events)).toEqual({ [`${assetId}-1`]: 4, [`${assetId}-2`]: 4, [`${assetId}-3`]: 4 });
    }
    nats.stop();
  });
});
