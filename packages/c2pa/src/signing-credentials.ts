/**
 * A configured signing certificate: a PEM certificate chain and its PEM private key, checked before anything is
 * signed so that a bad pair fails with a message naming it instead of producing a manifest that does not validate.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import type { C2paSigningAlg, SigningCredentials } from "./cose-signer.js";
import { C2paError } from "./errors.js";

/** Where a certificate and key came from, for messages (e.g. "--cert /etc/c2pa/signer.pem"). */
export interface CredentialSources {
  readonly cert: string;
  readonly key: string;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

const EC_CURVES: Readonly<Record<string, C2paSigningAlg>> = { prime256v1: "es256", secp384r1: "es384", secp521r1: "es512" };

/** The C2PA algorithm a private key signs with, or a message saying why it cannot. */
function algorithmOf(key: KeyObject, source: string): C2paSigningAlg {
  switch (key.asymmetricKeyType) {
    case "ec": {
      const curve = key.asymmetricKeyDetails?.namedCurve ?? "unknown";
      const alg = EC_CURVES[curve];
      if (!alg) throw new C2paError("invalid-credentials", `${source}: EC curve ${curve} is not one C2PA signs with (P-256, P-384, P-521)`, "key");
      return alg;
    }
    case "rsa":
    case "rsa-pss":
      if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
        throw new C2paError("invalid-credentials", `${source}: an RSA key must have at least 2048 bits`, "key");
      }
      return "ps256";
    case "ed25519":
      return "ed25519";
    default:
      throw new C2paError(
        "invalid-credentials",
        `${source}: a ${key.asymmetricKeyType ?? "symmetric"} key cannot sign C2PA claims (expected EC P-256/P-384/P-521, RSA or Ed25519)`,
        "key",
      );
  }
}

/** The certificates of a PEM bundle, in order. */
export function parseCertificateChain(pem: string, source: string): X509Certificate[] {
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new C2paError("invalid-credentials", `${source}: no PEM certificate (-----BEGIN CERTIFICATE-----) found`, "cert");
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw new C2paError("invalid-credentials", `${source}: certificate ${i + 1} cannot be parsed (${(err as Error).message})`, "cert");
    }
  });
}

function isSelfSigned(cert: X509Certificate): boolean {
  return cert.issuer === cert.subject && cert.verify(cert.publicKey);
}

/**
 * Checks and combines a PEM certificate chain (signing certificate first, then any intermediates; a self-signed root
 * at the end is dropped, since C2PA's `x5chain` leaves out the trust anchor) and the PEM (PKCS#8, SEC1 or PKCS#1)
 * private key of its first certificate. Throws an `invalid-credentials` {@link C2paError} naming the file when the key
 * does not match, a certificate is not valid now, the signing certificate is a CA, or the chain is out of order.
 */
export function signingCredentialsFromPem(certPem: string, keyPem: string, sources: CredentialSources, now = new Date()): SigningCredentials {
  const chain = parseCertificateChain(certPem, sources.cert);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(keyPem);
  } catch (err) {
    throw new C2paError("invalid-credentials", `${sources.key}: not a readable PEM private key (${(err as Error).message})`, "key");
  }
  const alg = algorithmOf(privateKey, sources.key);
  const leaf = chain[0]!;
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new C2paError("invalid-credentials", `${sources.key} is not the private key of the first certificate in ${sources.cert}`, "key");
  }
  if (leaf.ca) throw new C2paError("invalid-credentials", `${sources.cert}: the signing certificate is a CA certificate; C2PA signs with an end-entity certificate`, "cert");
  for (const [i, cert] of chain.entries()) {
    if (new Date(cert.validFrom) > now || new Date(cert.validTo) < now) {
      throw new C2paError("invalid-credentials", `${sources.cert}: certificate ${i + 1} (${cert.subject.replaceAll("\n", ", ")}) is valid only from ${cert.validFrom} to ${cert.validTo}`, "cert");
    }
    const issuer = chain[i + 1];
    if (issuer && !(cert.checkIssued(issuer) && cert.verify(issuer.publicKey))) {
      throw new C2paError("invalid-credentials", `${sources.cert}: certificate ${i + 2} did not issue certificate ${i + 1}; put the signing certificate first, then each issuer`, "cert");
    }
  }
  const withoutRoot = chain.length > 1 && isSelfSigned(chain[chain.length - 1]!) ? chain.slice(0, -1) : chain;
  return { alg, chain: withoutRoot.map((c) => new Uint8Array(c.raw)), privateKey };
}
