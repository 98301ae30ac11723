/**
 * `provenance verify` and `provenance log checkpoint` against the real running services: every receipt holds (0);
 * one tampered in the database by its owner with the triggers off is named (9); a checkpoint file of an inconsistent
 * log, of a rolled-back one or signed by another key fails (9); a proof saved for offline verification holds without
 * any service, and fails once edited.
 */
import { createPrivateKey } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { DEFAULT_RECEIPT_LOG_ORIGIN, ReceiptStatus } from "@provenance/shared";
import { generateSigningKey, hashLeaf, parseSigningKey, signCheckpoint, signingKeyFromSeed } from "@provenance/shared/receipt-log";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { receiptRequest, recordSegment, sha, startSystem, type SystemHarness } from "./system-harness.js";

let h: SystemHarness;
const dir = mkdtempSync(join(tmpdir(), "provenance-cli-verify-"));
const ids: string[] = [];
let running: string;

/** The signer of the environment's receipt log key (the PEM file its receipts service signs with). */
function logSigner() {
  const pem = readFileSync(join(h.test.dir, "receipt-log-signing-key.pem"), "utf8");
  const seed = Buffer.from(createPrivateKey({ key: pem, format: "pem" }).export({ format: "jwk" }).d!, "base64url");
  return parseSigningKey(signingKeyFromSeed(DEFAULT_RECEIPT_LOG_ORIGIN, seed).signingKey);
}

beforeAll(async () => {
  h = await startSystem();
  for (const [i, seg] of ["seg-v1", "seg-v2", "seg-v3"].entries()) ids.push(await recordSegment(h, receiptRequest(seg, "scene-v", 1, i)));
  const { receipt } = await h.pipeline.createReceipt(receiptRequest("seg-v4", "scene-v", 1, 4));
  running = receipt!.receiptId;
  const { receipt: failed } = await h.pipeline.createReceipt({ ...receiptRequest("seg-v5", "scene-v", 1, 5), idempotencyKey: "key-seg-v5" });
  await h.pipeline.completeReceipt({ receiptId: failed!.receiptId, status: ReceiptStatus.FAILED, generationCompletedAt: timestampFromDate(new Date("2026-11-21T10:01:00Z")) });
  ids.push(failed!.receiptId);
}, 120_000);

