/**
 * Truly concurrent SubmitRegeneration calls with different keys, over real gRPC against the real services and
 * PostgreSQL: never two open jobs for one segment, one generation.jobs.requested per job, every loser told why.
 */
import { fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AssetKind, GENERATION_STREAM, GenerationJobRequestedSchema, JOB_REQUESTED, streamName, type SubmitRegenerationResponse } from "@provenance/shared";
import { recordGeneration, registerAsset, eventually, startLoop, type LoopHarness } from "./regeneration-harness.js";

const PROJECT = "p-race";
const SCENES = ["race-1", "race-2", "race-3", "race-4"];
const SUBMITS = 8;
let h: LoopHarness;
const segmentsOf = (sceneId: string) => [0, 1, 2, 3].map((i) => `${sceneId}-seg-${i}`);

beforeAll(async () => {
  h = await startLoop();
  const [source] = await registerAsset(h, "src-cy", AssetKind.SOURCE_IMAGE, "cy.png", ["cy"]);
  const [workflow] = await registerAsset(h, "wf-cy", AssetKind.WORKFLOW, "i2v.json", ["wf cy"]);
  const [model] = await registerAsset(h, "model-cy", AssetKind.MODEL, "wan.safetensors", ["wan cy"]);
  const [loraV1] = await registerAsset(h, "lora-cy", AssetKind.LORA, "cy_face.safetensors", ["cy face v1", "cy face v2"]);
  let seq = 0;
  for (const sceneId of SCENES) {
    for (const segmentId of segmentsOf(sceneId)) {
      seq += 1;
      await recordGeneration(
        h,
        { projectId: PROJECT, sceneId, segmentId, sequenceIndex: seq },
        { source: source!, workflow: workflow!, model: model!, loras: [{ asset: loraV1!, weight: 0.6 }] },
      );
    }
  }
  await h.settle();
  await h.assets.setCurrentVersion({ assetId: "lora-cy", version: 2 });
  await eventually(async () => (await h.report.getStalenessReport({ projectId: PROJECT })).totalStaleSegments === 16, 10_000, "16 stale");
});
afterAll(async () => {
  await h?.close();
});

type Outcome = { ok: SubmitRegenerationResponse } | { err: ConnectError };

/** Starts every request before awaiting any, so they run at once. */
async function submitAll(requests: { segmentIds?: string[]; sceneIds?: string[]; key: string }[]): Promise<Outcome[]> {
  return Promise.all(
    requests.map((r) =>
      h.regen
        .submitRegeneration({ projectId: PROJECT, segmentIds: r.segmentIds, sceneIds: r.sceneIds, idempotencyKey: r.key, requestedBy: "race@example.com" })
        .then((ok): Outcome => ({ ok }), (err: unknown): Outcome => ({ err: ConnectError.from(err) })),
    ),
  );
}

async function openJobsBySegment(): Promise<Map<string, number>> {
  const res = await h.sql.query(
    `SELECT old_segment_id, count(*)::int AS n FROM regeneration.jobs WHERE status IN ('submitted', 'running') GROUP BY old_segment_id`,
  );
  return new Map(res.rows.map((r: { old_segment_id: string; n: number }) => [r.old_segment_id, r.n]));
}

/** Every generation.jobs.requested on the stream, read without consuming the work queue. */
async function requestedJobIds(): Promise<string[]> {
  await h.settle();
  const stream = streamName(h.nats.namespace, GENERATION_STREAM);
  const info = await h.nats.jsm.streams.info(stream);
  const ids: string[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await h.nats.jsm.streams.getMessage(stream, { seq });
    if (!m) continue;
    expect(m.subject).toBe(`${h.nats.namespace}.${JOB_REQUESTED}`);
    ids.push(fromBinary(GenerationJobRequestedSchema, m.data).jobId);
  }
  return ids;
}

