// @vitest-environment jsdom
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { create } from "@bufbuild/protobuf";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { ReceiptSchema, ReceiptStatus } from "@gen/common_pb.js";
import type { CompleteReceiptRequest, CreateReceiptRequest } from "@gen/receipts_pb.js";
import { buildComfyImport } from "../../server/src/comfyui-import.js";
import type { BuildComfyRequest, ComfyImportAnswer } from "../api/comfyui-import.js";
import { fakeClients, inApp } from "../testing/fake-clients.js";
import { ComfyImportView } from "./comfyui-import-view.js";

afterEach(cleanup);

const fixture = (name: string) => readFileSync(createRequire(import.meta.url).resolve(`@provenance/comfyui/test-fixtures/${name}`), "utf8");
/** The console server's builder itself (the library), called as the route calls it. */
const serverBuild: BuildComfyRequest = async (input) => (await buildComfyImport(JSON.parse(JSON.stringify(input)))) as ComfyImportAnswer;

function fill(prompt: string, extra: { history?: string; assets?: string; sourceFile?: string } = {}) {
  fireEvent.change(screen.getByLabelText("Prompt JSON"), { target: { value: prompt } });
  if (extra.history) fireEvent.change(screen.getByLabelText("History JSON (optional)"), { target: { value: extra.history } });
  if (extra.assets) fireEvent.change(screen.getByLabelText("Asset map JSON (optional)"), { target: { value: extra.assets } });
  fireEvent.change(screen.getByLabelText("Segment"), { target: { value: "seg-comfy" } });
  fireEvent.change(screen.getByLabelText("Scene"), { target: { value: "scene-comfy" } });
  fireEvent.change(screen.getByLabelText("Project"), { target: { value: "p-comfy" } });
  if (extra.sourceFile) fireEvent.change(screen.getByLabelText("Source file (for a prompt that loads no image)"), { target: { value: extra.sourceFile } });
}

describe("Import from ComfyUI", () => {
  it("shows the request the library builds (seed above 2^53 exact) and records it: CreateReceipt, then CompleteReceipt as the history ended", async () => {
    const created: CreateReceiptRequest[] = [];
    const completed: CompleteReceiptRequest[] = [];
    const clients = fakeClients({
      receipts: {
        createReceipt: (req) => {
          created.push(req);
          return { receipt: create(ReceiptSchema, { receiptId: "r-comfy", segmentId: req.segmentId, status: ReceiptStatus.RUNNING }), created: true };
        },
        completeReceipt: (req) => {
          completed.push(req);
          return { receipt: create(ReceiptSchema, { receiptId: req.receiptId, status: req.status }) };
        },
      },
    });
    render(inApp(<ComfyImportView build={serverBuild} />, { clients, path: "/import/comfyui", route: "/import/comfyui" }));
    expect((screen.getByRole("button", { name: "Build receipt request" }) as HTMLButtonElement).disabled).toBe(true);
    fill(fixture("lora-stack.prompt.json"), { history: fixture("lora-stack.history.json"), assets: fixture("assets.json"), sourceFile: "anna_reference.png" });
    fireEvent.click(screen.getByRole("button", { name: "Build receipt request" }));

    const shown = JSON.parse((await screen.findByLabelText("CreateReceipt request", undefined, { timeout: 15_000 })).textContent!) as Record<string, unknown>;
    expect(shown.seed).toBe("9007199254740993");
    expect(shown.segment_id).toBe("seg-comfy");
    expect(shown.idempotency_key).toBe("comfyui:0d9c8b7a-6e5f-4d3c-9b2a-1f0e9d8c7b6a");
    expect(screen.getByText(/the history says: succeeded/)).toBeTruthy();

    fireEvent.click(screen.getByRole("button", { name: "Record receipt" }));
    expect((await screen.findByRole("status")).textContent).toContain("r-comfy");
    expect(created).toHaveLength(1);
    expect(created[0]!.seed).toBe(9007199254740993n);
    expect(created[0]!.projectId).toBe("p-comfy");
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({ receiptId: "r-comfy", status: ReceiptStatus.SUCCEEDED });
    expect(screen.getByRole("status").textContent).toContain("SUCCEEDED");
  });

  it("shows the library's refusal naming the node, and offers nothing to record", async () => {
    const graph = JSON.parse(fixture("lora-stack.prompt.json")) as Record<string, unknown>;
    const prompt = (graph.prompt ?? graph) as Record<string, { class_type: string; inputs: Record<string, unknown> }>;
    const samplerId = Object.keys(prompt).find((id) => prompt[id]!.class_type.startsWith("KSampler"))!;
    delete prompt[samplerId]!.inputs.model;
    render(inApp(<ComfyImportView build={serverBuild} />, { clients: fakeClients({}), path: "/import/comfyui", route: "/import/comfyui" }));
    fill(JSON.stringify(graph), { assets: fixture("assets.json"), sourceFile: "anna_reference.png" });
    fireEvent.click(screen.getByRole("button", { name: "Build receipt request" }));
    const alert = await screen.findByRole("alert", undefined, { timeout: 15_000 });
    expect(alert.textContent).toContain(`node ${samplerId}`);
    expect(alert.textContent).toMatch(/^prompt: /);
    expect(screen.queryByRole("button", { name: "Record receipt" })).toBeNull();
  });

  it("without a history the receipt is created and left running; a service refusal is shown", async () => {
    let calls = 0;
    const clients = fakeClients({
      receipts: {
        createReceipt: () => {
          calls += 1;
          throw new (class extends Error {})("no");
        },
      },
    });
    render(inApp(<ComfyImportView build={serverBuild} />, { clients, path: "/import/comfyui", route: "/import/comfyui" }));
    fill(fixture("lora-stack.prompt.json"), { assets: fixture("assets.json"), sourceFile: "anna_reference.png" });
    fireEvent.change(screen.getByLabelText(/^Idempotency key/), { target: { value: "console-comfy-1" } });
    fireEvent.click(screen.getByRole("button", { name: "Build receipt request" }));
    expect((await screen.findByText(/no history: the receipt stays running/, undefined, { timeout: 15_000 })).textContent).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Record receipt" }));
    expect((await screen.findByRole("alert")).textContent).toContain("receipts service");
    expect(calls).toBe(1);
  });
});