afterAll(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("provenance verify", () => {
  it("all of a project's receipts hold: exit 0 and one summary line", async () => {
    const run = await h.cli(["verify", "--project", "p1"]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout).toMatch(
      new RegExp(`^5 of 5 receipts hold — receipt log ${DEFAULT_RECEIPT_LOG_ORIGIN} at checkpoint \\d+, key ${DEFAULT_RECEIPT_LOG_ORIGIN}\\+[0-9a-f]{8} as the service serves it \\(pin it with --checkpoint or --key\\)\\n$`),
    );
    const json = JSON.parse((await h.cli(["verify", "--project", "p1", "--json"])).stdout);
    expect(json.holds).toBe(true);
    expect(json.receipts.map((r: { receiptId: string }) => r.receiptId).sort()).toEqual([...ids, running].sort());
    const runningOutcome = json.receipts.find((r: { receiptId: string }) => r.receiptId === running);
    expect(Object.keys(runningOutcome.leafIndexes)).toEqual(["receipt.created"]);
    const done = json.receipts.find((r: { receiptId: string }) => r.receiptId === ids[0]);
    expect(Object.keys(done.leafIndexes).sort()).toEqual(["receipt.completed", "receipt.created"]);
    expect(json.checkpoint.size).toBeGreaterThanOrEqual(9);
  });

  it("saves the checkpoint with its key, and verifies later against it: consistent, signed by that key", async () => {
    const file = join(dir, "checkpoint.json");
    const saved = await h.cli(["log", "checkpoint", "-o", file]);
    expect(saved).toMatchObject({ code: 0, stderr: "" });
    expect(saved.stdout).toMatch(new RegExp(`^saved checkpoint \\d+ of ${DEFAULT_RECEIPT_LOG_ORIGIN} \\(key ${DEFAULT_RECEIPT_LOG_ORIGIN}\\+[0-9a-f]{8}\\) to ${file}\\n$`));
    const content = JSON.parse(readFileSync(file, "utf8"));
    expect(Object.keys(content).sort()).toEqual(["checkpoint", "verifierKey"]);
    const size = Number(content.checkpoint.split("\n")[1]);

    // The log grows after the checkpoint was saved; the later one must be consistent with it.
    ids.push(await recordSegment(h, receiptRequest("seg-v6", "scene-v", 1, 6)));
    const run = await h.cli(["verify", "--receipt", ids[0]!, "--receipt", ids.at(-1)!, "--checkpoint", file, "--save-checkpoint", file]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout).toMatch(new RegExp(`^2 of 2 receipts hold — receipt log \\S+ at checkpoint \\d+, consistent with ${file} \\(size ${size}\\), key \\S+ from checkpoint file\\n$`));
    // --save-checkpoint moved the file on to the checkpoint just verified, which holds the new receipt's leaves.
    const later = Number(JSON.parse(readFileSync(file, "utf8")).checkpoint.split("\n")[1]);
    expect(later).toBeGreaterThanOrEqual(size + 2);
    expect((await h.cli(["verify", "--receipt", ids.at(-1)!, "--checkpoint", file])).code).toBe(0);
  });

  it("a checkpoint file of an inconsistent log, of a rolled-back log, or signed by another key: exit 9 saying why", async () => {
    const served = JSON.parse((await h.cli(["log", "checkpoint", "--json"])).stdout);
    const size = Number(served.checkpoint.split("\n")[1]);
    const signer = logSigner();
    const write = (name: string, note: string, key = served.verifierKey) => {
      const path = join(dir, name);
      writeFileSync(path, JSON.stringify({ checkpoint: note, verifierKey: key }));
      return path;
    };

    // Same key, same origin, a smaller size with another root: a fork the service's log does not extend.
    const forked = write("forked.json", signCheckpoint({ origin: DEFAULT_RECEIPT_LOG_ORIGIN, size: size - 1, rootHash: hashLeaf("another history") }, signer));
    const fork = await h.cli(["verify", "--receipt", ids[0]!, "--checkpoint", forked]);
    expect(fork.code).toBe(9);
    expect(fork.stdout).toContain(`log: the served log is not consistent with the checkpoint in ${forked}: the checkpoint of size ${size - 1} is not consistent with the one of size`);

    const ahead = write("ahead.json", signCheckpoint({ origin: DEFAULT_RECEIPT_LOG_ORIGIN, size: size + 100, rootHash: hashLeaf("future") }, signer));
    const rolled = await h.cli(["verify", "--project", "p1", "--checkpoint", ahead]);
    expect(rolled.code).toBe(9);
    expect(rolled.stdout).toMatch(/log: the served log is not consistent with the checkpoint in \S+: the service serves a log of \d+ leaves, fewer than the \d+ of that checkpoint: the log was rolled back/);

    const other = generateSigningKey(DEFAULT_RECEIPT_LOG_ORIGIN);
    const foreign = write("foreign.json", signCheckpoint({ origin: DEFAULT_RECEIPT_LOG_ORIGIN, size, rootHash: hashLeaf("x") }, parseSigningKey(other.signingKey)), other.verifierKey);
    const wrongKey = await h.cli(["verify", "--project", "p1", "--checkpoint", foreign]);
    expect(wrongKey.code).toBe(9);
    expect(wrongKey.stdout).toMatch(/^log: the latest checkpoint the service serves is not valid for key \S+: is not signed by /);
  });

  it("saves a proof against a checkpoint file and verifies it offline; an edited one fails", async () => {
    const cp = join(dir, "offline-checkpoint.json");
    expect((await h.cli(["log", "checkpoint", "-o", cp])).code).toBe(0);
    const proof = join(dir, "proof.json");
    const saved = await h.cli(["verify", "--receipt", ids[1]!, "--checkpoint", cp, "--save-proof", proof]);
    expect(saved).toMatchObject({ code: 0, stderr: "" });
    // No service is asked and no token needed: the URLs point nowhere, and there is no local issuer to sign in with.
    const nowhere = {
      RECEIPTS_URL: "http://127.0.0.1:9",
      STALENESS_URL: "http://127.0.0.1:9",
      REGENERATION_URL: "http://127.0.0.1:9",
      PROVENANCE_DATA_DIR: join(dir, "no-data-dir"),
    };
    const offline = await h.cli(["verify", "--offline", "--proof", proof, "--checkpoint", cp], undefined, nowhere);
    expect(offline).toMatchObject({ code: 0, stderr: "" });
    expect(offline.stdout).toMatch(/^1 of 1 receipts hold — offline, against checkpoint \d+ of \S+ in \S+\n$/);

    const edited = JSON.parse(readFileSync(proof, "utf8"));
    edited.receipt.seed = "1";
    writeFileSync(proof, JSON.stringify(edited));
    const bad = await h.cli(["verify", "--offline", "--proof", proof, "--checkpoint", cp], undefined, nowhere);
    expect(bad.code).toBe(9);
    expect(bad.stdout).toContain(`receipt ${ids[1]} (segment seg-v2) does not hold: the inputs hash recomputed from the served inputs is`);
  });

  it("a receipt its owner changed in the database with the triggers off: exit 9 naming it and why", async () => {
    const victim = ids[2]!;
    await h.test.sql.query("BEGIN");
    await h.test.sql.query("SET LOCAL session_replication_role = replica");
    await h.test.sql.query("UPDATE receipts.generation_receipts SET prompt_text = 'a quietly different prompt' WHERE receipt_id = $1", [victim]);
    await h.test.sql.query("COMMIT");
    const run = await h.cli(["verify", "--project", "p1"]);
    expect(run.code).toBe(9);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      new RegExp(`^receipt ${victim} \\(segment seg-v3, project p1\\) does not hold: the inputs hash recomputed from the served inputs is [0-9a-f]{64}, the receipt says [0-9a-f]{64}$`),
    );
    expect(lines[1]).toMatch(/^5 of 6 receipts hold — /);
    const json = JSON.parse((await h.cli(["verify", "--receipt", victim, "--json"])).stdout);
    expect(json.holds).toBe(false);
    expect(json.receipts[0].findings).toEqual([expect.objectContaining({ check: "inputs_hash" })]);
  });

  it("every other way of tampering in the database is named: an extra inputs row, a receipt deleted and re-inserted, a log row rewritten to match", async () => {
    const p2 = (seg: string, i: number) => ({ ...receiptRequest(seg, "scene-t", 1, i), projectId: "p2" });
    const [injected, reinserted, relogged] = [await recordSegment(h, p2("seg-t1", 1)), await recordSegment(h, p2("seg-t2", 2)), await recordSegment(h, p2("seg-t3", 3))];
    expect((await h.cli(["verify", "--project", "p2"])).code).toBe(0);
    const owner = async (statements: [string, unknown[]?][]) => {
      await h.test.sql.query("BEGIN");
      await h.test.sql.query("SET LOCAL session_replication_role = replica");
      for (const [text, values] of statements) await h.test.sql.query(text, values);
      await h.test.sql.query("COMMIT");
    };
    await owner([
      [
        `INSERT INTO receipts.receipt_inputs (receipt_id, receipt_seq, role, position, asset_id, content_hash, version, weight)
         SELECT receipt_id, receipt_seq, 'lora', 2, 'lora-injected', repeat('f', 64), NULL, 0.5 FROM receipts.receipt_inputs WHERE receipt_id = $1 LIMIT 1`,
        [injected],
      ],
      ["CREATE TEMP TABLE moved ON COMMIT DROP AS SELECT * FROM receipts.generation_receipts WHERE receipt_id = $1", [reinserted]],
      ["DELETE FROM receipts.generation_receipts WHERE receipt_id = $1", [reinserted]],
      ["UPDATE moved SET seed = 7"],
      ["INSERT INTO receipts.generation_receipts OVERRIDING SYSTEM VALUE SELECT * FROM moved"],
      // The receipt and its logged leaf changed alike, so leaf and receipt agree: the tree does not.
      ["UPDATE receipts.generation_receipts SET output_hash = repeat('0', 64) WHERE receipt_id = $1", [relogged]],
      [
        `UPDATE receipts.receipt_log_leaves SET leaf = replace(leaf, '"output_hash":"' || $2 || '"', '"output_hash":"' || repeat('0', 64) || '"')
         WHERE receipt_id = $1 AND event = 'receipt.completed'`,
        [relogged, sha("output seg-t3")],
      ],
    ]);
    const run = await h.cli(["verify", "--project", "p2", "--json"]);
    expect(run.code).toBe(9);
    const report = JSON.parse(run.stdout);
    const checks = (id: string) => report.receipts.find((r: { receiptId: string }) => r.receiptId === id).findings.map((f: { check: string; event?: string }) => `${f.check} ${f.event ?? ""}`.trim());
    expect(checks(injected)).toEqual(["inputs_hash", "leaf receipt.created"]);
    expect(checks(reinserted)).toEqual(["inputs_hash"]);
    expect(checks(relogged)).toEqual(["inclusion receipt.completed"]);
    const human = await h.cli(["verify", "--project", "p2"]);
    expect(human.stdout).toContain(`receipt ${injected} (segment seg-t1, project p2) does not hold: `);
    expect(human.stdout).toContain("the receipt.created leaf rebuilt from the served receipt differs from the logged one in inputs (served");
    expect(human.stdout).toContain(`receipt ${relogged} (segment seg-t3, project p2) does not hold: the inclusion path of the receipt.completed leaf`);
    expect(human.stdout).toMatch(/\n0 of 3 receipts hold — /);
  });

  it("usage errors and unknown receipts keep their own exit codes", async () => {
    const help = await h.cli(["--help"]);
    for (const line of ["verify  ", "log checkpoint  ", "9    verification failed"]) expect(help.stdout).toContain(line);
    // Neither --project nor --receipt: every project the caller may view (p1 holds the tampered receipt).
    const all = await h.cli(["verify"]);
    expect(all.code).toBe(9);
    expect(all.stdout).toMatch(/\n5 of 9 receipts hold — /);
    expect((await h.cli(["verify", "--project", "p1", "--receipt", ids[0]!])).code).toBe(2);
    expect((await h.cli(["verify", "--offline", "--proof", "x"])).code).toBe(2);
    expect((await h.cli(["verify", "--receipt", ids[0]!, "--checkpoint", join(dir, "missing.json")])).stderr).toContain("cannot be read: ENOENT");
    expect((await h.cli(["verify", "--receipt", "00000000-0000-4000-8000-000000000000"])).code).toBe(3);
    // A checkpoint file may be the bare signed note, with the key given by --key.
    const saved = JSON.parse((await h.cli(["log", "checkpoint"])).stdout);
    const bare = join(dir, "bare-note.txt");
    writeFileSync(bare, saved.checkpoint);
    expect(await h.cli(["verify", "--receipt", ids[0]!, "--checkpoint", bare, "--key", saved.verifierKey])).toMatchObject({ code: 0, stderr: "" });
    const noKey = await h.cli(["verify", "--receipt", ids[0]!, "--checkpoint", bare]);
    expect(noKey).toMatchObject({ code: 2, stderr: `provenance: --checkpoint ${bare} holds no verifier key: add --key VKEY\n` });
    expect((await h.cli(["verify", "--receipt", ids[0]!, "--key", "not-a-key"])).code).toBe(2);
  });
});