async function allJobIds(): Promise<string[]> {
  return (await h.sql.query(`SELECT job_id FROM regeneration.jobs ORDER BY job_id`)).rows.map((r: { job_id: string }) => r.job_id);
}

function expectClearRefusal(err: ConnectError, segments: readonly string[]) {
  expect(err.code).toBe(Code.FailedPrecondition);
  // Either the transaction's check or the unique index refused it; both name a segment of the selection.
  const named = /segment "([^"]+)"/.exec(err.rawMessage)?.[1];
  expect(segments).toContain(named);
}

describe("concurrent submits with different keys", () => {
  it.each([1, 2, 3])("of one selection, round %i: one batch wins, the other seven are refused naming a segment", async (round) => {
    const sceneId = SCENES[round - 1]!;
    const outcomes = await submitAll(Array.from({ length: SUBMITS }, (_, i) => ({ sceneIds: [sceneId], key: `race-${round}-${i}` })));
    const won = outcomes.flatMap((o) => ("ok" in o ? [o.ok] : []));
    const lost = outcomes.flatMap((o) => ("err" in o ? [o.err] : []));
    expect(won).toHaveLength(1);
    expect(won[0]!.created).toBe(true);
    expect(won[0]!.jobs.map((j) => j.plan!.oldSegmentId).sort()).toEqual(segmentsOf(sceneId));
    expect(lost).toHaveLength(SUBMITS - 1);
    for (const err of lost) expectClearRefusal(err, segmentsOf(sceneId));

    const open = await openJobsBySegment();
    for (const segmentId of segmentsOf(sceneId)) expect(open.get(segmentId)).toBe(1);
    // Nothing of a refused submission was written: one batch per round so far, four jobs each.
    const counts = await h.sql.query(`SELECT (SELECT count(*) FROM regeneration.batches)::int AS b, (SELECT count(*) FROM regeneration.jobs)::int AS j`);
    expect(counts.rows[0]).toEqual({ b: round, j: 4 * round });
    const requested = await requestedJobIds();
    expect(requested.slice().sort()).toEqual(await allJobIds());
  });

  it("of overlapping selections: no segment gets two jobs, and each submission is written whole or not at all", async () => {
    const segments = segmentsOf(SCENES[3]!);
    // Submit i selects segments i and i+1 (mod 4): every selection overlaps two others.
    const selections = Array.from({ length: SUBMITS }, (_, i) => [segments[i % 4]!, segments[(i + 1) % 4]!]);
    const before = (await allJobIds()).length;
    const outcomes = await submitAll(selections.map((segmentIds, i) => ({ segmentIds, key: `race-overlap-${i}` })));
    const taken: string[] = [];
    let batches = 0;
    outcomes.forEach((o, i) => {
      if ("ok" in o) {
        // A submit that planned after another committed leaves the other's segment out (as it would one by one).
        const mine = o.ok.jobs.map((j) => j.plan!.oldSegmentId);
        expect(o.ok.created).toBe(true);
        expect(mine.length).toBeGreaterThan(0);
        expect(o.ok.batch!.jobCount).toBe(mine.length);
        for (const segmentId of mine) expect(selections[i]).toContain(segmentId);
        taken.push(...mine);
        batches += 1;
      } else {
        expectClearRefusal(o.err, selections[i]!);
      }
    });
    expect(new Set(taken).size).toBe(taken.length);
    expect(taken.slice().sort()).toEqual(segments);
    const open = await openJobsBySegment();
    for (const segmentId of segments) expect(open.get(segmentId)).toBe(1);
    const counts = await h.sql.query(`SELECT (SELECT count(*) FROM regeneration.batches)::int AS b, (SELECT count(*) FROM regeneration.jobs)::int AS j`);
    expect(counts.rows[0]).toEqual({ b: 3 + batches, j: before + taken.length });
    const requested = await requestedJobIds();
    expect(new Set(requested).size).toBe(requested.length);
    expect(requested.slice().sort()).toEqual(await allJobIds());
  });
});
