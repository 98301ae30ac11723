/** RECEIPT_LOG_* in the config, and the signing key file: PKCS#8 PEM Ed25519 or the note key form, nothing else. */
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, DEFAULT_RECEIPT_LOG_ORIGIN, loadConfig } from "@provenance/shared";
import { generateSigningKey, openNote, signNote } from "@provenance/shared/receipt-log";
import { loadReceiptLogSigner } from "../src/app/receipt-log-signer.js";

const AUTH = { AUTH_JWKS: "/dev/null", AUTH_ISSUER: "https://issuer.example", AUTH_POLICY: "/dev/null" };
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "receipt-log-config-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("RECEIPT_LOG_* in the config", () => {
  it("defaults the origin and the rescan interval, and reads the key file's path", () => {
    expect(loadConfig("receipts", AUTH).receiptLog).toEqual({ signingKeyFile: undefined, origin: DEFAULT_RECEIPT_LOG_ORIGIN, auditIntervalSeconds: 3600 });
    const set = loadConfig("receipts", { ...AUTH, RECEIPT_LOG_SIGNING_KEY: "/run/key.pem", RECEIPT_LOG_ORIGIN: "example.com/log", RECEIPT_LOG_AUDIT_INTERVAL_SECONDS: "60" });
    expect(set.receiptLog).toEqual({ signingKeyFile: "/run/key.pem", origin: "example.com/log", auditIntervalSeconds: 60 });
  });

  it("refuses an origin no note key may be named and an interval that is not whole seconds from 1, naming the variable", () => {
    expect(() => loadConfig("receipts", { ...AUTH, RECEIPT_LOG_ORIGIN: "a b" })).toThrow(/^RECEIPT_LOG_ORIGIN: /);
    expect(() => loadConfig("receipts", { ...AUTH, RECEIPT_LOG_ORIGIN: "a+b" })).toThrow(ConfigError);
    for (const bad of ["0", "1.5", "-3", "soon"]) {
      expect(() => loadConfig("receipts", { ...AUTH, RECEIPT_LOG_AUDIT_INTERVAL_SECONDS: bad })).toThrow(/^RECEIPT_LOG_AUDIT_INTERVAL_SECONDS: /);
    }
  });
});

describe("the signing key file", () => {
  const config = (file: string | undefined) => ({ signingKeyFile: file, origin: "example.com/log", auditIntervalSeconds: 3600 });

  it("is required, and must be readable", async () => {
    await expect(loadReceiptLogSigner(config(undefined))).rejects.toThrow(/^RECEIPT_LOG_SIGNING_KEY: is required/);
    await expect(loadReceiptLogSigner(config(join(dir, "missing.pem")))).rejects.toThrow(/^RECEIPT_LOG_SIGNING_KEY: cannot read .*ENOENT/);
  });

  it("reads a PKCS#8 PEM Ed25519 key under the log's origin, whose notes verify with its published key", async () => {
    const file = join(dir, "key.pem");
    await writeFile(file, generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }));
    const signer = await loadReceiptLogSigner(config(file));
    expect(signer.name).toBe("example.com/log");
    expect(signer.verifier.verifierKey).toMatch(/^example\.com\/log\+[0-9a-f]{8}\+/);
    expect(openNote(signNote("example.com/log\n1\nAAAA\n", signer), signer.verifier).text).toBe("example.com/log\n1\nAAAA\n");
  });

  it("reads the note key form with its own name", async () => {
    const file = join(dir, "key.note");
    const key = generateSigningKey("other.example/log");
    await writeFile(file, `${key.signingKey}\n`);
    expect((await loadReceiptLogSigner(config(file))).verifier.verifierKey).toBe(key.verifierKey);
  });

  it("refuses a key that is not Ed25519, and text that is no key", async () => {
    const rsa = join(dir, "rsa.pem");
    await writeFile(rsa, generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ format: "pem", type: "pkcs8" }));
    await expect(loadReceiptLogSigner(config(rsa))).rejects.toThrow(/^RECEIPT_LOG_SIGNING_KEY: .* is not an Ed25519 signing key.*rsa/);
    const junk = join(dir, "junk.pem");
    await writeFile(junk, "hello\n");
    await expect(loadReceiptLogSigner(config(junk))).rejects.toThrow(/^RECEIPT_LOG_SIGNING_KEY: /);
  });
});
