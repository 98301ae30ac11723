/**
 * The receipt log's signing key in local mode: made once under the data directory (mode 0600), reused by every later
 * start, never replaced; the operator's RECEIPT_LOG_SIGNING_KEY is used as given.
 */
import { createPrivateKey, generateKeyPairSync } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_RECEIPT_LOG_ORIGIN, ReceiptService } from "@provenance/shared";
import { createOutboundAuthInterceptor, staticTokenSource } from "@provenance/shared/auth";
import { generateSigningKey, signingKeyFromSeed } from "@provenance/shared/receipt-log";
import { createTestDatabase } from "@provenance/shared/testing";
import { freePort } from "@provenance/shared";
import { findNatsServer, startPrivateNats } from "../src/private-nats.js";
import { ensureReceiptLogKey, localReceiptLogKeyFile, receiptLogEnv, receiptLogVerifierKey } from "../src/receipt-log-key.js";
import { startSystem, type RunningSystem } from "../src/start-system.js";
import { SystemStartError } from "../src/system-start-error.js";

const root = mkdtempSync(join(tmpdir(), "provenance-receipt-log-key-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const mode = (path: string) => statSync(path).mode & 0o777;

/** The verifier key the receipts service of `system` serves, asked as its local user. */
async function servedVerifierKey(system: RunningSystem): Promise<string> {
  const token = await system.issuer!.mintToken();
  const transport = createGrpcTransport({ baseUrl: system.urls.receipts, interceptors: [createOutboundAuthInterceptor({ serviceToken: staticTokenSource(token) })] });
  return (await createClient(ReceiptService, transport).getCheckpoint({})).verifierKey;
}

/** The verifier key of a PKCS#8 PEM Ed25519 key named like the default origin. */
function verifierKeyOf(pem: string): string {
  const seed = Buffer.from(createPrivateKey({ key: pem, format: "pem" }).export({ format: "jwk" }).d!, "base64url");
  return signingKeyFromSeed(DEFAULT_RECEIPT_LOG_ORIGIN, seed).verifierKey;
}

describe("the launcher's receipt log key", () => {
  it("is made once with mode 0600 in a 0700 directory, then reused as it is", async () => {
    const file = localReceiptLogKeyFile(join(root, "once"));
    expect(await ensureReceiptLogKey(file)).toEqual({ created: true });
    expect(mode(file)).toBe(0o600);
    expect(mode(join(file, ".."))).toBe(0o700);
    const pem = readFileSync(file, "utf8");
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(await ensureReceiptLogKey(file)).toEqual({ created: false });
    expect(readFileSync(file, "utf8")).toBe(pem);
  });

  it("tightens a key file readable by others to 0600, and refuses one that is not an Ed25519 key, naming it", async () => {
    const file = localReceiptLogKeyFile(join(root, "loose"));
    await ensureReceiptLogKey(file);
    chmodSync(file, 0o644);
    expect(await ensureReceiptLogKey(file)).toEqual({ created: false });
    expect(mode(file)).toBe(0o600);

    const rsa = localReceiptLogKeyFile(join(root, "rsa"));
    mkdirSync(join(rsa, ".."), { recursive: true });
    writeFileSync(rsa, generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ format: "pem", type: "pkcs8" }), { mode: 0o600 });
    const err = await ensureReceiptLogKey(rsa).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SystemStartError);
    expect((err as Error).message).toBe(
      `the receipt log's signing key ${rsa} is not an Ed25519 PKCS#8 PEM key (rsa): move it away to get a new one (checkpoints signed with the old key then no longer verify with the new one)`,
    );
  });

  it("reads the verifier key of a PEM key under its origin, of a note key as it is, and nothing of what is not a key", async () => {
    const file = localReceiptLogKeyFile(join(root, "vkey"));
    await ensureReceiptLogKey(file);
    const pem = readFileSync(file, "utf8");
    expect(await receiptLogVerifierKey(file, "studio.example/log")).toMatch(/^studio\.example\/log\+[0-9a-f]{8}\+/);
    expect(await receiptLogVerifierKey(file)).toBe(verifierKeyOf(pem));
    const note = join(root, "vkey", "note.key");
    const generated = generateSigningKey("studio.example/log");
    writeFileSync(note, `${generated.signingKey}\n`);
    expect(await receiptLogVerifierKey(note)).toBe(generated.verifierKey);
    expect(await receiptLogVerifierKey(join(root, "vkey", "missing.pem"))).toBeUndefined();
  });

  it("passes the operator's RECEIPT_LOG_* through and makes no key of its own then", async () => {
    const dataDir = join(root, "configured");
    const given = await receiptLogEnv(dataDir, { RECEIPT_LOG_SIGNING_KEY: " /etc/provenance/log.pem ", RECEIPT_LOG_ORIGIN: "studio.example/log", OTHER: "x" });
    expect(given).toEqual({
      env: { RECEIPT_LOG_SIGNING_KEY: "/etc/provenance/log.pem", RECEIPT_LOG_ORIGIN: "studio.example/log" },
      key: { file: "/etc/provenance/log.pem", created: false, configured: true },
    });
    expect(() => statSync(localReceiptLogKeyFile(dataDir))).toThrow();
    const local = await receiptLogEnv(dataDir, { RECEIPT_LOG_AUDIT_INTERVAL_SECONDS: "60" });
    expect(local.env).toEqual({ RECEIPT_LOG_AUDIT_INTERVAL_SECONDS: "60", RECEIPT_LOG_SIGNING_KEY: localReceiptLogKeyFile(dataDir) });
    expect(local.key.created).toBe(true);
  });

  it("npm start makes it under its data directory on the first start and a restart reuses it", async () => {
    const dataDir = join(root, "system");
    const db = await createTestDatabase("system_log_key");
    const nats = await startPrivateNats(findNatsServer()!, await freePort(0), join(dataDir, "nats"));
    const file = localReceiptLogKeyFile(dataDir);
    const start = async (lines: string[]) =>
      startSystem({
        dataDir,
        databaseUrl: db.url,
        natsUrl: nats.url,
        ports: { receipts: 0, staleness: 0, regeneration: 0 },
        consolePort: false,
        simulator: false,
        logLevel: "silent",
        say: (l) => lines.push(l),
      });
    try {
      const first: string[] = [];
      const one = await start(first);
      const pem = readFileSync(file, "utf8");
      try {
        expect(first).toContain(`receipt log  checkpoints signed with ${file} (a new key, made now)`);
        expect(mode(file)).toBe(0o600);
        // The receipts service signs with that very key, and the console is told to trust it.
        expect(await servedVerifierKey(one)).toBe(verifierKeyOf(pem));
        expect(await receiptLogVerifierKey(file)).toBe(verifierKeyOf(pem));
      } finally {
        await one.stop();
      }

      const second: string[] = [];
      const two = await start(second);
      try {
        expect(second).toContain(`receipt log  checkpoints signed with ${file}`);
        expect(readFileSync(file, "utf8")).toBe(pem);
        expect(await servedVerifierKey(two)).toBe(verifierKeyOf(pem));
      } finally {
        await two.stop();
      }
    } finally {
      await nats.stop();
      await db.drop();
    }
  }, 60_000);
});
