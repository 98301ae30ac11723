/** Certificate chains for the tests, made with @peculiar/x509 and WebCrypto: a root, an intermediate and signers. */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { createPrivateKey, webcrypto } from "node:crypto";

const crypto = webcrypto;
const DAY = 86_400_000;

/** A key algorithm of WebCrypto, e.g. ES256 or Ed25519. */
export type KeyAlgorithm = webcrypto.EcKeyGenParams & webcrypto.EcdsaParams | { name: "Ed25519" };

/** ECDSA P-256 with SHA-256. */
export const ES256: KeyAlgorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
/** Ed25519. */
export const ED25519: KeyAlgorithm = { name: "Ed25519" };

/** A certificate with its key pair. */
export interface Issued {
  readonly cert: x509.X509Certificate;
  readonly keys: webcrypto.CryptoKeyPair;
  readonly pem: string;
}

async function keyPair(alg: KeyAlgorithm): Promise<webcrypto.CryptoKeyPair> {
  return (await crypto.subtle.generateKey(alg, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
}

/** A self-signed root CA. */
export async function makeRoot(name = "CN=test root CA"): Promise<Issued> {
  const keys = await keyPair(ES256);
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: "01",
      name,
      notBefore: new Date(Date.now() - DAY),
      notAfter: new Date(Date.now() + 365 * DAY),
      keys,
      signingAlgorithm: ES256,
      extensions: [
        new x509.BasicConstraintsExtension(true, 1, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  return { cert, keys, pem: cert.toString("pem") };
}

/** What to issue. */
export interface IssueOptions {
  readonly name: string;
  readonly ca?: boolean;
  readonly alg?: KeyAlgorithm;
  /** Extended key usages; none at all when empty. */
  readonly eku?: readonly string[];
  readonly notAfter?: Date;
}

/** A certificate issued by `issuer`: an end-entity claim signer (id-kp-documentSigning) unless `ca`. */
export async function issue(issuer: Issued, options: IssueOptions): Promise<Issued> {
  const keys = await keyPair(options.alg ?? ES256);
  const eku = options.eku ?? ["1.3.6.1.5.5.7.3.36"];
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: Math.floor(Math.random() * 0xffffff).toString(16).padStart(6, "0"),
      subject: options.name,
      issuer: issuer.cert.subject,
      notBefore: new Date(Date.now() - DAY),
      notAfter: options.notAfter ?? new Date(Date.now() + 30 * DAY),
      signingKey: issuer.keys.privateKey,
      publicKey: keys.publicKey,
      signingAlgorithm: ES256,
      extensions: [
        new x509.BasicConstraintsExtension(options.ca ?? false, options.ca ? 0 : undefined, true),
        new x509.KeyUsagesExtension(options.ca ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign : x509.KeyUsageFlags.digitalSignature, true),
        ...(options.ca || eku.length === 0 ? [] : [new x509.ExtendedKeyUsageExtension([...eku], false)]),
        await x509.AuthorityKeyIdentifierExtension.create(issuer.cert, false, crypto),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  return { cert, keys, pem: cert.toString("pem") };
}

/** The PKCS#8 PEM of an issued certificate's private key. */
export async function keyPem(issued: Issued): Promise<string> {
  const der = Buffer.from(await crypto.subtle.exportKey("pkcs8", issued.keys.privateKey));
  return createPrivateKey({ key: der, format: "der", type: "pkcs8" }).export({ format: "pem", type: "pkcs8" }).toString();
}
