/** Signing real PNG and MP4 files with c2pa-rs and reading them back with it: content, validation and refusals. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { X509Certificate } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  C2paError,
  ensureLocalSigner,
  ingredientInstanceId,
  LOCAL_SIGNER_NAME,
  readManifest,
  receiptAssertion,
  sha256Hex,
  signAsset,
  signingCredentialsFromPem,
  TRAINED_ALGORITHMIC_MEDIA,
  type LocalSigner,
  type SignedAsset,
} from "../src/index.js";
import { ED25519, issue, keyPem, makeRoot } from "./certificates.js";
import { fixtureMp4, makePng, mp4TopLevelBoxes, pngChunkTypes } from "../src/testing/index.js";
import { completedReceipt, sha } from "./receipts.js";

let dir: string;
let local: LocalSigner;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "c2pa-test-"));
  local = await ensureLocalSigner(join(dir, "data", "c2pa"));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function errorOf(promise: Promise<unknown>): Promise<C2paError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof C2paError) return err;
    throw err;
  }
  throw new Error("expected a C2paError");
}

/** Checks what every manifest this package signs must say about `bytes` made under `receipt`. */
function expectReceiptManifest(signed: SignedAsset, receipt: ReturnType<typeof completedReceipt>) {
  const m = signed.manifest;
  expect(m.actions).toHaveLength(1);
  expect(m.actions[0]).toMatchObject({ action: "c2pa.created", digitalSourceType: TRAINED_ALGORITHMIC_MEDIA });
  expect(m.actions[0]!.ingredients).toHaveLength(2);
  expect(m.ingredients).toEqual([
    expect.objectContaining({
      title: "source image src-anna v2",
      relationship: "inputTo",
      instanceId: ingredientInstanceId({ asset_id: "src-anna", content_hash: sha("source anna") }),
      asset: { role: "source_image", asset_id: "src-anna", version: 2, content_hash: sha("source anna"), alg: "sha256" },
      hasData: false,
      hasManifest: false,
    }),
    expect.objectContaining({
      title: "variant image var-anna-coat v1",
      relationship: "inputTo",
      asset: { role: "variant_image", asset_id: "var-anna-coat", version: 1, content_hash: sha("variant coat"), alg: "sha256" },
    }),
  ]);
  expect(m.receipt).toEqual(receiptAssertion(receipt));
  expect(m.receipt).toMatchObject({
    receipt_id: receipt.receiptId,
    inputs_hash: sha("inputs"),
    model: { asset_id: "model-wan", version: 1, content_hash: sha("model wan") },
    loras: [
      { asset_id: "lora-anna", version: 3, content_hash: sha("lora anna v3"), weight: 0.8 },
      { asset_id: "lora-style", content_hash: sha("lora style"), weight: 0.35 },
    ],
    workflow: { asset_id: "wf-i2v", version: 4, content_hash: sha("workflow"), workflow_version: "i2v-3" },
    seed: "18446744073709551557",
  });
  expect(m.claimGenerator[0]).toEqual({ name: "provenance", version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
}

describe("signing with the local certificate", () => {
  it("signs a real PNG: the manifest reads back with the receipt, and validates against the local CA", async () => {
    const png = makePng(32, 24, 3);
    const untouched = new Uint8Array(png);
    const receipt = completedReceipt(png);
    const signed = await signAsset({ bytes: png, receipt, credentials: local.credentials, title: "seg-17.png", trustAnchorsPem: local.caPem });
    expect(png).toEqual(untouched);
    expect(signed.format).toBe("image/png");
    expect(signed.inputSha256).toBe(receipt.outputHash);
    expect(signed.outputSha256).toBe(sha256Hex(signed.bytes));
    expect(signed.outputSha256).not.toBe(signed.inputSha256);
    // Still a well-formed PNG, with the manifest store in a caBX chunk.
    expect(pngChunkTypes(signed.bytes)).toEqual(expect.arrayContaining(["IHDR", "caBX", "IDAT", "IEND"]));
    expect(signed.bytes.slice(0, 8)).toEqual(png.slice(0, 8));

    const trusted = await readManifest(signed.bytes, { trustAnchorsPem: local.caPem });
    expect(trusted.validation.state).toBe("Trusted");
    expect(trusted.validation.failures).toEqual([]);
    expect(trusted.validation.successes.map((s) => s.code)).toEqual(
      expect.arrayContaining(["signingCredential.trusted", "claimSignature.validated", "assertion.dataHash.match"]),
    );
    expect(trusted.signature).toMatchObject({ alg: "Es256", commonName: "provenance local C2PA signer" });
    expect(trusted.title).toBe("seg-17.png");
    expect(trusted.label).toBe(signed.manifest.label);
    expectReceiptManifest({ ...signed, manifest: trusted }, receipt);

    // Without the local CA the signature still checks, but nobody vouches for the signer.
    const untrusted = await readManifest(signed.bytes);
    expect(untrusted.validation.state).toBe("Valid");
    expect(untrusted.validation.failures.map((f) => f.code)).toEqual(["signingCredential.untrusted"]);
    expect(untrusted.validation.successes.map((s) => s.code)).toContain("claimSignature.validated");
  });

  it("signs a real MP4: the manifest reads back, validates, and the file keeps its boxes", async () => {
    const mp4 = fixtureMp4();
    const receipt = completedReceipt(mp4);
    const signed = await signAsset({ bytes: mp4, receipt, credentials: local.credentials, title: "seg-17.mp4", trustAnchorsPem: local.caPem });
    expect(signed.format).toBe("video/mp4");
    expectReceiptManifest(signed, receipt);
    expect(signed.manifest.validation.state).toBe("Trusted");

    const before = mp4TopLevelBoxes(mp4);
    const after = mp4TopLevelBoxes(signed.bytes);
    // c2pa-rs adds its manifest store as a `uuid` box (the C2PA user type d8fec3d6-1b0e-483c-9297-5828877ec481).
    expect(after).toContain("uuid:d8fec3d61b0e483c92975828877ec481");
    expect(after.filter((b) => !b.startsWith("uuid:"))).toEqual(before);

    const read = await readManifest(signed.bytes, { trustAnchorsPem: local.caPem });
    expect(read.validation.state).toBe("Trusted");
    expect(read.validation.successes.map((s) => s.code)).toContain("assertion.bmffHash.match");
    expect(read.receipt?.receipt_id).toBe(receipt.receiptId);
  });

  it("detects a change to the signed file", async () => {
    const png = makePng(16, 16, 9);
    const signed = await signAsset({ bytes: png, receipt: completedReceipt(png), credentials: local.credentials, title: "x.png" });
    const tampered = new Uint8Array(signed.bytes);
    // Flip a byte of the image data (the IDAT chunk), not of the manifest.
    const idat = Buffer.from(tampered).indexOf("IDAT");
    tampered[idat + 6]! ^= 0xff;
    const read = await readManifest(tampered, { trustAnchorsPem: local.caPem });
    expect(read.validation.state).toBe("Invalid");
    expect(read.validation.failures.map((f) => f.code)).toContain("assertion.dataHash.mismatch");
  });

  it("refuses a file that is not the receipt's output, or a receipt without an output hash, producing nothing", async () => {
    const png = makePng(8, 8, 1);
    const other = makePng(8, 8, 2);
    const mismatch = await errorOf(signAsset({ bytes: png, receipt: completedReceipt(other), credentials: local.credentials, title: "a.png", what: "a.png" }));
    expect(mismatch.kind).toBe("hash-mismatch");
    expect(mismatch.message).toContain(`its SHA-256 is ${sha256Hex(png)}, the receipt's output_hash is ${sha256Hex(other)}`);
    expect(mismatch.message).toContain("a.png");

    const none = await errorOf(signAsset({ bytes: png, receipt: completedReceipt(png, { outputHash: "" }), credentials: local.credentials, title: "a.png" }));
    expect(none.kind).toBe("missing-output-hash");
    expect(none.message).toContain("records no output_hash");
  });

  it("refuses a file it cannot sign and one without a manifest", async () => {
    const text = new TextEncoder().encode("not media");
    expect((await errorOf(signAsset({ bytes: text, receipt: completedReceipt(text), credentials: local.credentials, title: "t" }))).kind).toBe(
      "unsupported-format",
    );
    const plain = makePng(4, 4);
    const err = await errorOf(readManifest(plain, { what: "plain.png" }));
    expect(err.kind).toBe("no-manifest");
    expect(err.message).toBe("plain.png has no C2PA manifest");
  });
});

describe("the local certificate", () => {
  it("is made once: an ES256 CA and a claim-signing end-entity certificate, the key readable only by its owner", async () => {
    const again = await ensureLocalSigner(local.directory);
    expect(again.created).toBe(false);
    expect(readFileSync(again.certFile, "utf8")).toBe(readFileSync(local.certFile, "utf8"));
    expect(statSync(local.keyFile).mode & 0o777).toBe(0o600);

    const ca = new X509Certificate(readFileSync(local.caFile));
    const cert = new X509Certificate(readFileSync(local.certFile));
    expect(ca.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.subject).toContain("provenance local C2PA signer");
    expect(LOCAL_SIGNER_NAME).toContain("untrusted");
    expect(cert.keyUsage).toEqual(expect.arrayContaining(["1.3.6.1.5.5.7.3.36", "1.3.6.1.4.1.62558.2.1"]));
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
  });

  it("is made again, the old set kept aside, when it is about to expire", async () => {
    const directory = join(dir, "renew", "c2pa");
    const first = await ensureLocalSigner(directory);
    const firstPem = readFileSync(first.certFile, "utf8");
    const later = new Date(Date.now() + 2 * 365 * 86_400_000 - 86_400_000);
    const renewed = await ensureLocalSigner(directory, later);
    expect(renewed.created).toBe(true);
    expect(readFileSync(renewed.certFile, "utf8")).not.toBe(firstPem);
    const aside = readdirSync(join(dir, "renew")).filter((name) => name.startsWith("c2pa.expired-"));
    expect(aside).toHaveLength(1);
    expect(readFileSync(join(dir, "renew", aside[0]!, "signer.pem"), "utf8")).toBe(firstPem);
  });

  it("refuses a folder that holds an incomplete set", async () => {
    const directory = join(dir, "broken", "c2pa");
    await ensureLocalSigner(directory);
    rmSync(join(directory, "signer-key.pem"));
    const err = await errorOf(ensureLocalSigner(directory));
    expect(err.kind).toBe("invalid-credentials");
    expect(err.message).toContain("missing signer-key.pem");
  });

  it("is made once when two callers ask at the same time", async () => {
    const directory = join(dir, "race", "c2pa");
    const [a, b] = await Promise.all([ensureLocalSigner(directory), ensureLocalSigner(directory)]);
    expect(readFileSync(a.certFile, "utf8")).toBe(readFileSync(b.certFile, "utf8"));
    expect(new X509Certificate(readFileSync(directory + "/signer.pem")).serialNumber).toBe(new X509Certificate(a.credentials.chain[0]!).serialNumber);
  });
});

describe("signing with a configured certificate", () => {
  it("signs with a chain under an intermediate CA, which validates against its root and leaves the root out of x5chain", async () => {
    const root = await makeRoot();
    const intermediate = await issue(root, { name: "CN=test intermediate CA", ca: true });
    const leaf = await issue(intermediate, { name: "CN=studio delivery signer, O=Studio" });
    const credentials = signingCredentialsFromPem(leaf.pem + intermediate.pem + root.pem, await keyPem(leaf), { cert: "chain.pem", key: "key.pem" });
    expect(credentials.alg).toBe("es256");
    expect(credentials.chain).toHaveLength(2);

    const png = makePng(20, 10, 5);
    const signed = await signAsset({ bytes: png, receipt: completedReceipt(png), credentials, title: "s.png", trustAnchorsPem: root.pem });
    expect(signed.manifest.validation.state).toBe("Trusted");
    expect(signed.manifest.signature).toMatchObject({ commonName: "studio delivery signer", issuer: "Studio" });
    const elsewhere = await readManifest(signed.bytes, { trustAnchorsPem: local.caPem });
    expect(elsewhere.validation.state).toBe("Valid");
    expect(elsewhere.validation.failures.map((f) => f.code)).toEqual(["signingCredential.untrusted"]);
  });

  it("signs with an Ed25519 certificate", async () => {
    const root = await makeRoot();
    const leaf = await issue(root, { name: "CN=ed25519 signer", alg: ED25519 });
    const credentials = signingCredentialsFromPem(leaf.pem, await keyPem(leaf), { cert: "c", key: "k" });
    expect(credentials.alg).toBe("ed25519");
    const mp4 = fixtureMp4();
    const signed = await signAsset({ bytes: mp4, receipt: completedReceipt(mp4), credentials, title: "e.mp4", trustAnchorsPem: root.pem });
    expect(signed.manifest.validation.state).toBe("Trusted");
  });

  it("refuses to write a manifest c2pa-rs would not validate (a signing certificate without a C2PA key usage)", async () => {
    const root = await makeRoot();
    const leaf = await issue(root, { name: "CN=server cert", eku: ["1.3.6.1.5.5.7.3.1"] });
    const credentials = signingCredentialsFromPem(leaf.pem, await keyPem(leaf), { cert: "c", key: "k" });
    const png = makePng(6, 6);
    const err = await errorOf(signAsset({ bytes: png, receipt: completedReceipt(png), credentials, title: "p.png", what: "p.png" }));
    expect(err.kind).toBe("invalid-manifest");
    expect(err.message).toBe("the manifest signed into p.png does not validate (signingCredential.invalid: certificate missing required EKU); nothing was written");
  });

  it("refuses certificates and keys that cannot sign, naming the file", async () => {
    const root = await makeRoot();
    const leaf = await issue(root, { name: "CN=signer" });
    const other = await issue(root, { name: "CN=other" });
    const ca = await issue(root, { name: "CN=a CA", ca: true });
    const expired = await issue(root, { name: "CN=old", notAfter: new Date(Date.now() - 1000) });
    const key = await keyPem(leaf);
    const cases: [string, string, RegExp][] = [
      ["no certificate here", key, /cert\.pem: no PEM certificate/],
      [leaf.pem, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", /key\.pem: not a readable PEM private key/],
      [leaf.pem, await keyPem(other), /key\.pem is not the private key of the first certificate in cert\.pem/],
      [ca.pem, await keyPem(ca), /the signing certificate is a CA certificate/],
      [expired.pem, await keyPem(expired), /certificate 1 \(CN=old\) is valid only from/],
      [root.pem + leaf.pem, key, /key\.pem is not the private key/],
      [leaf.pem + other.pem, key, /certificate 2 did not issue certificate 1/],
    ];
    for (const [certPem, keyText, message] of cases) {
      let err: unknown;
      try {
        signingCredentialsFromPem(certPem, keyText, { cert: "cert.pem", key: "key.pem" });
      } catch (e) {
        err = e;
      }
      expect(err, String(message)).toBeInstanceOf(C2paError);
      expect((err as C2paError).kind).toBe("invalid-credentials");
      expect((err as C2paError).message).toMatch(message);
    }
  });
});
