import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import type { DataSource } from "typeorm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReceiptSchema, ReceiptStatus, openDatabase, type Receipt } from "@provenance/shared";
import { projectReceipt } from "../src/domain/projected-receipt.js";
import { ProjectReceipts } from "../src/app/project-receipts.js";
import type { ProjectionEvent } from "../src/domain/projection-batch.js";
import { STALENESS_APP_ROLE } from "../src/persistence/migrations/index.js";
import { STALENESS_SCHEMA } from "../src/persistence/schema.js";
import { sha, startStalenessHarness, type StalenessHarness } from "./staleness-harness.js";

/** applyBatch straight against the staleness schema (as the service's restricted role), batches composed by the test. */
describe("the projection applied in batches", () => {
  let h: StalenessHarness;
  let ds: DataSource;
  let repo: ProjectReceipts;
  beforeAll(async () => {
    h = await startStalenessHarness();
    ds = await openDatabase({ url: h.config.databaseUrl, schema: STALENESS_SCHEMA, migrations: [], appRole: STALENESS_APP_ROLE });
    repo = new ProjectReceipts(ds);
  });
  afterAll(async () => {
    await ds?.destroy();
    await h?.close();
  });

  let seq = 0;
  /** A receipt of `segmentId` created at second `at` (microsecond `micros`), with a LoRA labelled `lora`. */
  function receipt(
    segmentId: string,
    at: number,
    lora: string,
    opts: { status?: ReceiptStatus; supersedes?: string; receiptId?: string; micros?: number } = {},
  ): Receipt {
    seq += 1;
    const ref = (assetId: string, label: string) => ({ assetId, contentHash: sha(label), version: 0 });
    return create(ReceiptSchema, {
      receiptId: opts.receiptId ?? randomUUID(),
      segmentId,
      sceneId: "scene-b",
      projectId: "proj-b",
      characterName: "anna",
      sequenceIndex: seq,
      sourceImage: ref("b-src", "src"),
      workflow: ref("b-wf", "wf"),
      model: ref("b-model", "model"),
      loras: [{ asset: ref("b-lora", lora), weight: 1 }],
      status: opts.status ?? ReceiptStatus.SUCCEEDED,
      createdAt: { seconds: BigInt(1_800_000_000 + at), nanos: (opts.micros ?? 0) * 1_000 },
      supersedesSegmentId: opts.supersedes ?? "",
    });
  }
  const created = (r: Receipt, eventId = randomUUID()): ProjectionEvent => ({
    eventId,
    receipt: projectReceipt({ ...r, status: ReceiptStatus.RUNNING }),
  });
  const completed = (r: Receipt, eventId = randomUUID()): ProjectionEvent => ({
    eventId,
    receipt: projectReceipt(r, r.status === ReceiptStatus.SUCCEEDED ? r.supersedesSegmentId : ""),
  });

  /** The projection's rows for segments whose id starts with `prefix`, with the prefix cut out of every value. */
  async function state(prefix: string, opts: { withUpdatedAt?: boolean } = {}): Promise<string> {
    const segments = await h.sql.query(
      `SELECT segment_id, project_id, scene_id, character_name, sequence_index, superseded_by_segment_id,
              current_receipt_id, current_receipt_created_at::text AS current_at ${opts.withUpdatedAt ? ", updated_at::text" : ""}
         FROM staleness.segments WHERE starts_with(segment_id, $1) ORDER BY segment_id`,
      [prefix],
    );
    const inputs = await h.sql.query(
      `SELECT segment_id, role, position, asset_id, content_hash, receipt_id, project_id, scene_id, active
         FROM staleness.segment_inputs WHERE starts_with(segment_id, $1) ORDER BY segment_id, role, position`,
      [prefix],
    );
    return JSON.stringify({ segments: segments.rows, inputs: inputs.rows }, null, 1).replaceAll(prefix, "");
  }
  async function segment(id: string) {
    return (
      await h.sql.query(`SELECT current_receipt_id, scene_id, superseded_by_segment_id FROM staleness.segments WHERE segment_id = $1`, [id])
    ).rows[0];
  }
  async function inputs(id: string) {
    return (
      await h.sql.query(
        `SELECT receipt_id, content_hash, active FROM staleness.segment_inputs WHERE segment_id = $1 AND role = 'lora'`,
        [id],
      )
    ).rows;
  }

  it("applies each event of a batch once: repeats within the batch and events already applied are duplicates", async () => {
    const r = receipt("dup-b", 1, "v1");
    const c = created(r);
    const k = completed(r);
    expect(await repo.applyBatch([c, { ...c }, k, c])).toEqual(["applied", "duplicate", "became-current", "duplicate"]);
    const other = receipt("dup-b2", 1, "v1");
    expect(await repo.applyBatch([k, completed(other), c])).toEqual(["duplicate", "became-current", "duplicate"]);
    const inbox = await h.sql.query(`SELECT count(*)::int AS n FROM staleness.inbox WHERE event_id = ANY($1)`, [[c.eventId, k.eventId]]);
    expect(inbox.rows[0].n).toBe(2);
    expect(await inputs("dup-b")).toEqual([{ receipt_id: r.receiptId, content_hash: sha("v1"), active: true }]);
  });

  it("takes created and completed of one receipt in one batch in either order", async () => {
    const a = receipt("order-created-first", 2, "v1");
    const b = receipt("order-completed-first", 2, "v1");
    await repo.applyBatch([created(a), completed(a), completed(b), created(b)]);
    for (const [id, r] of [
      ["order-created-first", a],
      ["order-completed-first", b],
    ] as const) {
      expect(await segment(id)).toEqual({ current_receipt_id: r.receiptId, scene_id: "scene-b", superseded_by_segment_id: null });
      expect(await inputs(id)).toEqual([{ receipt_id: r.receiptId, content_hash: sha("v1"), active: true }]);
    }
  });

  it("makes the later of two SUCCEEDED receipts of a segment in one batch current, whichever comes first; RUNNING and FAILED never", async () => {
    const older = receipt("two-in-one", 3, "v1");
    const newer = receipt("two-in-one", 3, "v2", { micros: 1 });
    const failedLater = receipt("two-in-one", 4, "v1", { status: ReceiptStatus.FAILED });
    const runningLater = receipt("two-in-one", 5, "v1", { status: ReceiptStatus.RUNNING });
    const outcomes = await repo.applyBatch([completed(newer), completed(older), completed(failedLater), created(runningLater)]);
    expect(outcomes).toEqual(["became-current", "applied", "applied", "applied"]);
    expect((await segment("two-in-one")).current_receipt_id).toBe(newer.receiptId);
    expect(await inputs("two-in-one")).toEqual([{ receipt_id: newer.receiptId, content_hash: sha("v2"), active: true }]);

    // Same created_at: the receipt id breaks the tie, in the database's order.
    const tieA = receipt("tie", 6, "v1", { receiptId: "00000000-0000-4000-8000-00000000000a" });
    const tieB = receipt("tie", 6, "v2", { receiptId: "00000000-0000-4000-8000-00000000000b" });
    await repo.applyBatch([completed(tieB), completed(tieA)]);
    expect((await segment("tie")).current_receipt_id).toBe(tieB.receiptId);
  });

  it("keeps the later success when an older one arrives in a later batch", async () => {
    const older = receipt("two-across", 7, "v1");
    const newer = receipt("two-across", 8, "v2");
    expect(await repo.applyBatch([created(newer), completed(newer)])).toEqual(["applied", "became-current"]);
    expect(await repo.applyBatch([created(older), completed(older)])).toEqual(["applied", "applied"]);
    expect((await segment("two-across")).current_receipt_id).toBe(newer.receiptId);
    expect(await inputs("two-across")).toEqual([{ receipt_id: newer.receiptId, content_hash: sha("v2"), active: true }]);
    // And a newer one in a later batch replaces the inputs.
    const newest = receipt("two-across", 9, "v1");
    expect(await repo.applyBatch([completed(newest)])).toEqual(["became-current"]);
    expect(await inputs("two-across")).toEqual([{ receipt_id: newest.receiptId, content_hash: sha("v1"), active: true }]);
  });

  it("records a supersession that arrives before the superseded segment, in the same batch or an earlier one", async () => {
    for (const sameBatch of [true, false]) {
      const oldId = `sup-old-${sameBatch}`;
      const newId = `sup-new-${sameBatch}`;
      const replacement = receipt(newId, 11, "v2", { supersedes: oldId });
      const old = receipt(oldId, 10, "v1");
      const first = [created(replacement), completed(replacement)];
      const second = [created(old), completed(old)];
      if (sameBatch) await repo.applyBatch([...first, ...second]);
      else {
        await repo.applyBatch(first);
        expect(await segment(oldId)).toEqual({ current_receipt_id: null, scene_id: null, superseded_by_segment_id: newId });
        await repo.applyBatch(second);
      }
      expect(await segment(oldId)).toEqual({ current_receipt_id: old.receiptId, scene_id: "scene-b", superseded_by_segment_id: newId });
      expect(await inputs(oldId)).toEqual([{ receipt_id: old.receiptId, content_hash: sha("v1"), active: false }]);
      expect(await inputs(newId)).toEqual([{ receipt_id: replacement.receiptId, content_hash: sha("v2"), active: true }]);
      const project = await h.sql.query(`SELECT project_id FROM staleness.segments WHERE segment_id = $1`, [oldId]);
      expect(project.rows[0].project_id).toBe("proj-b");
    }
    // Superseding a segment already projected turns its inputs inactive.
    const before = receipt("sup-late-old", 12, "v1");
    await repo.applyBatch([completed(before)]);
    await repo.applyBatch([completed(receipt("sup-late-new", 13, "v2", { supersedes: "sup-late-old" }))]);
    expect(await inputs("sup-late-old")).toEqual([{ receipt_id: before.receiptId, content_hash: sha("v1"), active: false }]);
  });

  it("changes nothing when a whole batch is delivered again", async () => {
    const a1 = receipt("again-a", 20, "v1");
    const a2 = receipt("again-a", 21, "v2");
    const b = receipt("again-b", 22, "v1", { supersedes: "again-a" });
    const batch = [created(a1), completed(a1), completed(a2), completed(b), created(b)];
    await repo.applyBatch(batch);
    const before = await state("again-", { withUpdatedAt: true });
    const inboxBefore = (await h.sql.query(`SELECT count(*)::int AS n FROM staleness.inbox`)).rows[0].n;
    expect(await repo.applyBatch(batch)).toEqual(batch.map(() => "duplicate"));
    expect(await repo.applyBatch([...batch].reverse())).toEqual(batch.map(() => "duplicate"));
    expect(await state("again-", { withUpdatedAt: true })).toBe(before);
    expect((await h.sql.query(`SELECT count(*)::int AS n FROM staleness.inbox`)).rows[0].n).toBe(inboxBefore);
  });

  /** Events of one small history (retries, failures, a regeneration), each segment id starting with `prefix`. */
  function history(prefix: string): ProjectionEvent[] {
    const s = (n: number) => `${prefix}seg-${n}`;
    const id = (n: number) => `${prefix}00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
    const rs = [
      receipt(s(1), 30, "v1", { receiptId: id(1) }),
      receipt(s(1), 31, "v2", { receiptId: id(2), status: ReceiptStatus.FAILED }),
      receipt(s(1), 32, "v2", { receiptId: id(3) }),
      receipt(s(2), 30, "v1", { receiptId: id(4) }),
      receipt(s(2), 30, "v2", { receiptId: id(5) }),
      receipt(s(3), 33, "v1", { receiptId: id(6), supersedes: s(2) }),
      receipt(s(4), 34, "v1", { receiptId: id(7), status: ReceiptStatus.RUNNING }),
      receipt(s(5), 35, "v2", { receiptId: id(8), supersedes: s(6) }),
      receipt(s(6), 29, "v1", { receiptId: id(9) }),
      receipt(s(5), 36, "v1", { receiptId: id(10), status: ReceiptStatus.FAILED, supersedes: s(6) }),
    ];
    // Fixed placement per segment, whichever of its receipts places it.
    for (const r of rs) r.sequenceIndex = Number(r.segmentId.slice(prefix.length + 4));
    return rs.flatMap((r) => (r.status === ReceiptStatus.RUNNING ? [created(r)] : [created(r), completed(r)]));
  }

  /** A deterministic shuffle (mulberry32). */
  function shuffled<T>(xs: T[], seed: number): T[] {
    let a = seed;
    const rand = () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const out = [...xs];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }

  it("ends in the state of applying the events one by one, whatever their order and batching, redeliveries included", async () => {
    for (const e of history("seq-")) await repo.apply(e.eventId, e.receipt);
    const expected = await state("seq-");
    for (let run = 0; run < 8; run++) {
      const prefix = `perm${run}-`;
      const events = shuffled(history(prefix), run + 1);
      // Cut into batches of 1 to 7, and deliver a few events twice.
      let i = 0;
      while (i < events.length) {
        const size = 1 + ((run * 3 + i) % 7);
        const batch = events.slice(i, i + size);
        await repo.applyBatch(i % 2 === 0 ? [...batch, ...events.slice(0, 2)] : batch);
        i += size;
      }
      expect(await state(prefix)).toBe(expected);
    }
  });

  it("runs batches touching the same segments concurrently without deadlock, ending in the same state", async () => {
    for (const e of history("conc-ref-")) await repo.apply(e.eventId, e.receipt);
    const expected = await state("conc-ref-");
    for (let run = 0; run < 5; run++) {
      const prefix = `conc${run}-`;
      const events = shuffled(history(prefix), 100 + run);
      // Four batches at once, each touching most segments, in different orders.
      const batches = [0, 1, 2, 3].map((k) => events.filter((_, i) => i % 4 === k));
      await Promise.all(batches.map((b) => repo.applyBatch(b)));
      expect(await state(prefix)).toBe(expected);
    }
  });
});
