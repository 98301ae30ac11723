/**
 * The console server's receipt log check (`GET /verify/receipts/<id>`, the receipt panel's badge) against the real
 * receipts service: a receipt as served verifies in the log; one its owner changed in the database is a mismatch
 * with the reason; a checkpoint signed by another key than the trusted one is a mismatch; only a signed-in,
 * same-origin page may ask.
 */
import { createPrivateKey } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { serveConsole, type RunningConsole } from "@provenance/console/serve";
import { startReceipts } from "@provenance/receipts/start";
import { ReceiptService, ReceiptStatus } from "@provenance/shared";
import { generateSigningKey, hashLeaf, parseSigningKey, signCheckpoint, signingKeyFromSeed } from "@provenance/shared/receipt-log";
import { createTestEnvironment, TEST_ADMIN, TEST_PIPELINE, type TestEnvironment } from "@provenance/shared/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let test: TestEnvironment;
let dist: string;
let web: RunningConsole;
let pinnedElsewhere: RunningConsole;
let cookie: string;
let otherCookie: string;
let receiptId: string;

const hash = (c: string) => c.repeat(64);

async function signIn(console: RunningConsole): Promise<string> {
  const res = await fetch(`${console.url}/auth/session`);
  return res.headers.getSetCookie().find((c) => c.startsWith("provenance_console_session="))!.split(";")[0]!;
}

