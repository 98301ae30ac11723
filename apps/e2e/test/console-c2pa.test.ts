/**
 * The console's Content Credentials (`POST /c2pa/sign?segment=…`) against the real receipts service, with the c2pa
 * package's test media: the segment's file (the current receipt's output) comes back as a signed copy whose manifest,
 * read back with the C2PA library, validates against the local CA and carries the receipt; a file that is not the
 * receipt's output is refused and nothing is returned; a page that is not signed in gets 401, another origin 403.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { readManifest, sha256Hex } from "@provenance/c2pa";
import { fixtureMp4, makePng } from "@provenance/c2pa/testing";
import { C2PA_SUMMARY_HEADER, serveConsole, type C2paSummary, type RunningConsole } from "@provenance/console/serve";
import { startReceipts } from "@provenance/receipts/start";
import { ReceiptService, ReceiptStatus } from "@provenance/shared";
import { createTestEnvironment, TEST_ADMIN, TEST_PIPELINE, type TestEnvironment } from "@provenance/shared/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let test: TestEnvironment;
let dir: string;
let web: RunningConsole;
let cookie: string;
const png = makePng(64, 48, 7);
const mp4 = fixtureMp4();
const hash = (c: string) => c.repeat(64);

async function sign(segment: string, bytes: Uint8Array, type: string, headers: Record<string, string> = { cookie }) {
  const res = await fetch(`${web.url}/c2pa/sign?segment=${encodeURIComponent(segment)}&name=shot.${type.split("/")[1]}`, {
    method: "POST",
    headers: { "content-type": type, ...headers },
    body: Buffer.from(bytes),
  });
  const body = new Uint8Array(await res.arrayBuffer());
  const header = res.headers.get(C2PA_SUMMARY_HEADER);
  return {
    status: res.status,
    type: res.headers.get("content-type"),
    disposition: res.headers.get("content-disposition"),
    body,
    summary: header ? (JSON.parse(Buffer.from(header, "base64url").toString("utf8")) as C2paSummary) : undefined,
    json: () => JSON.parse(Buffer.from(body).toString("utf8")) as { code: string; message: string },
  };
}

beforeAll(async () => {
  test = await createTestEnvironment({ name: "console_c2pa" });
  const receipts = await test.start("receipts", startReceipts);
  dir = await mkdtemp(join(tmpdir(), "console-c2pa-"));
  await writeFile(join(dir, "index.html"), "<!doctype html><title>console</title>");
  web = await serveConsole({
    port: 0,
    distDir: dir,
    servicesConfig: { receipts: receipts.url, staleness: "http://127.0.0.1:1", regeneration: "http://127.0.0.1:1" },
    signIn: { mode: "local", subject: TEST_ADMIN, mintToken: () => test.token({ subject: TEST_ADMIN }) },
    c2pa: { signer: { mode: "local", directory: join(dir, "data", "c2pa") }, maxBytes: 4 * 1024 * 1024 },
  });
  cookie = (await fetch(`${web.url}/auth/session`)).headers.getSetCookie().find((c) => c.startsWith("provenance_console_session="))!.split(";")[0]!;

  const pipeline = test.client(ReceiptService, receipts.url, { subject: TEST_PIPELINE });
  for (const [segmentId, output] of [
    ["seg-c2pa-png", sha256Hex(png)],
    ["seg-c2pa-mp4", sha256Hex(mp4)],
  ] as const) {
    const { receipt } = await pipeline.createReceipt({
      segmentId,
      sceneId: "scene-c2pa",
      projectId: "p-c2pa",
      sourceImage: { assetId: "src-anna", contentHash: hash("a") },
      variantImage: { assetId: "var-anna", contentHash: hash("f") },
      workflow: { assetId: "wf", contentHash: hash("b") },
      model: { assetId: "model-wan", contentHash: hash("c"), version: 3 },
      loras: [{ asset: { assetId: "anna-lora", contentHash: hash("d"), version: 2 }, weight: 0.8 }],
      promptText: "anna on a pier",
      seed: 9007199254740993n,
      steps: 30,
      sampler: "euler",
      resolutionWidth: 64,
      resolutionHeight: 48,
      generationStartedAt: timestampFromDate(new Date("2026-11-21T10:00:00Z")),
      idempotencyKey: `c2pa-${segmentId}`,
    });
    await pipeline.completeReceipt({
      receiptId: receipt!.receiptId,
      status: ReceiptStatus.SUCCEEDED,
      generationCompletedAt: timestampFromDate(new Date("2026-11-21T10:00:30Z")),
      outputHash: output,
    });
  }
}, 60_000);

afterAll(async () => {
  await web?.close();
  await test?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("console: Content Credentials", () => {
  it("signs the segment's PNG: the copy's manifest validates against the local CA and carries the receipt", async () => {
    const res = await sign("seg-c2pa-png", png, "image/png");
    expect(res.status).toBe(200);
    expect(res.type).toBe("image/png");
    expect(res.disposition).toBe('attachment; filename="shot.c2pa.png"');
    expect(sha256Hex(res.body)).toBe(res.summary!.outputSha256);
    expect(res.summary).toMatchObject({ segmentId: "seg-c2pa-png", inputSha256: sha256Hex(png), certificate: { local: true }, validation: { state: "Trusted" } });
    expect(res.summary!.certificate.note).toMatch(/local, untrusted/);
    expect(res.summary!.actions[0]).toMatchObject({ action: "c2pa.created" });
    expect(res.summary!.receipt).toMatchObject({ output_hash: sha256Hex(png), seed: "9007199254740993", model: "model-wan v3", loras: ["anna-lora v2 × 0.8"] });

    const caPem = await readFile(join(dir, "data", "c2pa", "ca.pem"), "utf8");
    const read = await readManifest(res.body, { trustAnchorsPem: caPem });
    expect(read.validation.state).toBe("Trusted");
    expect(read.receipt?.receipt_id).toBe(res.summary!.receiptId);
    expect(read.ingredients.map((i) => i.asset?.content_hash).sort()).toEqual([hash("a"), hash("f")]);
    expect(res.summary!.ingredients.map((i) => i.contentHash).sort()).toEqual([hash("a"), hash("f")]);
  });

  it("signs the segment's MP4", async () => {
    const res = await sign("seg-c2pa-mp4", mp4, "video/mp4");
    expect(res.status).toBe(200);
    const read = await readManifest(res.body, { format: "video/mp4" });
    expect(read.validation.state).not.toBe("Invalid");
    expect(read.receipt?.output_hash).toBe(sha256Hex(mp4));
  });

  it("refuses a file that is not the receipt's output, and returns nothing signed", async () => {
    const other = makePng(64, 48, 8);
    const res = await sign("seg-c2pa-png", other, "image/png");
    expect(res.status).toBe(409);
    expect(res.summary).toBeUndefined();
    expect(res.json()).toMatchObject({ code: "failed_precondition", message: expect.stringContaining(`its SHA-256 is ${sha256Hex(other)}`) });
    expect(res.json().message).toMatch(/nothing was signed$/);
  });

  it("refuses a wrong content type, a file over the limit and an unknown segment", async () => {
    expect((await sign("seg-c2pa-png", png, "text/plain")).status).toBe(415);
    expect((await sign("seg-c2pa-png", png, "video/mp4")).status).toBe(415);
    expect((await sign("seg-c2pa-png", new Uint8Array(5 * 1024 * 1024), "image/png")).status).toBe(413);
    const unknown = await sign("seg-none", png, "image/png");
    expect(unknown.status).toBe(404);
    expect(unknown.json()).toMatchObject({ code: "not_found", message: 'the receipts service: segment "seg-none" not found' });
    expect(unknown.summary).toBeUndefined();
  });

  it("answers 401 when not signed in and 403 from another origin, signing nothing", async () => {
    const anonymous = await sign("seg-c2pa-png", png, "image/png", {});
    expect(anonymous.status).toBe(401);
    expect(anonymous.summary).toBeUndefined();
    expect((await sign("seg-c2pa-png", png, "image/png", { cookie, origin: "https://evil.example" })).status).toBe(403);
  });
});
