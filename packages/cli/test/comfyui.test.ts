/**
 * `provenance comfyui receipt` against the real running system: --dry-run prints a request the real CreateReceipt
 * accepts (and writes nothing), sending records it, --complete completes it, and bad input is a usage error naming
 * the flag and the node.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fromJson } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { CreateReceiptRequestSchema, ReceiptStatus } from "@provenance/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha, startSystem, type CliRun, type SystemHarness } from "./system-harness.js";

/** A fixture of the comfyui package, by package name. */
const fx = (name: string) => fileURLToPath(import.meta.resolve(`@provenance/comfyui/test-fixtures/${name}`));

const T2I_ID = "6f962d0e-40d9-45e8-b378-7247258cadde";
const I2V_ID = "b7e1c0d2-9a4f-4e3b-8c5d-2f1a0e9d8c7b";

let h: SystemHarness;
let scratch: string;

beforeAll(async () => {
  h = await startSystem();
  scratch = mkdtempSync(join(tmpdir(), "comfyui-cli-"));
}, 120_000);

afterAll(async () => {
  await h?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** The arguments naming a fixture workflow's files and a segment. */
function argsFor(name: string, segment: string, more: string[] = []): string[] {
  return [
    "comfyui",
    "receipt",
    "--prompt",
    fx(`${name}.prompt.json`),
    "--history",
    fx(`${name}.history.json`),
    "--assets",
    fx("assets.json"),
    "--segment",
    segment,
    "--scene",
    "scene-c",
    "--project",
    "p-comfy",
    "--character",
    "anna",
    "--index",
    "3",
    ...more,
  ];
}

function ok(run: CliRun): string {
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  return run.stdout;
}

async function provenanceOf(segmentId: string) {
  try {
    return await h.pipeline.getSegmentProvenance({ segmentId });
  } catch (err) {
    if (ConnectError.from(err).code === Code.NotFound) return undefined;
    throw err;
  }
}

describe("provenance comfyui receipt", () => {
  it("is listed in the help, with its own options", async () => {
    expect(ok(await h.cli(["--help"]))).toContain("comfyui receipt");
    const help = ok(await h.cli(["comfyui", "receipt", "--help"]));
    expect(help).toContain("Usage: provenance comfyui receipt [options]");
    for (const option of ["--prompt FILE", "--history FILE", "--assets MAP.json", "--segment S", "--key K", "--dry-run", "--complete"]) {
      expect(help).toContain(option);
    }
  });

  it("--dry-run prints proto JSON with snake_case names, sends nothing, and the real CreateReceipt accepts it", async () => {
    const printed = JSON.parse(ok(await h.cli(argsFor("text-to-image", "seg-t2i", ["--source-file", "anna_reference.png", "--dry-run"]))));
    expect(printed).toMatchObject({
      segment_id: "seg-t2i",
      scene_id: "scene-c",
      project_id: "p-comfy",
      character_name: "anna",
      sequence_index: 3,
      seed: "18446744073709551557",
      source_image: { asset_id: "src-anna-reference", content_hash: sha("anna reference v1") },
      model: { asset_id: "model-sdxl-base", version: 1 },
      resolution_width: 1024,
      generation_started_at: "2025-11-21T10:00:00.123Z",
      idempotency_key: `comfyui:${T2I_ID}`,
    });
    expect(printed.workflow.content_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.keys(printed).filter((k) => /[A-Z]/.test(k))).toEqual([]);
    expect(await provenanceOf("seg-t2i")).toBeUndefined();

    // What buf curl -d would send: the printed JSON, parsed by the server's own JSON rules.
    const { receipt, created } = await h.pipeline.createReceipt(fromJson(CreateReceiptRequestSchema, printed));
    expect(created).toBe(true);
    expect(receipt).toMatchObject({ seed: 18446744073709551557n, promptText: "portrait of anna on the pier at golden hour, 35mm film", steps: 30 });
    expect(receipt!.inputsHash).toMatch(/^[0-9a-f]{64}$/);
    const seen = await provenanceOf("seg-t2i");
    expect(seen?.currentReceipt ?? seen?.history[0]).toMatchObject({ receiptId: receipt!.receiptId, seed: 18446744073709551557n });
  });

  it("sends what --dry-run printed: the image-to-video receipt recorded from the dry run is the one sending returns", async () => {
    const printed = JSON.parse(ok(await h.cli(argsFor("wan-image-to-video", "seg-i2v", ["--dry-run", "--workflow-asset", "wf-wan-i2v"]))));
    expect(printed).toMatchObject({
      variant_image: { asset_id: "var-anna-clothed", version: 2 },
      workflow: { asset_id: "wf-wan-i2v" },
      additional_params: { frame_count: 81, scheduler: "simple" },
      idempotency_key: `comfyui:${I2V_ID}`,
    });
    const fromDryRun = await h.pipeline.createReceipt(fromJson(CreateReceiptRequestSchema, printed));
    expect(fromDryRun.created).toBe(true);

    // The same key with different content would be ALREADY_EXISTS: an identical retry proves the requests are equal.
    const sent = ok(await h.cli(argsFor("wan-image-to-video", "seg-i2v", ["--workflow-asset", "wf-wan-i2v"])));
    expect(sent).toBe(`${fromDryRun.receipt!.receiptId}\n`);
    const other = await h.cli(argsFor("wan-image-to-video", "seg-i2v", ["--workflow-asset", "wf-other"]));
    expect(other.code).toBe(5);
    expect(other.stderr).toMatch(/^provenance: already exists: /);
  });

  it("sends and completes a LoRA-stack generation, shown by receipt show with its LoRAs in order", async () => {
    const res = JSON.parse(ok(await h.cli(argsFor("lora-stack", "seg-lora", ["--source-file", "anna_reference.png", "--complete", "--json"]))));
    expect(res.created).toBe(true);
    expect(res.receipt).toMatchObject({ status: "RECEIPT_STATUS_SUCCEEDED", generationDurationMs: "31000", seed: "9007199254740993" });
    expect(res.receipt.loras.map((l: any) => [l.asset.assetId, l.weight])).toEqual([
      ["lora-anna", 0.85],
      ["lora-film-grain", 0.4],
      ["lora-detail-tweaker", 0.6],
    ]);
    const show = ok(await h.cli(["receipt", "show", "seg-lora"]));
    expect(show).toContain(`loras:            1. lora-anna v3 ${sha("lora anna v3").slice(0, 12)} weight 0.85`);
    expect(show).toMatch(/\n\s+2\. lora-film-grain — [0-9a-f]{12} weight 0\.4\n\s+3\. lora-detail-tweaker — [0-9a-f]{12} weight 0\.6\n/);
    expect(show).toContain("duration:         31.0s");

    // Run again (a retry): the same receipt, already complete, and nothing fails.
    const again = ok(await h.cli(argsFor("lora-stack", "seg-lora", ["--source-file", "anna_reference.png", "--complete"])));
    expect(again).toBe(`${res.receipt.receiptId}\n`);
    const provenance = await provenanceOf("seg-lora");
    expect(provenance?.history).toHaveLength(1);
    expect(provenance?.currentReceipt?.status).toBe(ReceiptStatus.SUCCEEDED);
  });

  it("without a history, needs --key and takes --started-at", async () => {
    const base = ["comfyui", "receipt", "--prompt", fx("text-to-image.prompt.json"), "--assets", fx("assets.json"), "--source-file", "anna_reference.png"];
    const seg = ["--segment", "seg-nohist", "--scene", "s", "--project", "p-comfy"];
    const noKey = await h.cli([...base, ...seg, "--dry-run"]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toBe("provenance: --key: no idempotency key: give one, or a history entry whose prompt id makes comfyui:<prompt_id>\n");
    const printed = JSON.parse(ok(await h.cli([...base, ...seg, "--key", "shot-1", "--started-at", "2026-11-21T09:30:00Z", "--dry-run"])));
    expect(printed).toMatchObject({ idempotency_key: "shot-1", generation_started_at: "2026-11-21T09:30:00Z" });
  });

  it("answers bad input with exit 2 and one line naming the flag, the file and the node; nothing is written", async () => {
    const cases: [string[], RegExp | string][] = [];
    const missingPrompt = ["comfyui", "receipt", "--segment", "x", "--scene", "s", "--project", "p"];
    cases.push([missingPrompt, "provenance: --prompt is required: expected --prompt FILE (the API-format prompt (the /prompt body, or its prompt object))\n"]);

    const broken = join(scratch, "unlinked.json");
    writeFileSync(broken, JSON.stringify({ "3": { class_type: "KSampler", inputs: { seed: 1, steps: 2, cfg: 3, sampler_name: "euler", model: "m.safetensors" } } }));
    cases.push([
      ["comfyui", "receipt", "--prompt", broken, "--segment", "seg-bad", "--scene", "s", "--project", "p", "--key", "k", "--dry-run"],
      `provenance: --prompt ${broken}: node 3 (KSampler): input "model" is not linked to a model loader\n`,
    ]);

    const notJson = join(scratch, "not.json");
    writeFileSync(notJson, '{\n  "3": {,\n}');
    cases.push([["comfyui", "receipt", "--prompt", notJson, "--segment", "seg-bad", "--scene", "s", "--project", "p"], `provenance: --prompt ${notJson}: invalid JSON at line 2 column 9: expected a string key in an object\n`]);

    cases.push([
      [...argsFor("wan-image-to-video", "seg-bad").filter((a, i, all) => a !== "--assets" && all[i - 1] !== "--assets")],
      'provenance: --assets: node 37 (UNETLoader): file "wan2.1_i2v_480p_14B_fp16.safetensors" is not in the asset map (give --assets MAP.json, or --allow-untracked)\n',
    ]);
    cases.push([argsFor("text-to-image", "seg-bad"), /^provenance: --source-file: the prompt loads no image \(no LoadImage node\), and a receipt needs a source image/]);
    cases.push([argsFor("wan-image-to-video", "seg-bad", ["--sampler", "99"]), 'provenance: --sampler: "99" matches no KSampler or KSamplerAdvanced node (by id or title)\n']);
    cases.push([argsFor("wan-image-to-video", "seg-bad", ["--index", "third"]), 'provenance: --index must be a whole number from 0 to 1000000, got "third"\n']);
    cases.push([argsFor("wan-image-to-video", "seg-bad", ["--output-hash", "abc"]), "provenance: --output-hash is only used with --complete\n"]);
    cases.push([
      ["comfyui", "receipt", "--prompt", join(scratch, "missing.json"), "--segment", "x", "--scene", "s", "--project", "p"],
      `provenance: --prompt: cannot read ${join(scratch, "missing.json")} (ENOENT)\n`,
    ]);
    cases.push([
      ["comfyui", "receipt", "--prompt", fx("lora-stack.prompt.json"), "--segment", "x", "--scene", "s", "--project", "p", "--complete"],
      "provenance: --complete needs --history: the history says when and how the run ended\n",
    ]);

    for (const [argv, expected] of cases) {
      const run = await h.cli(argv);
      expect(run.code, argv.join(" ")).toBe(2);
      expect(run.stdout).toBe("");
      if (typeof expected === "string") expect(run.stderr).toBe(expected);
      else expect(run.stderr).toMatch(expected);
      expect(run.stderr.trim().split("\n")).toHaveLength(1);
    }
    expect(await provenanceOf("seg-bad")).toBeUndefined();
  });
});
