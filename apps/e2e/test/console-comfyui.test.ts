/**
 * The console's Import from ComfyUI against the real receipts service: the console server builds the CreateReceipt
 * request from the comfyui package's fixtures (`POST /comfyui/receipt-request`), the page's calls record it through
 * the proxy as the signed-in user (CreateReceipt, then CompleteReceipt as the history ended), and the stored receipt
 * keeps the seed above 2^53 exact; a graph the library cannot read is refused naming the node; signed-out → 401.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serveConsole, type RunningConsole } from "@provenance/console/serve";
import { startReceipts } from "@provenance/receipts/start";
import { createTestEnvironment, TEST_ADMIN, type TestEnvironment } from "@provenance/shared/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let test: TestEnvironment;
let web: RunningConsole;
let cookie: string;

const fixture = (name: string) => readFileSync(createRequire(import.meta.url).resolve(`@provenance/comfyui/test-fixtures/${name}`), "utf8");

async function post(path: string, body: unknown, headers: Record<string, string> = { cookie }) {
  const res = await fetch(`${web.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "connect-protocol-version": "1", ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (res.headers.get("content-type")?.startsWith("application/json") ? JSON.parse(text) : { text }) as Record<string, unknown> };
}

beforeAll(async () => {
  test = await createTestEnvironment({ name: "console_comfyui" });
  const receipts = await test.start("receipts", startReceipts);
  const dist = await mkdtemp(join(tmpdir(), "console-comfy-dist-"));
  await writeFile(join(dist, "index.html"), "<!doctype html><title>console</title>");
  web = await serveConsole({
    port: 0,
    distDir: dist,
    servicesConfig: { receipts: receipts.url, staleness: "http://127.0.0.1:1", regeneration: "http://127.0.0.1:1" },
    signIn: { mode: "local", subject: TEST_ADMIN, mintToken: () => test.token({ subject: TEST_ADMIN }) },
  });
  const res = await fetch(`${web.url}/auth/session`);
  cookie = res.headers.getSetCookie().find((c) => c.startsWith("provenance_console_session="))!.split(";")[0]!;
}, 60_000);

afterAll(async () => {
  await web?.close();
  await test?.close();
});

describe("console: Import from ComfyUI", () => {
  const place = { segmentId: "seg-comfy-e2e", sceneId: "scene-comfy-e2e", projectId: "p-comfy-e2e", sourceFile: "anna_reference.png" };

  it("builds the request from a LoRA-stack prompt and history, and records and completes it through the proxy with the seed exact", async () => {
    const built = await post("/comfyui/receipt-request", {
      prompt: fixture("lora-stack.prompt.json"),
      history: fixture("lora-stack.history.json"),
      assets: fixture("assets.json"),
      ...place,
    });
    expect(built.status).toBe(200);
    const request = built.body.request as Record<string, unknown>;
    expect(request.seed).toBe("9007199254740993");
    expect((request.loras as unknown[]).length).toBeGreaterThan(1);
    const run = built.body.run as { outcome: string; completedAt: string };
    expect(run.outcome).toBe("succeeded");

    const created = await post("/svc/receipts/provenance.v1.ReceiptService/CreateReceipt", request);
    expect(created.status).toBe(200);
    const receipt = created.body.receipt as Record<string, unknown>;
    expect(receipt.status).toBe("RECEIPT_STATUS_RUNNING");
    const done = await post("/svc/receipts/provenance.v1.ReceiptService/CompleteReceipt", {
      receiptId: receipt.receiptId,
      status: "RECEIPT_STATUS_SUCCEEDED",
      generationCompletedAt: run.completedAt,
    });
    expect(done.status).toBe(200);
    const stored = await post("/svc/receipts/provenance.v1.ReceiptService/GetReceipt", { receiptId: receipt.receiptId });
    const got = stored.body.receipt as Record<string, unknown>;
    expect(got).toMatchObject({ seed: "9007199254740993", status: "RECEIPT_STATUS_SUCCEEDED", segmentId: place.segmentId, idempotencyKey: "comfyui:0d9c8b7a-6e5f-4d3c-9b2a-1f0e9d8c7b6a" });
  });

  it("refuses a graph it cannot read naming the node, and a body without the prompt naming the field", async () => {
    const graph = JSON.parse(fixture("wan-image-to-video.prompt.json")) as Record<string, unknown>;
    const prompt = (graph.prompt ?? graph) as Record<string, { class_type: string; inputs: Record<string, unknown> }>;
    const samplerId = Object.keys(prompt).find((id) => prompt[id]!.class_type.startsWith("KSampler"))!;
    delete prompt[samplerId]!.inputs.model;
    const refused = await post("/comfyui/receipt-request", { prompt: JSON.stringify(graph), assets: fixture("assets.json"), ...place });
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ ok: false, source: "prompt", nodeId: samplerId });
    expect(String(refused.body.message)).toContain(`node ${samplerId}`);
    const missing = await post("/comfyui/receipt-request", { ...place });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ code: "invalid_argument", message: "prompt: is required" });
  });

  it("answers 401 when not signed in and 403 from another origin", async () => {
    const body = { prompt: fixture("lora-stack.prompt.json"), ...place };
    expect((await post("/comfyui/receipt-request", body, {})).status).toBe(401);
    expect((await post("/comfyui/receipt-request", body, { cookie, origin: "https://evil.example" })).status).toBe(403);
  });
});
