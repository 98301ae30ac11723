/**
 * The verifier's memory of verified tokens (docs/decisions/0009-verified-token-cache.md): the same token string seen
 * again is refused exactly when a fresh verification would refuse it — once expired, once its key left the JWKS, once
 * its kid names another key.
 */
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { AUTH_FAILURE_HEADER, createTokenVerifier, type TokenFailure, type TokenVerifier } from "../src/auth/index.js";

const ISSUER = "https://issuer.test";
const AUDIENCE = "provenance";
const now = () => Math.floor(Date.now() / 1000);

async function edKey(kid: string): Promise<{ privateKey: CryptoKey; publicJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair("EdDSA", { extractable: true });
  return { privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: "EdDSA", use: "sig" } };
}

const sign = (key: { privateKey: CryptoKey }, kid: string, exp = now() + 600) =>
  new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: "alice", exp }).setProtectedHeader({ alg: "EdDSA", kid }).sign(key.privateKey);

async function expectRejected(verifier: TokenVerifier, token: string, reason: TokenFailure): Promise<void> {
  const err = await verifier.verify(token).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConnectError);
  expect((err as ConnectError).code).toBe(Code.Unauthenticated);
  expect((err as ConnectError).metadata.get(AUTH_FAILURE_HEADER)).toBe(reason);
}

async function replaceFile(path: string, keys: JWK[]): Promise<void> {
  await writeFile(`${path}.new`, JSON.stringify({ keys }));
  await rename(`${path}.new`, path);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "auth-token-cache-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("a token verified before", () => {
  it("is accepted again with the same principal while nothing changed", async () => {
    const k = await edKey("k");
    const file = join(dir, "same.json");
    await replaceFile(file, [k.publicJwk]);
    const v = await createTokenVerifier({ jwks: { kind: "file", path: file }, issuer: ISSUER, audience: AUDIENCE });
    const token = await sign(k, "k");
    const first = await v.verify(token);
    const again = await v.verify(token);
    expect(again.subject).toBe("alice");
    expect(again).toBe(first);
    expect(again.token).toBe(token);
  });

  it("is refused as expired once past exp and the clock tolerance, as a fresh check would", async () => {
    const k = await edKey("k");
    const file = join(dir, "exp.json");
    await replaceFile(file, [k.publicJwk]);
    const v = await createTokenVerifier({ jwks: { kind: "file", path: file }, issuer: ISSUER, audience: AUDIENCE, clockToleranceSec: 5 });
    const exp = now() + 60;
    const token = await sign(k, "k", exp);
    await v.verify(token);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime((exp + 4) * 1000);
    expect((await v.verify(token)).subject).toBe("alice"); // within the tolerance
    vi.setSystemTime((exp + 5) * 1000);
    await expectRejected(v, token, "expired");
  });

  it("is refused once its key is removed from the JWKS file", async () => {
    const k = await edKey("k");
    const other = await edKey("other");
    const file = join(dir, "removed.json");
    await replaceFile(file, [k.publicJwk]);
    const v = await createTokenVerifier({ jwks: { kind: "file", path: file }, issuer: ISSUER, audience: AUDIENCE, fileCheckIntervalMs: 0 });
    const token = await sign(k, "k");
    await v.verify(token);
    await replaceFile(file, [other.publicJwk]);
    await expectRejected(v, token, "unknown_key");
  });

  it("is refused once its kid names another key (a key replaced under the same kid)", async () => {
    const k = await edKey("k");
    const impostor = await edKey("k");
    const file = join(dir, "replaced.json");
    await replaceFile(file, [k.publicJwk]);
    const v = await createTokenVerifier({ jwks: { kind: "file", path: file }, issuer: ISSUER, audience: AUDIENCE, fileCheckIntervalMs: 0 });
    const token = await sign(k, "k");
    await v.verify(token);
    await replaceFile(file, [impostor.publicJwk]);
    await expectRejected(v, token, "bad_signature");
    // and put back, the same token is good again
    await replaceFile(file, [k.publicJwk]);
    expect((await v.verify(token)).subject).toBe("alice");
  });

  it("is checked in full every time when the memory is turned off, and many tokens past the bound still verify", async () => {
    const k = await edKey("k");
    const file = join(dir, "bounded.json");
    await replaceFile(file, [k.publicJwk]);
    const off = await createTokenVerifier({ jwks: { kind: "file", path: file }, issuer: ISSUER, audience: AUDIENCE, verifiedTokenCacheSize: 0 });
    const token = await sign(k, "k");
    expect((await off.verify(token)).subject).toBe("alice");
    expect(await off.verify(token)).not.toBe(await off.verify(token));
    const small = await createTokenVerifier({ jwks: { kind: "file", path: file }, issuer: ISSUER, audience: AUDIENCE, verifiedTokenCacheSize: 2 });
    const tokens = await Promise.all([1, 2, 3, 4].map((i) => sign(k, "k", now() + 600 + i)));
    for (const t of [...tokens, ...tokens]) expect((await small.verify(t)).subject).toBe("alice");
    const tampered = `${tokens[0]!.slice(0, -4)}AAAA`;
    await expectRejected(small, tampered, "bad_signature");
  });
});
