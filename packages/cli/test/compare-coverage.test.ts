/** `provenance receipt compare`, `provenance coverage` and `provenance legacy import` against the real running system. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, receiptRequest, recordSegment, sha, startSystem, type SystemHarness } from "./system-harness.js";

/** The exit codes of `provenance --help` these tests expect. */
const ExitCode = { usage: 2, notFound: 3, invalidArgument: 4 } as const;

let h: SystemHarness;
let v1 = "";
let v2 = "";
const dir = mkdtempSync(join(tmpdir(), "provenance-cli-legacy-"));

beforeAll(async () => {
  h = await startSystem();
  v1 = await recordSegment(h, { ...receiptRequest("cmp-seg-1", "cmp-scene", 1, 1), projectId: "cmp" });
  v2 = await recordSegment(h, { ...receiptRequest("cmp-seg-2", "cmp-scene", 2, 2), projectId: "cmp", seed: 7n });
}, 120_000);
afterAll(async () => {
  await h?.close();
});

describe("provenance receipt compare", () => {
  it("prints each changed field as - left / + right lines, and the count", async () => {
    const run = await h.cli(["receipt", "compare", v1, v2]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    const lines = run.stdout.split("\n");
    expect(lines[0]).toBe(`--- ${v1} (segment cmp-seg-1, project cmp)`);
    expect(lines[1]).toBe(`+++ ${v2} (segment cmp-seg-2, project cmp)`);
    const lora = lines.indexOf("LoRA 1 (loras[0]: version, content_hash)");
    expect(lines.slice(lora + 1, lora + 3)).toEqual([`- lora-anna v1 ${sha("lora anna v1")} weight 0.8`, `+ lora-anna v2 ${sha("lora anna v2")} weight 0.8`]);
    const seed = lines.indexOf("Seed (seed)");
    expect(lines.slice(seed + 1, seed + 3)).toEqual(["- 1234567890123", "+ 7"]);
    expect(run.stdout).not.toContain("Prompt (prompt_text)");
    expect(lines.at(-2)).toMatch(/^4 of \d+ fields differ$/);
  });

  it("--json prints the CompareReceiptsResponse; an unknown receipt exits not found", async () => {
    const run = await h.cli(["receipt", "compare", v1, v2, "--json"]);
    const body = JSON.parse(run.stdout);
    expect(body.changedFields).toBe(4);
    expect(body.fields.find((f: { field: string }) => f.field === "loras[0]")).toMatchObject({ changed: true, role: "INPUT_ROLE_LORA", changedParts: ["version", "content_hash"] });
    const missing = await h.cli(["receipt", "compare", v1, "00000000-0000-7000-8000-000000000000"]);
    expect(missing.code).toBe(ExitCode.notFound);
    expect(missing.stderr).toContain('receipt "00000000-0000-7000-8000-000000000000" not found');
  });
});

describe("provenance legacy import and coverage", () => {
  const file = join(dir, "legacy.json");
  writeFileSync(
    file,
    JSON.stringify({
      segments: [
        {
          segment_id: "cmp-old-1",
          scene_id: "cmp-scene",
          project_id: "cmp",
          model: { asset_id: "model-wan", content_hash: sha("model wan") },
          prompt_text: "anna, an old shot",
          generated_at: "2024-02-01T12:00:00Z",
        },
      ],
    }),
  );

  it("imports a file of legacy segments once, listing what each does not know", async () => {
    const run = await h.cli(["legacy", "import", file]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout.split("\n")[0]).toBe("imported 1 legacy segment: 1 new, 0 already imported");
    expect(run.stdout).toMatch(/cmp-old-1 +[0-9a-f-]{36} +new +source_image, variant_image, workflow, loras, workflow_version, negative_prompt/);
    const again = JSON.parse((await h.cli(["legacy", "import", file, "--json"])).stdout);
    expect(again.results[0]).toMatchObject({ created: false, receipt: { status: "RECEIPT_STATUS_LEGACY", segmentId: "cmp-old-1" } });
  });

  it("refuses a file that is not an import (usage) and a segment the service rejects (invalid argument)", async () => {
    const bad = join(dir, "bad.json");
    writeFileSync(bad, "{ not json");
    expect((await h.cli(["legacy", "import", bad])).code).toBe(ExitCode.usage);
    expect((await h.cli(["legacy", "import", join(dir, "absent.json")])).code).toBe(ExitCode.usage);
    const invalid = join(dir, "invalid.json");
    writeFileSync(invalid, JSON.stringify({ segments: [{ segment_id: "cmp-old-2", scene_id: "cmp-scene", project_id: "cmp" }] }));
    const run = await h.cli(["legacy", "import", invalid]);
    expect(run.code).toBe(ExitCode.invalidArgument);
    expect(run.stderr).toContain("segments[0].generated_at");
  });

  it("prints the coverage table of a project, with the percentage", async () => {
    const run = await h.cli(["coverage", "--project", "cmp"]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    const lines = run.stdout.split("\n");
    expect(lines[0]).toMatch(/^PROJECT +SEGMENTS +COMPLETE +LEGACY +RUNNING +TOO LONG +FAILED +COVERAGE$/);
    expect(lines[1]).toMatch(/^cmp +3 +2 +1 +0 +0 +0 +66\.7%$/);
    expect(lines[2]).toContain("RECEIPT_RUNNING_LIMIT_SECONDS");
    const all = JSON.parse((await h.cli(["coverage", "--json"])).stdout);
    expect(all.projects.find((p: { projectId: string }) => p.projectId === "cmp")).toMatchObject({ segments: 3, complete: 2, legacy: 1 });
    expect(all.runningLimitSeconds).toBe(3600);
  });

  it("counts the legacy segment in the staleness report, never stale", async () => {
    await eventually(async () => (await h.cli(["stale", "report", "--project", "cmp"])).stdout.includes("; 1 legacy"), "the report to count the legacy segment");
    const run = await h.cli(["stale", "report", "--project", "cmp"]);
    expect(run.stdout.split("\n")[0]).toMatch(/^project cmp: 0 stale segments in 0 scenes of 2 active; \d+ untracked inputs; 1 legacy \(made before receipts, never stale nor fresh\)$/);
  });
});
