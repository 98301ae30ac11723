/**
 * The claim signer handed to c2pa-wasm. Its signer is "direct COSE": c2pa-rs passes the claim bytes and stores what
 * comes back, unchanged and unverified, as the claim signature box. So this builds the whole COSE_Sign1 (RFC 9052)
 * the C2PA spec asks for: the algorithm and the certificate chain (`x5chain`, leaf first) in the protected header,
 * a detached payload, and the signature over `Sig_structure` made with Node's crypto; then pads it (an unprotected
 * `pad` byte string, as c2pa-rs does) to exactly the size reserved for it, since the manifest was laid out around
 * that size before signing.
 */
import { sign as cryptoSign, constants, type KeyObject } from "node:crypto";
import { encodeCbor, type CborValue } from "./cbor.js";

/** The signing algorithms of C2PA this signer makes, by c2pa-rs's names. */
export type C2paSigningAlg = "es256" | "es384" | "es512" | "ps256" | "ed25519";

/** What signs: the certificate chain (DER, signing certificate first, no trust anchor) and its private key. */
export interface SigningCredentials {
  readonly alg: C2paSigningAlg;
  readonly chain: readonly Uint8Array[];
  readonly privateKey: KeyObject;
}

/** The shape of c2pa-wasm's `SignerDefinition` (not exported by its typings). */
export interface WasmSignerDefinition {
  readonly alg: string;
  readonly reserveSize: number;
  sign(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>>;
}

interface AlgorithmSpec {
  /** COSE algorithm id (IANA COSE Algorithms registry). */
  readonly coseId: number;
  /** Node's digest name for crypto.sign, or null for Ed25519. */
  readonly digest: string | null;
  readonly options: Record<string, unknown>;
}

const ALGORITHMS: Readonly<Record<C2paSigningAlg, AlgorithmSpec>> = {
  // C2PA and COSE want ECDSA signatures as r‖s (IEEE P1363), not DER.
  es256: { coseId: -7, digest: "sha256", options: { dsaEncoding: "ieee-p1363" } },
  es384: { coseId: -35, digest: "sha384", options: { dsaEncoding: "ieee-p1363" } },
  es512: { coseId: -36, digest: "sha512", options: { dsaEncoding: "ieee-p1363" } },
  ps256: { coseId: -37, digest: "sha256", options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } },
  ed25519: { coseId: -8, digest: null, options: {} },
};

const COSE_SIGN1_TAG = 18;
const HEADER_ALG = 1;
const HEADER_X5CHAIN = 33;
/** Room for the COSE structure around the chain and the signature (c2pa-rs reserves the same). */
const COSE_OVERHEAD = 1024;
/** Padding is found within this many bytes around the first guess (a length prefix grows by at most 8). */
const PAD_SEARCH = 16;

/** How many bytes the claim signature box gets for these credentials. */
export function reserveSizeFor(credentials: SigningCredentials): number {
  const chainBytes = credentials.chain.reduce((n, c) => n + c.length, 0);
  // An RSA signature is as long as the modulus; 1024 bytes covers 8192-bit keys and every EC or EdDSA signature.
  return chainBytes + COSE_OVERHEAD + 1024;
}

/** The COSE protected header: algorithm and certificate chain. */
function protectedHeader(credentials: SigningCredentials): Uint8Array {
  const chain: CborValue = credentials.chain.length === 1 ? credentials.chain[0]! : credentials.chain;
  return encodeCbor(
    new Map<number, CborValue>([
      [HEADER_ALG, ALGORITHMS[credentials.alg].coseId],
      [HEADER_X5CHAIN, chain],
    ]),
  );
}

function coseSign1(protectedBytes: Uint8Array, signature: Uint8Array, pads: readonly number[]): Uint8Array {
  const unprotected = new Map<string, CborValue>(pads.map((n, i) => [i === 0 ? "pad" : `pad${i + 1}`, new Uint8Array(n)]));
  return encodeCbor({ tag: COSE_SIGN1_TAG, value: [protectedBytes, unprotected, null, signature] });
}

/** The COSE_Sign1 padded to exactly `size` bytes. */
function padded(protectedBytes: Uint8Array, signature: Uint8Array, size: number): Uint8Array {
  const bare = coseSign1(protectedBytes, signature, []).length;
  // One "pad" entry costs its key (4 bytes), a length prefix (1-9 bytes) and its zeros; some sizes fall between two
  // prefix lengths, and a second entry ("pad2") reaches those.
  for (const extraEntries of [0, 1]) {
    const guess = size - bare - 4 - (extraEntries ? 6 : 0);
    for (let n = Math.max(0, guess - PAD_SEARCH); n <= guess + PAD_SEARCH; n++) {
      const out = coseSign1(protectedBytes, signature, extraEntries ? [n, 0] : [n]);
      if (out.length === size) return out;
    }
  }
  throw new Error(`the claim signature (${bare} bytes) does not fit the ${size} bytes reserved for it`);
}

/** Signs `Sig_structure` = ["Signature1", protected, external_aad (empty), payload (the claim)]. */
function signClaim(credentials: SigningCredentials, protectedBytes: Uint8Array, claim: Uint8Array): Uint8Array {
  const spec = ALGORITHMS[credentials.alg];
  const toBeSigned = encodeCbor(["Signature1", protectedBytes, new Uint8Array(0), claim]);
  return new Uint8Array(cryptoSign(spec.digest, toBeSigned, { key: credentials.privateKey, ...spec.options }));
}

/** The signer c2pa-wasm's `WasmBuilder.sign` takes, signing with `credentials`. */
export function createCoseSigner(credentials: SigningCredentials): WasmSignerDefinition {
  const reserveSize = reserveSizeFor(credentials);
  const protectedBytes = protectedHeader(credentials);
  return {
    alg: credentials.alg,
    reserveSize,
    async sign(claim) {
      const signature = signClaim(credentials, protectedBytes, claim);
      const out = padded(protectedBytes, signature, reserveSize);
      const copy = new Uint8Array(new ArrayBuffer(out.length));
      copy.set(out);
      return copy;
    },
  };
}
