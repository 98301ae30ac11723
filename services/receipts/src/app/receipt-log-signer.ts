/**
 * The receipt log's signing key, read once at start from the file RECEIPT_LOG_SIGNING_KEY names — never from the
 * database: PKCS#8 PEM Ed25519 (named after the log's origin) or the note key form `PRIVATE+KEY+<name>+<id>+<data>`.
 */
import { createPrivateKey } from "node:crypto";
import { readFile } from "node:fs/promises";
import { ConfigError, type ReceiptLogConfig } from "@provenance/shared";
import { parseSigningKey, signingKeyFromSeed, type NoteSigner } from "@provenance/shared/receipt-log";

const VARIABLE = "RECEIPT_LOG_SIGNING_KEY";

/** The signer of `config`'s key file; a {@link ConfigError} naming RECEIPT_LOG_SIGNING_KEY when unset, unreadable or not a key. */
export async function loadReceiptLogSigner(config: ReceiptLogConfig): Promise<NoteSigner> {
  const file = config.signingKeyFile;
  if (file === undefined) throw new ConfigError(VARIABLE, "is required: the file holding the receipt log's Ed25519 signing key");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new ConfigError(VARIABLE, `cannot read "${file}": ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    if (text.trimStart().startsWith("PRIVATE+KEY+")) return parseSigningKey(text);
    const key = createPrivateKey({ key: text, format: "pem" });
    if (key.asymmetricKeyType !== "ed25519") throw new Error(`a ${key.asymmetricKeyType ?? "symmetric"} key, not Ed25519`);
    const seed = Buffer.from(key.export({ format: "jwk" }).d ?? "", "base64url");
    return parseSigningKey(signingKeyFromSeed(config.origin, seed).signingKey);
  } catch (err) {
    throw new ConfigError(VARIABLE, `"${file}" is not an Ed25519 signing key (PKCS#8 PEM or PRIVATE+KEY+…): ${(err as Error).message}`);
  }
}