async function verdict(console: RunningConsole, id: string, session: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${console.url}/verify/receipts/${encodeURIComponent(id)}`, { headers: { cookie: session, ...headers } });
  const text = await res.text();
  return { status: res.status, body: (res.headers.get("content-type")?.startsWith("application/json") ? JSON.parse(text) : { text }) as Record<string, unknown> };
}

beforeAll(async () => {
  test = await createTestEnvironment({ name: "console_receipt_log" });
  const receipts = await test.start("receipts", startReceipts);
  dist = await mkdtemp(join(tmpdir(), "console-log-dist-"));
  await writeFile(join(dist, "index.html"), "<!doctype html><title>console</title>");
  const servicesConfig = { receipts: receipts.url, staleness: "http://127.0.0.1:1", regeneration: "http://127.0.0.1:1" };
  const signInAs = { mode: "local" as const, subject: TEST_ADMIN, mintToken: () => test.token({ subject: TEST_ADMIN }) };
  web = await serveConsole({ port: 0, distDir: dist, servicesConfig, signIn: signInAs });
  pinnedElsewhere = await serveConsole({ port: 0, distDir: dist, servicesConfig, signIn: signInAs, receiptLogKey: generateSigningKey("provenance.local/receipt-log").verifierKey });
  cookie = await signIn(web);
  otherCookie = await signIn(pinnedElsewhere);

  const pipeline = test.client(ReceiptService, receipts.url, { subject: TEST_PIPELINE });
  const { receipt } = await pipeline.createReceipt({
    segmentId: "seg-badge",
    sceneId: "scene-badge",
    projectId: "p-badge",
    characterName: "anna",
    sourceImage: { assetId: "src", contentHash: hash("a") },
    workflow: { assetId: "wf", contentHash: hash("b") },
    model: { assetId: "model", contentHash: hash("c") },
    loras: [{ asset: { assetId: "lora", contentHash: hash("d"), version: 2 }, weight: 0.7 }],
    promptText: "a pier at dusk",
    cfgScale: 7,
    seed: 42n,
    steps: 30,
    sampler: "euler",
    resolutionWidth: 832,
    resolutionHeight: 480,
    generationStartedAt: timestampFromDate(new Date("2026-11-21T10:00:00Z")),
    idempotencyKey: "badge-1",
  });
  receiptId = receipt!.receiptId;
  await pipeline.completeReceipt({
    receiptId,
    status: ReceiptStatus.SUCCEEDED,
    generationCompletedAt: timestampFromDate(new Date("2026-11-21T10:00:30Z")),
    outputHash: hash("e"),
  });
}, 60_000);

afterAll(async () => {
  await web?.close();
  await pinnedElsewhere?.close();
  await test?.close();
  if (dist) await rm(dist, { recursive: true, force: true });
});

describe("the console's receipt log check", () => {
  it("verifies a receipt as served against the log, at a checkpoint holding both its leaves", async () => {
    const { status, body } = await verdict(web, receiptId, cookie);
    expect(status).toBe(200);
    expect(body).toMatchObject({ state: "verified", receiptId, origin: "provenance.local/receipt-log", keySource: "first seen", reasons: [] });
    expect(body.checkpointSize).toBeGreaterThanOrEqual(2);
    expect(Object.keys(body.leafIndexes as object).sort()).toEqual(["receipt.completed", "receipt.created"]);
  });

  it("refuses a page that is not signed in (401) or of another origin (403), and says when it cannot check", async () => {
    expect((await verdict(web, receiptId, "")).status).toBe(401);
    expect((await verdict(web, receiptId, cookie, { origin: "https://evil.example" })).status).toBe(403);
    const unknown = await verdict(web, "00000000-0000-4000-8000-000000000000", cookie);
    expect(unknown.body).toMatchObject({ state: "unchecked", reasons: [expect.stringMatching(/^GetReceipt: /)] });
  });

  it("is a mismatch when the checkpoint is not signed by the key the console trusts", async () => {
    const { body } = await verdict(pinnedElsewhere, receiptId, otherCookie);
    expect(body).toMatchObject({ state: "mismatch", keySource: "configured", reasons: [expect.stringMatching(/^the log's checkpoint does not verify with key provenance\.local\/receipt-log\+[0-9a-f]{8}: /)] });
  });

  it("is a mismatch naming the inputs hash once the owner changed the receipt with the triggers off", async () => {
    await test.sql.query("BEGIN");
    await test.sql.query("SET LOCAL session_replication_role = replica");
    await test.sql.query("UPDATE receipts.generation_receipts SET prompt_text = 'another prompt' WHERE receipt_id = $1", [receiptId]);
    await test.sql.query("COMMIT");
    const { body } = await verdict(web, receiptId, cookie);
    expect(body.state).toBe("mismatch");
    expect(body.reasons).toEqual([expect.stringMatching(/^the inputs hash recomputed from the served inputs is [0-9a-f]{64}, the receipt says [0-9a-f]{64}$/)]);
  });

  it("is a mismatch once the log serves a checkpoint, signed with its own key, that does not extend the one it saw", async () => {
    // Someone holding the database and the signing key puts a checkpoint of another history at the head of the log.
    const pem = await readFile(join(test.dir, "receipt-log-signing-key.pem"), "utf8");
    const seed = Buffer.from(createPrivateKey({ key: pem, format: "pem" }).export({ format: "jwk" }).d!, "base64url");
    const signer = parseSigningKey(signingKeyFromSeed("provenance.local/receipt-log", seed).signingKey);
    const { rows } = await test.sql.query<{ size: string }>("SELECT max(tree_size)::text AS size FROM receipts.receipt_log_checkpoints");
    const forged = { origin: "provenance.local/receipt-log", size: Number(rows[0]!.size) + 3, rootHash: hashLeaf("another history") };
    await test.sql.query("INSERT INTO receipts.receipt_log_checkpoints (tree_size, root_hash, note) VALUES ($1, $2, $3)", [
      forged.size,
      forged.rootHash,
      signCheckpoint(forged, signer),
    ]);
    const { body } = await verdict(web, receiptId, cookie);
    expect(body.state).toBe("mismatch");
    expect(body.reasons).toEqual([expect.stringMatching(new RegExp(`^the log cannot prove that its checkpoint of size \\d+ is a prefix of the one of size ${forged.size} .*: rolled back or forked$|^the checkpoints of size \\d+ and ${forged.size} are not of one append-only log`))]);
  });
});
