/** `provenance c2pa sign|show` end to end: a real receipts service (PostgreSQL, NATS), real PNG and MP4 files, c2pa-rs reading the result. */
import { createHash, generateKeyPairSync } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import { ensureLocalSigner, readManifest, TRAINED_ALGORITHMIC_MEDIA } from "@provenance/c2pa";
import { fixtureMp4, makePng } from "@provenance/c2pa/testing";
import { startReceipts } from "@provenance/receipts/start";
import { CreateReceiptRequestSchema, ReceiptService, ReceiptStatus } from "@provenance/shared";
import { createTestEnvironment, TEST_PIPELINE, type TestEnvironment } from "@provenance/shared/testing";
import { startStaleness } from "@provenance/staleness/start";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../src/main.js";

const sha = (bytes: Uint8Array | string) => createHash("sha256").update(bytes).digest("hex");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let env: TestEnvironment;
let pipeline: Client<typeof ReceiptService>;
let receiptsUrl: string;
let work: string;
let dataDir: string;
/** The CLI signs in with this (its data dir holds only the local C2PA signer, no issuer). */
let token: string;

/** Runs the CLI in this process with the receipts service's URL, a token, a data dir of this test, and `env`. */
async function cli(argv: string[], env: Record<string, string> = {}): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: { RECEIPTS_URL: receiptsUrl, PROVENANCE_DATA_DIR: dataDir, PROVENANCE_TOKEN: token, ...env },
  });
  return { code, stdout, stderr };
}

/** Records a receipt for `segmentId` through the pipeline's API; completes it SUCCEEDED with `output`'s hash unless told otherwise. */
async function record(segmentId: string, output: Uint8Array | undefined, complete: "succeeded" | "running" = "succeeded"): Promise<string> {
  const { receipt } = await pipeline.createReceipt(
    create(CreateReceiptRequestSchema, {
      segmentId,
      sceneId: "scene-1",
      projectId: "p-c2pa",
      characterName: "anna",
      sequenceIndex: 1,
      sourceImage: { assetId: "src-anna", contentHash: sha("source anna"), version: 2 },
      variantImage: { assetId: "var-anna-coat", contentHash: sha("variant coat") },
      workflow: { assetId: "wf-i2v", contentHash: sha("workflow") },
      model: { assetId: "model-wan", contentHash: sha("model wan"), version: 1 },
      loras: [
        { asset: { assetId: "lora-anna", contentHash: sha("lora anna v3"), version: 3 }, weight: 0.8 },
        { asset: { assetId: "lora-style", contentHash: sha("lora style") }, weight: 0.35 },
      ],
      workflowVersion: "i2v-3",
      promptText: "anna walks along the pier at dusk",
      seed: 1234567890123n,
      cfgScale: 6.5,
      steps: 30,
      sampler: "euler",
      resolutionWidth: 832,
      resolutionHeight: 480,
      generationStartedAt: timestampFromDate(new Date("2026-11-21T10:00:00Z")),
      idempotencyKey: `key-${segmentId}`,
    }),
  );
  if (complete === "succeeded") {
    await pipeline.completeReceipt({
      receiptId: receipt!.receiptId,
      status: ReceiptStatus.SUCCEEDED,
      generationCompletedAt: timestampFromDate(new Date("2026-11-21T10:00:42Z")),
      ...(output ? { outputHash: sha(output) } : {}),
    });
  }
  return receipt!.receiptId;
}

function file(name: string, bytes: Uint8Array): string {
  const path = join(work, name);
  writeFileSync(path, bytes);
  return path;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "cli-c2pa-"));
  dataDir = join(work, "data");
  env = await createTestEnvironment({ name: "cli_c2pa" });
  await env.start("staleness", startStaleness);
  const receipts = await env.start("receipts", startReceipts);
  receiptsUrl = receipts.url;
  pipeline = env.client(ReceiptService, receipts.url, { subject: TEST_PIPELINE });
  token = await env.token();
}, 120_000);

afterAll(async () => {
  await env?.close();
  rmSync(work, { recursive: true, force: true });
});

