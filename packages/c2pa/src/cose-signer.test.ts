import { generateKeyPairSync, verify, type KeyObject } from "node:crypto";
import { describe, expect, it } from "vitest";
import { encodeCbor } from "./cbor.js";
import { createCoseSigner, type C2paSigningAlg } from "./cose-signer.js";

/** A CBOR decoder for what COSE_Sign1 holds, written apart from the encoder to check it. */
function decode(bytes: Uint8Array): unknown {
  let at = 0;
  const arg = (info: number): number => {
    if (info < 24) return info;
    const n = { 24: 1, 25: 2, 26: 4, 27: 8 }[info];
    if (!n) throw new Error(`bad additional info ${info}`);
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + bytes[at++]!;
    return v;
  };
  const item = (): unknown => {
    const first = bytes[at++]!;
    const major = first >> 5;
    if (first === 0xf6) return null;
    const n = arg(first & 0x1f);
    switch (major) {
      case 0:
        return n;
      case 1:
        return -1 - n;
      case 2:
        return bytes.slice((at += n) - n, at);
      case 3:
        return Buffer.from(bytes.slice((at += n) - n, at)).toString("utf8");
      case 4:
        return Array.from({ length: n }, item);
      case 5:
        return new Map(Array.from({ length: n }, () => [item(), item()]));
      case 6:
        return { tag: n, value: item() };
      default:
        throw new Error(`unexpected major type ${major}`);
    }
  };
  const value = item();
  if (at !== bytes.length) throw new Error(`${bytes.length - at} trailing bytes`);
  return value;
}

const keys: Record<C2paSigningAlg, () => { privateKey: KeyObject; publicKey: KeyObject; coseId: number; digest: string | null; options: object }> = {
  es256: () => ({ ...generateKeyPairSync("ec", { namedCurve: "P-256" }), coseId: -7, digest: "sha256", options: { dsaEncoding: "ieee-p1363" } }),
  es384: () => ({ ...generateKeyPairSync("ec", { namedCurve: "P-384" }), coseId: -35, digest: "sha384", options: { dsaEncoding: "ieee-p1363" } }),
  es512: () => ({ ...generateKeyPairSync("ec", { namedCurve: "P-521" }), coseId: -36, digest: "sha512", options: { dsaEncoding: "ieee-p1363" } }),
  ps256: () => ({ ...generateKeyPairSync("rsa", { modulusLength: 2048 }), coseId: -37, digest: "sha256", options: { padding: 6, saltLength: 32 } }),
  ed25519: () => ({ ...generateKeyPairSync("ed25519"), coseId: -8, digest: null, options: {} }),
};

describe("createCoseSigner", () => {
  for (const alg of Object.keys(keys) as C2paSigningAlg[]) {
    it(`makes a tagged COSE_Sign1 of exactly the reserved size whose ${alg} signature verifies`, async () => {
      const k = keys[alg]();
      for (const certLength of [300, 480, 700, 1200]) {
        const cert = new Uint8Array(certLength).fill(7);
        const signer = createCoseSigner({ alg, chain: [cert], privateKey: k.privateKey });
        expect(signer.alg).toBe(alg);
        const claim = new Uint8Array(Buffer.from(`claim bytes ${certLength}`));
        const out = await signer.sign(claim);
        expect(out.length).toBe(signer.reserveSize);
        const { tag, value } = decode(out) as { tag: number; value: [Uint8Array, Map<unknown, unknown>, null, Uint8Array] };
        expect(tag).toBe(18);
        const [protectedBytes, unprotected, payload, signature] = value;
        expect(payload).toBeNull();
        expect(decode(protectedBytes)).toEqual(new Map<number, unknown>([[1, k.coseId], [33, cert]]));
        expect([...unprotected.keys()].every((key) => typeof key === "string" && key.startsWith("pad"))).toBe(true);
        const toBeSigned = encodeCbor(["Signature1", protectedBytes, new Uint8Array(0), claim]);
        expect(verify(k.digest, toBeSigned, { key: k.publicKey, ...k.options }, signature)).toBe(true);
      }
    });
  }

  it("puts a chain of several certificates in x5chain as an array, leaf first", async () => {
    const k = keys.es256();
    const chain = [new Uint8Array(400).fill(1), new Uint8Array(420).fill(2)];
    const signer = createCoseSigner({ alg: "es256", chain, privateKey: k.privateKey });
    const out = await signer.sign(new Uint8Array(10));
    const [protectedBytes] = (decode(out) as { value: [Uint8Array] }).value;
    expect((decode(protectedBytes) as Map<number, unknown>).get(33)).toEqual(chain);
  });
});
