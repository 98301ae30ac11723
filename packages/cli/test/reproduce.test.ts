/**
 * `provenance reproduce` and `provenance reproduction show` against the real services and the (deterministic) pipeline
 * simulator: the verdict printed and its exit code, the reproduction's fields, `provenance reproductions`, and usage errors.
 */
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReceiptStatus } from "@provenance/shared";
import { simulatedOutputHash } from "@provenance/pipeline-simulator";
import { receiptRequest, sha, startSystem, type SystemHarness } from "./system-harness.js";

let h: SystemHarness;

/** Records a SUCCEEDED receipt of `segmentId` (no version labels) with `output` as its output hash, or what the simulator gives. */
async function generation(segmentId: string, index: number, output?: string): Promise<string> {
  const req = receiptRequest(segmentId, "scene-r", 0, index);
  req.loras = req.loras.map((l) => ({ ...l, asset: { ...l.asset!, version: 0 } }));
  const { receipt } = await h.pipeline.createReceipt(req);
  await h.pipeline.completeReceipt({
    receiptId: receipt!.receiptId,
    status: ReceiptStatus.SUCCEEDED,
    generationCompletedAt: timestampFromDate(new Date("2026-11-21T10:01:00Z")),
    outputHash: output ?? simulatedOutputHash(receipt!.inputsHash),
  });
  return receipt!.receiptId;
}

beforeAll(async () => {
  h = await startSystem();
});
afterAll(async () => {
  await h?.close();
});

describe("provenance reproduce", () => {
  it("--wait prints IDENTICAL and exits 0 when the pipeline gives back the receipt's output", async () => {
    const receiptId = await generation("rep-1", 1);
    const run = await h.cli(["reproduce", "--project", "p1", "--receipt", receiptId, "--key", "cli-rep-1", "--wait"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^identical: receipt \\S+ has the same inputs hash and output hash [0-9a-f]{12} as receipt ${receiptId}\\n$`));
    expect(run.stderr).toMatch(/^started reproduction \S+, waiting for the pipeline\n$/);

    const again = await h.cli(["reproduce", "--project", "p1", "--receipt", receiptId, "--key", "cli-rep-1"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^already started under this key: reproduction (\S+) of receipt .* as segment rep-1-repro-[0-9a-f]{8} \(about 1 GPU-minute\)/);
    const jobId = /reproduction (\S+) of/.exec(again.stdout)![1]!;

    const show = await h.cli(["reproduction", "show", jobId]);
    expect(show.code).toBe(0);
    const lines = show.stdout.split("\n");
    expect(lines).toContain(`reproduction:  ${jobId} (succeeded)`);
    expect(lines).toContain("verdict:       identical");
    expect(lines).toContain(`receipt:       ${receiptId} of segment rep-1 (scene scene-r, project p1)`);
    expect(show.stdout).toMatch(/gpu estimate:\s+about 1 GPU-minute \(median of \d+ past receipts? with the same workflow/);
    const json = JSON.parse((await h.cli(["reproduction", "show", jobId, "--json"])).stdout);
    expect(json.reproduction).toMatchObject({ jobId, verdict: "REPRODUCTION_VERDICT_IDENTICAL", receiptId });
  });

  it("--wait prints OUTPUT_DIFFERS and exits 8 when the output is not the receipt's", async () => {
    await generation("rep-2", 2, sha("an output the pipeline does not give again"));
    const run = await h.cli(["reproduce", "--project", "p1", "--segment", "rep-2", "--wait", "--json"]);
    expect(run.code).toBe(8);
    expect(JSON.parse(run.stdout).reproduction).toMatchObject({ verdict: "REPRODUCTION_VERDICT_OUTPUT_DIFFERS", segmentId: "rep-2" });
  });

  it("reproductions lists the project's reproductions newest first, or one receipt's or segment's", async () => {
    const receiptId = await generation("rep-3", 3);
    const started = await h.cli(["reproduce", "--project", "p1", "--receipt", receiptId, "--key", "cli-rep-3"]);
    expect(started.code).toBe(0);
    const jobId = /reproduction (\S+) of/.exec(started.stdout)![1]!;

    const mine = await h.cli(["reproductions", "--project", "p1", "--receipt", receiptId]);
    expect(mine.code).toBe(0);
    const [header, row, ...rest] = mine.stdout.trimEnd().split("\n");
    expect(header).toMatch(/^JOB\s+RECEIPT\s+STATUS\s+VERDICT\s+CREATED$/);
    expect(rest).toEqual([]);
    expect(row).toMatch(new RegExp(`^${jobId}\\s+${receiptId}\\s+(submitted|running|succeeded)\\s+(—|identical)\\s+\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}Z$`));

    const project = await h.cli(["reproductions", "--project", "p1", "--json"]);
    expect(project.code).toBe(0);
    const listed = JSON.parse(project.stdout).reproductions as { jobId: string; segmentId: string; createdAt: string }[];
    expect(listed.map((r) => r.segmentId)).toEqual(["rep-3", "rep-2", "rep-1"]);
    expect(listed[0]!.jobId).toBe(jobId);
    expect([...listed].sort((a, b) => b.createdAt.localeCompare(a.createdAt))).toEqual(listed);

    const bySegment = JSON.parse((await h.cli(["reproductions", "--project", "p1", "--segment", "rep-2", "--json"])).stdout).reproductions;
    expect(bySegment).toHaveLength(1);
    expect(bySegment[0]).toMatchObject({ segmentId: "rep-2", verdict: "REPRODUCTION_VERDICT_OUTPUT_DIFFERS" });
    expect((await h.cli(["reproductions", "--project", "p1", "--segment", "no-such-segment"])).stdout).toBe("no reproductions\n");
    const both = await h.cli(["reproductions", "--project", "p1", "--receipt", receiptId, "--segment", "rep-3"]);
    expect([both.code, both.stderr]).toEqual([2, "provenance: give at most one of --receipt ID and --segment S\n"]);
    expect((await h.cli(["--help"])).stdout).toMatch(/reproductions\s+a project's reproductions \(or one receipt's or segment's\), newest first/);
    expect((await h.cli(["reproductions", "--help"])).stdout).toContain("--segment S");
  });

  it("needs exactly one of --receipt and --segment, and maps server errors", async () => {
    const both = await h.cli(["reproduce", "--project", "p1", "--receipt", "r", "--segment", "s"]);
    expect([both.code, both.stderr]).toEqual([2, "provenance: give exactly one of --receipt ID and --segment S\n"]);
    const neither = await h.cli(["reproduce", "--project", "p1"]);
    expect(neither.code).toBe(2);
    const missing = await h.cli(["reproduce", "--project", "p1", "--segment", "no-such-segment"]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toBe('provenance: not found: segment "no-such-segment" not found\n');
    expect((await h.cli(["reproduction", "show", "no-such-job"])).code).toBe(3);
  });
});