describe("provenance c2pa sign", () => {
  it("signs a segment's MP4 with the local certificate: the manifest reads back with the receipt and validates", async () => {
    const mp4 = fixtureMp4();
    const receiptId = await record("seg-mp4", mp4);
    const input = file("seg-mp4.mp4", mp4);
    const out = join(work, "seg-mp4.signed.mp4");

    const run = await cli(["c2pa", "sign", "--segment", "seg-mp4", input, "-o", out]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const lines = run.stdout.split("\n");
    expect(lines).toContain(`signed:         ${input} -> ${out} (video/mp4)`);
    expect(lines).toContain(`receipt:        ${receiptId} (segment seg-mp4)`);
    expect(lines).toContain(`file sha256:    ${sha(mp4)} (the receipt's output hash)`);
    expect(lines).toContain("actions:        c2pa.created (trainedAlgorithmicMedia)");
    expect(lines).toContain("signed by:      provenance local C2PA signer, issued by provenance local (untrusted) (es256)");
    expect(lines).toContain("validation:     Trusted against the local CA");
    const local = join(dataDir, "c2pa");
    expect(lines).toContain(
      `certificate:    local, untrusted: ${join(local, "signer.pem")} (CA ${join(local, "ca.pem")}, made now); configure --cert/--key or PROVENANCE_C2PA_CERT/PROVENANCE_C2PA_KEY for delivery`,
    );

    // FILE is untouched; OUT carries the manifest.
    expect(sha(new Uint8Array(readFileSync(input)))).toBe(sha(mp4));
    const signed = new Uint8Array(readFileSync(out));
    expect(lines).toContain(`signed sha256:  ${sha(signed)}`);
    const caPem = readFileSync(join(local, "ca.pem"), "utf8");
    const m = await readManifest(signed, { trustAnchorsPem: caPem });
    expect(m.validation.state).toBe("Trusted");
    expect(m.actions[0]).toMatchObject({ action: "c2pa.created", digitalSourceType: TRAINED_ALGORITHMIC_MEDIA });
    expect(m.ingredients.map((i) => [i.title, i.relationship, i.asset?.content_hash])).toEqual([
      ["source image src-anna v2", "inputTo", sha("source anna")],
      ["variant image var-anna-coat", "inputTo", sha("variant coat")],
    ]);
    expect(m.receipt).toMatchObject({
      receipt_id: receiptId,
      segment_id: "seg-mp4",
      project_id: "p-c2pa",
      output_hash: sha(mp4),
      model: { asset_id: "model-wan", version: 1, content_hash: sha("model wan") },
      loras: [
        { asset_id: "lora-anna", version: 3, content_hash: sha("lora anna v3"), weight: 0.8 },
        { asset_id: "lora-style", content_hash: sha("lora style"), weight: 0.35 },
      ],
      workflow: { asset_id: "wf-i2v", content_hash: sha("workflow"), workflow_version: "i2v-3" },
      seed: "1234567890123",
    });
    expect(m.receipt!.inputs_hash).toMatch(/^[0-9a-f]{64}$/);

    // The local certificate is made once: the next signing reuses it.
    const png = makePng(24, 16, 2);
    await record("seg-png", png);
    const again = await cli(["c2pa", "sign", "--segment", "seg-png", file("seg-png.png", png), "--output", join(work, "seg-png.signed.png")]);
    expect(again.code).toBe(0);
    expect(again.stdout).not.toContain("made now");
    expect(again.stdout).toContain(`(CA ${join(local, "ca.pem")}); configure`);
  });

  it("shows a signed PNG's manifest, and prints JSON with --json", async () => {
    const png = makePng(40, 30, 7);
    const receiptId = await record("seg-show", png);
    const out = join(work, "seg-show.signed.png");
    const signed = await cli(["c2pa", "sign", "--segment", "seg-show", file("seg-show.png", png), "-o", out, "--json"]);
    expect(signed.stderr).toBe("");
    expect(JSON.parse(signed.stdout)).toMatchObject({
      output: out,
      format: "image/png",
      segmentId: "seg-show",
      receiptId,
      inputSha256: sha(png),
      outputSha256: sha(new Uint8Array(readFileSync(out))),
      assertions: ["c2pa.actions.v2", "com.provenance.receipt"],
      certificate: { local: true, caFile: join(dataDir, "c2pa", "ca.pem"), note: expect.stringMatching(/^local, untrusted: /) },
      validation: "Trusted",
    });

    const show = await cli(["c2pa", "show", out]);
    expect(show.stderr).toBe("");
    expect(show.code).toBe(0);
    const lines = show.stdout.split("\n");
    expect(lines).toContain(`file:           ${out} (image/png)`);
    expect(lines).toContain("actions:        c2pa.created (trainedAlgorithmicMedia)");
    expect(lines).toContain(`ingredients:    source image src-anna v2 [inputTo] sha256 ${sha("source anna").slice(0, 12)}`);
    expect(lines).toContain(`                variant image var-anna-coat [inputTo] sha256 ${sha("variant coat").slice(0, 12)}`);
    expect(lines).toContain("validation:     Trusted");
    expect(lines).toContain(`trust anchors:  ${join(dataDir, "c2pa", "ca.pem")} (the local CA: trusted on this machine only)`);
    expect(lines).toContain(`receipt:        ${receiptId}`);
    expect(lines).toContain(`output hash:    ${sha(png)}`);
    expect(lines).toContain(`loras:          1. lora-anna v3 ${sha("lora anna v3").slice(0, 12)} weight 0.8`);
    expect(lines).toContain(`                2. lora-style — ${sha("lora style").slice(0, 12)} weight 0.35`);
    expect(lines).toContain("seed:           1234567890123");

    // Elsewhere (no local CA), the signature still checks but the signer is not trusted.
    const elsewhere = await cli(["c2pa", "show", out], { PROVENANCE_DATA_DIR: join(work, "elsewhere") });
    expect(elsewhere.code).toBe(0);
    expect(elsewhere.stdout).toContain("validation:     Valid (signingCredential.untrusted)");
    expect(elsewhere.stdout).toContain("trust anchors:  none (the signer is not checked against a trust list)");

    const json = JSON.parse((await cli(["c2pa", "show", out, "--json"])).stdout);
    expect(json.validation.state).toBe("Trusted");
    expect(json.receipt.receipt_id).toBe(receiptId);
    expect(json.actions[0].digitalSourceType).toBe(TRAINED_ALGORITHMIC_MEDIA);

    // A changed byte of the image is caught: exit 1 and a line naming the failure.
    const tampered = new Uint8Array(readFileSync(out));
    tampered[Buffer.from(tampered).indexOf("IDAT") + 6]! ^= 0xff;
    const bad = await cli(["c2pa", "show", file("tampered.png", tampered)]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain("validation:     Invalid (assertion.dataHash.mismatch)");
    expect(bad.stderr).toBe(`provenance: the C2PA manifest of ${join(work, "tampered.png")} does not validate: assertion.dataHash.mismatch\n`);

    const none = await cli(["c2pa", "show", file("plain.png", png)]);
    expect(none).toEqual({ code: 3, stdout: "", stderr: `provenance: not found: ${join(work, "plain.png")} has no C2PA manifest\n` });
  });

  it("signs with a configured certificate from the environment", async () => {
    const local = await ensureLocalSigner(join(work, "studio-ca"));
    const certFile = file("studio-signer.pem", readFileSync(local.certFile));
    const keyFile = file("studio-key.pem", readFileSync(local.keyFile));
    const png = makePng(12, 12, 4);
    await record("seg-configured", png);
    const out = join(work, "seg-configured.signed.png");
    const run = await cli(["c2pa", "sign", "--segment", "seg-configured", file("seg-configured.png", png), "-o", out], {
      PROVENANCE_C2PA_CERT: certFile,
      PROVENANCE_C2PA_KEY: keyFile,
    });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout.split("\n")).toContain(`certificate:    ${certFile}`);
    expect(run.stdout.split("\n")).toContain("validation:     Valid (signingCredential.untrusted)");
    const trusted = await cli(["c2pa", "show", out, "--trust", local.caFile]);
    expect(trusted.stdout).toContain("validation:     Trusted");
  });

  it("refuses a file that is not the receipt's output, writing nothing (exit 5)", async () => {
    const png = makePng(10, 10, 1);
    await record("seg-mismatch", png);
    const other = file("other.png", makePng(10, 10, 2));
    const out = join(work, "never.png");
    const run = await cli(["c2pa", "sign", "--segment", "seg-mismatch", other, "-o", out]);
    expect(run.code).toBe(5);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(
      new RegExp(`^provenance: failed precondition: ${other} is not the output of receipt [0-9a-f-]+ \\(segment seg-mismatch\\): its SHA-256 is ${sha(new Uint8Array(readFileSync(other)))}, the receipt's output_hash is ${sha(png)}\\n$`),
    );
    expect(existsSync(out)).toBe(false);
  });

  it("refuses a segment without an output hash, without a successful receipt, or unknown", async () => {
    const png = makePng(9, 9, 3);
    const input = file("seg-nohash.png", png);
    const out = join(work, "never2.png");
    await record("seg-nohash", undefined);
    const noHash = await cli(["c2pa", "sign", "--segment", "seg-nohash", input, "-o", out]);
    expect(noHash.code).toBe(5);
    expect(noHash.stderr).toMatch(/^provenance: failed precondition: receipt [0-9a-f-]+ of segment seg-nohash records no output_hash, so .* cannot be shown to be its output\n$/);

    await record("seg-running", png, "running");
    const running = await cli(["c2pa", "sign", "--segment", "seg-running", input, "-o", out]);
    expect(running.code).toBe(5);
    expect(running.stderr).toBe(
      `provenance: failed precondition: segment seg-running has no successful receipt (its latest is running), so there is nothing to sign ${input} with\n`,
    );

    const unknown = await cli(["c2pa", "sign", "--segment", "seg-nobody", input, "-o", out]);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/^provenance: not found: .*seg-nobody/);
    expect(existsSync(out)).toBe(false);
  });

  it("refuses bad arguments before calling anything (exit 2)", async () => {
    const png = makePng(8, 8, 8);
    const input = file("args.png", png);
    const key = file("rsa-1024.pem", Buffer.from(generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ format: "pem", type: "pkcs8" })));
    const cases: [string[], Record<string, string>, string][] = [
      [["c2pa", "sign", input, "-o", join(work, "x.png")], {}, "provenance: --segment is required: expected --segment SEGMENT-ID (the segment whose current receipt <file> is the output of)\n"],
      [["c2pa", "sign", "--segment", "s", input], {}, "provenance: --output is required: expected --output OUT (where to write the signed copy (never <file> itself))\n"],
      [["c2pa", "sign", "--segment", "s", input, "-o", input], {}, `provenance: -o ${input} is <file> itself: the signed copy is written elsewhere, <file> is never changed\n`],
      [["c2pa", "sign", "--segment", "s", join(work, "missing.png"), "-o", join(work, "x.png")], {}, `provenance: cannot read <file> ${join(work, "missing.png")}: ENOENT\n`],
      [["c2pa", "sign", "--segment", "s", input, "-o", join(work, "no-such-dir", "x.png")], {}, `provenance: -o ${join(work, "no-such-dir", "x.png")}: folder ${join(work, "no-such-dir")} does not exist\n`],
      [["c2pa", "sign", "--segment", "s", input, "-o", join(work, "x.png"), "--cert", input], {}, "provenance: --cert names a certificate but no key was given: add --key KEY.pem (or PROVENANCE_C2PA_KEY)\n"],
      [["c2pa", "sign", "--segment", "s", input, "-o", join(work, "x.png")], { PROVENANCE_C2PA_KEY: key }, "provenance: PROVENANCE_C2PA_KEY names a key but no certificate was given: add --cert CERT.pem (or PROVENANCE_C2PA_CERT)\n"],
      [["c2pa", "sign", "--segment", "s", input, "-o", join(work, "x.png"), "--cert", input, "--key", key], {}, `provenance: --cert ${input}: no PEM certificate (-----BEGIN CERTIFICATE-----) found\n`],
    ];
    for (const [argv, env, stderr] of cases) {
      // No receipts service behind this URL: a bad argument must fail before any call.
      expect(await cli(argv, { RECEIPTS_URL: "http://127.0.0.1:9", ...env }), argv.join(" ")).toEqual({ code: 2, stdout: "", stderr });
    }
    expect(existsSync(join(work, "x.png"))).toBe(false);
  });

  it("lists the commands and their options in help", async () => {
    const help = await cli(["c2pa", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("provenance c2pa sign <file>");
    expect(help.stdout).toContain("provenance c2pa show <file>");
    const sign = await cli(["c2pa", "sign", "--help"]);
    expect(sign.stdout).toContain("-o, --output OUT");
    expect(sign.stdout).toContain("--cert CERT.pem");
  });
});
