/**
 * The receipt log's signing key for `npm start`. With `RECEIPT_LOG_SIGNING_KEY` set, that file is the receipts
 * service's (the operator's key; it must exist). Unset, the launcher keeps one under `<dataDir>/receipt-log`: an
 * Ed25519 key made once (PKCS#8 PEM, mode 0600, never in the database) and reused by every later start, so checkpoints
 * saved earlier keep verifying. `RECEIPT_LOG_ORIGIN` and `RECEIPT_LOG_AUDIT_INTERVAL_SECONDS` are passed through.
 */
import { createPrivateKey, generateKeyPairSync } from "node:crypto";
import { chmod, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DEFAULT_RECEIPT_LOG_ORIGIN } from "@provenance/shared";
import { parseSigningKey, signingKeyFromSeed } from "@provenance/shared/receipt-log";
import { SystemStartError } from "./system-start-error.js";

/** The variables of the receipt log the launcher passes to the receipts service. */
export const RECEIPT_LOG_VARIABLES = ["RECEIPT_LOG_SIGNING_KEY", "RECEIPT_LOG_ORIGIN", "RECEIPT_LOG_AUDIT_INTERVAL_SECONDS"] as const;

/** Where the launcher keeps the key it made, under the data directory. */
export function localReceiptLogKeyFile(dataDir: string): string {
  return join(dataDir, "receipt-log", "signing-key.pem");
}

/** The key file in use and whether this start made it. */
export interface ReceiptLogKey {
  readonly file: string;
  readonly created: boolean;
  /** `true` when the file is the operator's (RECEIPT_LOG_SIGNING_KEY). */
  readonly configured: boolean;
}

function checkKey(file: string, text: string): void {
  let type: string | undefined;
  try {
    type = createPrivateKey({ key: text, format: "pem" }).asymmetricKeyType;
  } catch (err) {
    type = `unreadable (${(err as Error).message.split("\n")[0]})`;
  }
  if (type !== "ed25519") {
    throw new SystemStartError(
      `the receipt log's signing key ${file} is not an Ed25519 PKCS#8 PEM key (${type ?? "not a private key"}): ` +
        "move it away to get a new one (checkpoints signed with the old key then no longer verify with the new one)",
    );
  }
}

/**
 * The launcher's own key at `file`: read and checked when it exists (its mode tightened to 0600 if looser), else made
 * now with mode 0600 in a 0700 directory. Two launchers racing cannot both write it (`wx`).
 */
export async function ensureReceiptLogKey(file: string): Promise<{ created: boolean }> {
  const dir = join(file, "..");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const pem = generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }).toString();
  try {
    await writeFile(file, pem, { mode: 0o600, flag: "wx" });
    return { created: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
      throw new SystemStartError(`the receipt log's signing key ${file} cannot be written: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  const info = await stat(file);
  if ((info.mode & 0o077) !== 0) await chmod(file, 0o600);
  checkKey(file, await readFile(file, "utf8"));
  return { created: false };
}

/**
 * The receipt log's variables for the receipts service, from `env` (npm start: its environment): the operator's key
 * file as given, else the launcher's own (made on the first start).
 */
export async function receiptLogEnv(dataDir: string, env: Readonly<Record<string, string | undefined>>): Promise<{ env: Record<string, string>; key: ReceiptLogKey }> {
  const out: Record<string, string> = {};
  for (const name of RECEIPT_LOG_VARIABLES) {
    const value = env[name]?.trim();
    if (value) out[name] = value;
  }
  const given = out.RECEIPT_LOG_SIGNING_KEY;
  if (given !== undefined) return { env: out, key: { file: given, created: false, configured: true } };
  const file = localReceiptLogKeyFile(dataDir);
  const { created } = await ensureReceiptLogKey(file);
  return { env: { ...out, RECEIPT_LOG_SIGNING_KEY: file }, key: { file, created, configured: false } };
}

/**
 * The verifier key of the key file the receipts service signs with (PKCS#8 PEM named after `origin`, or the note key
 * form), so the console trusts the key itself rather than the one the service serves; undefined when the file cannot
 * be read as a key here (the receipts service then refuses to start anyway).
 */
export async function receiptLogVerifierKey(file: string, origin: string = DEFAULT_RECEIPT_LOG_ORIGIN): Promise<string | undefined> {
  try {
    const text = await readFile(file, "utf8");
    if (text.trimStart().startsWith("PRIVATE+KEY+")) return parseSigningKey(text).verifier.verifierKey;
    const d = createPrivateKey({ key: text, format: "pem" }).export({ format: "jwk" }).d;
    return d === undefined ? undefined : signingKeyFromSeed(origin, Buffer.from(d, "base64url")).verifierKey;
  } catch {
    return undefined;
  }
}
