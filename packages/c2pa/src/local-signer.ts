/**
 * The local signing certificate: made once under a directory (the CLI uses `<data dir>/c2pa`) for signing without
 * a configured certificate. It is a two-certificate ES256 chain that c2pa-rs accepts for claim signing: a local CA
 * (basicConstraints CA, pathLen 0, keyCertSign/cRLSign, subject key id) and a signing certificate it issued
 * (end entity, critical digitalSignature key usage, extended key usages id-kp-documentSigning and C2PA's
 * c2pa-kp-claimSigning, authority and subject key ids). Nothing outside this machine trusts the CA; its private key
 * is discarded once the signing certificate is issued, so nothing else can ever be issued under it.
 *
 * Files: `ca.pem` (the CA certificate, a trust anchor for readers that want to check these files), `signer.pem` (the
 * signing certificate) and `signer-key.pem` (its PKCS#8 key, mode 0600). They are written to a fresh folder and
 * renamed into place, so concurrent first uses end with one complete set.
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { createPrivateKey, randomBytes, webcrypto, X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { SigningCredentials } from "./cose-signer.js";
import { C2paError } from "./errors.js";

type X509Crypto = NonNullable<Parameters<typeof x509.X509CertificateGenerator.create>[1]>;

/** The local signer and where its files are. */
export interface LocalSigner {
  readonly credentials: SigningCredentials;
  readonly directory: string;
  /** The local CA certificate (PEM), to check manifests it signed. */
  readonly caPem: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** True when this call made the files. */
  readonly created: boolean;
}

/** Subject of the local CA. */
export const LOCAL_CA_NAME = "CN=provenance local C2PA CA, O=provenance local (untrusted)";
/** Subject of the local signing certificate. */
export const LOCAL_SIGNER_NAME = "CN=provenance local C2PA signer, O=provenance local (untrusted)";

const CA_FILE = "ca.pem";
const CERT_FILE = "signer.pem";
const KEY_FILE = "signer-key.pem";
const ID_KP_DOCUMENT_SIGNING = "1.3.6.1.5.5.7.3.36";
const C2PA_KP_CLAIM_SIGNING = "1.3.6.1.4.1.62558.2.1";
const ES256: webcrypto.EcKeyGenParams & webcrypto.EcdsaParams = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
const DAY_MS = 86_400_000;
/** The signing certificate is made again when it has less than this left. */
const RENEW_BEFORE_MS = 7 * DAY_MS;

function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0]! &= 0x7f; // a positive INTEGER
  return bytes.toString("hex");
}

async function issue(now: Date): Promise<{ caPem: string; certPem: string; keyPem: string }> {
  // Typed as the Crypto @peculiar/x509 takes: under the DOM lib (a workspace type-checking this with its tests, e.g.
  // apps/e2e) Node's webcrypto type differs from the DOM's in its Ed25519 overloads, which are not used here.
  const crypto = webcrypto as unknown as X509Crypto;
  const notBefore = new Date(now.getTime() - 3_600_000); // an hour of clock skew
  const caKeys = await crypto.subtle.generateKey(ES256, false, ["sign", "verify"]);
  const ca = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serialNumber(),
      name: LOCAL_CA_NAME,
      notBefore,
      notAfter: new Date(now.getTime() + 10 * 365 * DAY_MS),
      keys: caKeys,
      signingAlgorithm: ES256,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  const signerKeys = await crypto.subtle.generateKey(ES256, true, ["sign", "verify"]);
  const signer = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serialNumber(),
      subject: LOCAL_SIGNER_NAME,
      issuer: ca.subject,
      notBefore,
      notAfter: new Date(now.getTime() + 2 * 365 * DAY_MS),
      signingKey: caKeys.privateKey,
      publicKey: signerKeys.publicKey,
      signingAlgorithm: ES256,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([ID_KP_DOCUMENT_SIGNING, C2PA_KP_CLAIM_SIGNING], false),
        await x509.AuthorityKeyIdentifierExtension.create(ca, false, crypto),
        await x509.SubjectKeyIdentifierExtension.create(signerKeys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey("pkcs8", signerKeys.privateKey));
  const keyPem = createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" }).export({ format: "pem", type: "pkcs8" }).toString();
  return { caPem: ca.toString("pem"), certPem: signer.toString("pem"), keyPem };
}

function read(directory: string, created: boolean): LocalSigner | undefined {
  const caFile = join(directory, CA_FILE);
  const certFile = join(directory, CERT_FILE);
  const keyFile = join(directory, KEY_FILE);
  if (![caFile, certFile, keyFile].every((f) => existsSync(f))) return undefined;
  const caPem = readFileSync(caFile, "utf8");
  const certPem = readFileSync(certFile, "utf8");
  const signerCert = new X509Certificate(certPem);
  const privateKey = createPrivateKey(readFileSync(keyFile, "utf8"));
  return {
    credentials: { alg: "es256", chain: [new Uint8Array(signerCert.raw)], privateKey },
    directory,
    caPem,
    caFile,
    certFile,
    keyFile,
    created,
  };
}

function stillGood(signer: LocalSigner, now: Date): boolean {
  const cert = new X509Certificate(signer.credentials.chain[0]!);
  return new Date(cert.validTo).getTime() - now.getTime() > RENEW_BEFORE_MS && new Date(cert.validFrom) <= now;
}

/**
 * The local signer under `directory`: read when its files are there and the signing certificate has more than a week
 * left, otherwise made (an outdated set is moved aside to `<directory>.expired-<time>`).
 */
export async function ensureLocalSigner(directory: string, now = new Date()): Promise<LocalSigner> {
  const existing = read(directory, false);
  if (existing && stillGood(existing, now)) return existing;
  if (!existing && existsSync(directory)) {
    const missing = [CA_FILE, CERT_FILE, KEY_FILE].filter((f) => !existsSync(join(directory, f)));
    throw new C2paError(
      "invalid-credentials",
      `${directory} holds an incomplete local signing certificate (missing ${missing.join(", ")}); remove the folder to make a new one`,
      "cert",
    );
  }
  const parent = dirname(directory);
  mkdirSync(parent, { recursive: true });
  const staging = `${directory}.new-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    const { caPem, certPem, keyPem } = await issue(now);
    mkdirSync(staging, { mode: 0o700 });
    writeFileSync(join(staging, CA_FILE), caPem);
    writeFileSync(join(staging, CERT_FILE), certPem);
    writeFileSync(join(staging, KEY_FILE), keyPem, { mode: 0o600 });
    if (existing) renameSync(directory, `${directory}.expired-${now.toISOString().replaceAll(":", "")}`);
    try {
      renameSync(staging, directory);
    } catch (err) {
      // Another process made the set first: use theirs.
      const theirs = read(directory, false);
      if (theirs) return theirs;
      throw err;
    }
  } catch (err) {
    if (err instanceof C2paError) throw err;
    throw new C2paError("invalid-credentials", `cannot make the local signing certificate under ${directory}: ${(err as Error).message}`, "cert", {
      cause: err,
    });
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return read(directory, true)!;
}
