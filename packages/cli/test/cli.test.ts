/** The CLI against the real running system: human and --json output, exit codes, a real child process. */
import { execFile, execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, receiptRequest, recordSegment, sha, startSystem, type CliRun, type SystemHarness } from "./system-harness.js";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const binary = fileURLToPath(new URL("../dist/main.js", import.meta.url));

/** Runs the built binary as a child process. */
async function runBinary(argv: string[], env: Record<string, string>): Promise<CliRun> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [binary, ...argv], { env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function json(run: CliRun): any {
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout);
}

let h: SystemHarness;

beforeAll(async () => {
  // The child-process tests run the compiled binary, so compile it first.
  execFileSync(process.execPath, [fileURLToPath(import.meta.resolve("typescript/bin/tsc")), "-p", "tsconfig.build.json"], {
    cwd: packageDir,
  });
  h = await startSystem();
}, 120_000);

afterAll(async () => {
  await h?.close();
});

describe("provenance against a running system", () => {
  it("registers and publishes assets", async () => {
    const reg = await h.cli(["assets", "register", "--kind", "LORA", "--name", "anna_lora", "--id", "lora-anna", "--project", "p1"]);
    expect(reg).toMatchObject({ code: 0, stderr: "" });
    expect(reg.stdout).toBe('registered lora "anna_lora" (lora-anna, project p1)\n');

    const again = json(await h.cli(["assets", "register", "--kind", "lora", "--name", "anna_lora", "--id", "lora-anna", "--project", "p1", "--json"]));
    expect(again).toMatchObject({ created: false, asset: { assetId: "lora-anna", kind: "ASSET_KIND_LORA" } });

    const pub = await h.cli(["assets", "publish", "lora-anna", "--hash", sha("lora anna v1"), "--by", "mia", "--note", "first cut"]);
    expect(pub.stdout).toBe(`published anna_lora v1 (${sha("lora anna v1").slice(0, 12)}), current\n`);

    const wf = await h.cli(["assets", "register", "--kind", "workflow", "--name", "i2v", "--id", "wf-other", "--json"]);
    expect(json(wf).asset.kind).toBe("ASSET_KIND_WORKFLOW");
  });

  it("shows a segment's receipt and history", async () => {
    await recordSegment(h, receiptRequest("seg-1", "scene-1", 1, 1));
    await recordSegment(h, receiptRequest("seg-2", "scene-1", 1, 2));
    await recordSegment(h, receiptRequest("seg-3", "scene-2", 1, 3));

    const show = await h.cli(["receipt", "show", "seg-1"]);
    expect(show.code).toBe(0);
    expect(show.stderr).toBe("");
    const lines = show.stdout.split("\n");
    expect(lines).toContain("segment:          seg-1 (active)");
    expect(lines).toContain(`loras:            1. lora-anna v1 ${sha("lora anna v1").slice(0, 12)} weight 0.8`);
    expect(lines).toContain(`                  2. lora-style — ${sha("lora style").slice(0, 12)} weight 0.35`);
    expect(lines).toContain(`workflow:         wf-i2v — ${sha("workflow").slice(0, 12)} (i2v-3)`);
    expect(lines).toContain("seed:             1234567890123");
    expect(lines).toContain("cfg:              6.5");
    expect(lines).toContain("resolution:       832x480");
    expect(lines).toContain('params:           {"motion":"slow"}');
    expect(lines).toContain("duration:         42.0s");
    expect(lines).toContain(`output hash:      ${sha("output seg-1").slice(0, 12)}`);
    expect(show.stdout).not.toContain(sha("lora anna v1")); // full hashes only in --json

    const full = json(await h.cli(["receipt", "show", "seg-1", "--json"]));
    expect(full.currentReceipt.loras).toHaveLength(2);
    expect(full.currentReceipt.seed).toBe("1234567890123");
    expect(full.currentReceipt.loras[0].asset.contentHash).toBe(sha("lora anna v1"));

    const history = await h.cli(["receipt", "history", "seg-1"]);
    expect(history.code).toBe(0);
    const rows = history.stdout.trimEnd().split("\n");
    expect(rows[0]).toMatch(/^\s+RECEIPT\s+STATUS\s+STARTED\s+DURATION\s+INPUTS HASH$/);
    expect(rows).toHaveLength(2);
    expect(rows[1]).toMatch(new RegExp(`^\\*  ${full.currentReceipt.receiptId}  succeeded  2026-11-21 10:00:00Z\\s+42\\.0s  ${full.currentReceipt.inputsHash.slice(0, 12)}$`));
  });

  it("lists an asset's usage, by version and through every page", async () => {
    const table = await h.cli(["usage", "lora-anna"]);
    expect(table.code).toBe(0);
    const rows = table.stdout.trimEnd().split("\n");
    expect(rows[0]).toMatch(/^SEGMENT\s+SCENE\s+PROJECT\s+ROLE\s+VERSION\s+HASH\s+WEIGHT\s+STATUS\s+ACTIVE\s+STARTED$/);
    expect(rows.slice(1).map((r) => r.split(/\s+/)[0]).sort()).toEqual(["seg-1", "seg-2", "seg-3"]);
    expect(rows[1]).toContain("lora");

    const paged = json(await h.cli(["usage", "lora-anna", "--version", "1", "--limit", "1", "--all", "--json"]));
    expect(paged.usages).toHaveLength(3);
    expect(paged.nextPageToken).toBe("");

    const onePage = await h.cli(["usage", "lora-anna", "--limit", "2"]);
    expect(onePage.stdout.trimEnd().split("\n")).toHaveLength(3);
    expect(onePage.stderr).toContain("add --all");
  });

  it("reports staleness after a new version, with the summary sentence", async () => {
    const pub = await h.cli(["assets", "publish", "lora-anna", "--hash", sha("lora anna v2"), "--by", "mia", "--json"]);
    expect(json(pub)).toMatchObject({ created: true, version: { version: 2, isCurrent: true } });

    await eventually(async () => json(await h.cli(["stale", "report", "--project", "p1", "--json"])).totalStaleSegments === 3, "3 stale segments");
    const report = await h.cli(["stale", "report", "--project", "p1"]);
    expect(report.code).toBe(0);
    const lines = report.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^project p1: 3 stale segments in 2 scenes of 3 active; \d+ untracked inputs$/);
    expect(lines[1]).toMatch(/^ASSET\s+KIND\s+VERSION\s+SEGMENTS\s+SCENES\s+SUMMARY$/);
    expect(lines[2]).toMatch(/^anna_lora\s+lora\s+v1 → v2\s+3\s+2\s+3 segments across 2 scenes used anna_lora v1/);

    const list = await h.cli(["stale", "list", "--asset", "lora-anna"]);
    expect(list.stdout).toContain("lora anna_lora v1 → v2");
    expect(json(await h.cli(["stale", "list", "--project", "p1", "--json"])).segments).toHaveLength(3);

    const history = await h.cli(["assets", "history", "lora-anna"]);
    const rows = history.stdout.trimEnd().split("\n");
    expect(rows[0]).toMatch(/^\s+VERSION\s+HASH\s+UPLOADED BY\s+UPLOADED AT\s+USED BY\s+NOTE$/);
    expect(rows[1]).toMatch(/^\*\s+v2\s/);
    expect(rows[2]).toMatch(/^\s+v1\s.*test:admin\s.*\s3\s+first cut$/); // the uploader is who signed in, whatever --by says

    const listed = await h.cli(["assets", "list", "--project", "p1", "--kind", "lora"]);
    expect(listed.stdout).toMatch(/lora-anna\s+lora\s+anna_lora\s+p1\s+v2\s+[0-9a-f]{12}\s+2\n/);
    expect(json(await h.cli(["assets", "list", "--kind", "WORKFLOW", "--json"])).assets).toHaveLength(1);
  });

  it("streams changes with watch until aborted", async () => {
    const stop = new AbortController();
    const human = h.cliLive(["watch", "--project", "p1"], stop.signal);
    const machine = h.cliLive(["watch", "--project", "p1", "--json"], stop.signal);
    await new Promise((r) => setTimeout(r, 500)); // let both streams open before the change
    const rollback = await h.cli(["assets", "rollback", "lora-anna", "--to-version", "1"]);
    expect(rollback.stdout).toBe("anna_lora: current version v2 → v1\n");
    await eventually(async () => human.output().includes("\n") && machine.output().includes("\n"), "a watch line", 10_000);
    stop.abort();
    const [humanRun, machineRun] = await Promise.all([human.done, machine.done]);
    expect(humanRun.code).toBe(0);
    expect(humanRun.stdout).toMatch(/p1 {2}lora-anna v2 → v1: 0 now stale, 3 fresh again/);
    expect(machineRun.code).toBe(0);
    const event = JSON.parse(machineRun.stdout.split("\n")[0]!);
    expect(event.change).toMatchObject({ projectId: "p1", assetId: "lora-anna", currentVersion: 1 });
    expect(event.change.freshSegmentIds).toHaveLength(3);

    await h.cli(["assets", "rollback", "lora-anna", "--to-version", "2"]);
    await eventually(async () => json(await h.cli(["stale", "report", "--project", "p1", "--json"])).totalStaleSegments === 3, "stale again");
  });

  it("plans, submits with --wait, and shows a batch", async () => {
    const plan = json(await h.cli(["regen", "plan", "--project", "p1", "--json"]));
    expect(plan.jobs).toHaveLength(3);
    const planTable = await h.cli(["regen", "plan", "--project", "p1", "--scenes", "scene-2"]);
    expect(planTable.stdout).toMatch(/^OLD SEGMENT\s+SCENE\s+SWAPS\s+EXPECTED INPUTS HASH\nseg-3\s+scene-2\s+lora anna_lora v1 → v2\s+[0-9a-f]{12}\n1 job, about 1 GPU-minute\n$/);

    const submit = await h.cli(["regen", "submit", "--project", "p1", "--key", "cli-test-1", "--by", "mia", "--wait", "--json"]);
    expect(submit.code).toBe(0);
    const batch = JSON.parse(submit.stdout);
    expect(batch.batch).toMatchObject({ jobCount: 3, succeeded: 3, submitted: 0, running: 0 });
    expect(submit.stderr).toContain(`[${"#".repeat(30)}] 3/3`);

    const status = await h.cli(["regen", "status", batch.batch.batchId]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^jobs:\s+3: 3 succeeded, 0 failed, 0 inputs mismatch, 0 running, 0 submitted$/m);
    expect(status.stdout.match(/ succeeded /g)).toHaveLength(3);

    await eventually(async () => json(await h.cli(["stale", "report", "--project", "p1", "--json"])).totalStaleSegments === 0, "nothing stale");
    const old = await h.cli(["receipt", "show", "seg-1"]);
    expect(old.stdout).toMatch(/segment:\s+seg-1 \(superseded by \S+\)/);
  });

  it("maps server errors to exit codes", async () => {
    const missing = await h.cli(["receipt", "show", "no-such-segment"]);
    expect(missing.code).toBe(3);
    expect(missing.stdout).toBe("");
    expect(missing.stderr).toMatch(/^provenance: not found: .*no-such-segment.*\n$/);

    const mismatch = await h.cli(["usage", "lora-anna", "--version", "1", "--content-hash", sha("lora anna v2")]);
    expect(mismatch.code).toBe(4);
    expect(mismatch.stderr).toMatch(/^provenance: invalid argument: content_hash: does not match version 1/);

    const badVersion = await h.cli(["assets", "rollback", "lora-anna", "--to-version", "9"]);
    expect(badVersion.code).toBe(3);

    const clash = await h.cli(["assets", "register", "--kind", "model", "--name", "other", "--id", "lora-anna"]);
    expect(clash.code).toBe(5);
    expect(clash.stderr).toMatch(/^provenance: (already exists|failed precondition): .*lora-anna/);

    const kind = await h.cli(["assets", "register", "--kind", "texture", "--name", "x"]);
    expect(kind.code).toBe(2);
    expect(kind.stderr).toBe('provenance: --kind must be one of model, lora, workflow, source-image, variant-image, got "texture"\n');
  });

  it("runs as a real process with exit codes scripts can rely on", async () => {
    const ok = await runBinary(["stale", "report", "--project", "p1", "--json"], h.env);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).totalStaleSegments).toBe(0);

    const missing = await runBinary(["receipt", "history", "nope"], h.env);
    expect(missing.code).toBe(3);
    expect(missing.stderr.trim().split("\n")).toHaveLength(1);

    const usage = await runBinary(["assets", "publish", "lora-anna", "--by", "mia"], h.env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toBe("provenance: --hash is required: expected --hash HASH (SHA-256 of the content, 64 hex digits)\n");

    const down = await runBinary(["receipt", "show", "seg-1", "--receipts-url", "http://127.0.0.1:9"], h.env);
    expect(down.code).toBe(6);
    expect(down.stdout).toBe("");
    expect(down.stderr).toMatch(/^provenance: the receipts service at http:\/\/127\.0\.0\.1:9 could not be reached .*npm start.*\n$/);
    expect(down.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});
