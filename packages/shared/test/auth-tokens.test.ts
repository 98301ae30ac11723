/** Token verification with real keys (RS256, ES256, EdDSA), real JWKS files and a real JWKS endpoint on port 0. */
import { createServer, type Server } from "node:http";
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, type CryptoKey, type JWK, type JWTPayload } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../src/config/index.js";
import { AUTH_FAILURE_HEADER, createTokenVerifier, type TokenFailure, type TokenVerifier } from "../src/auth/index.js";

const ISSUER = "https://issuer.test";
const AUDIENCE = "provenance";

interface TestKey {
  alg: "RS256" | "ES256" | "EdDSA";
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  spki: string;
}

async function makeKey(alg: TestKey["alg"], kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
  return { alg, kid, privateKey, publicJwk, spki: await exportSPKI(publicKey) };
}

const now = () => Math.floor(Date.now() / 1000);

async function sign(key: TestKey, claims: JWTPayload = {}, header: Record<string, unknown> = {}): Promise<string> {
  const payload: JWTPayload = { iss: ISSUER, aud: AUDIENCE, sub: "alice", exp: now() + 600, iat: now(), ...claims };
  for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
  return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, ...header }).sign(key.privateKey);
}

const b64url = (value: unknown) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

async function failureOf(verifier: TokenVerifier, token: string): Promise<{ code: Code; reason: string | null; message: string }> {
  try {
    await verifier.verify(token);
  } catch (err) {
    expect(err).toBeInstanceOf(ConnectError);
    const ce = err as ConnectError;
    return { code: ce.code, reason: ce.metadata.get(AUTH_FAILURE_HEADER), message: ce.rawMessage };
  }
  throw new Error("token was accepted");
}

async function expectRejected(verifier: TokenVerifier, token: string, reason: TokenFailure): Promise<string> {
  const f = await failureOf(verifier, token);
  expect(f.code).toBe(Code.Unauthenticated);
  expect(f.reason).toBe(reason);
  return f.message;
}

let dir: string;
let rsa: TestKey;
let ec: TestKey;
let ed: TestKey;
let stranger: TestKey;
let jwksFile: string;
let verifier: TokenVerifier;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "auth-tokens-"));
  [rsa, ec, ed, stranger] = await Promise.all([makeKey("RS256", "rsa-1"), makeKey("ES256", "ec-1"), makeKey("EdDSA", "ed-1"), makeKey("EdDSA", "stranger")]);
  jwksFile = join(dir, "jwks.json");
  await writeFile(jwksFile, JSON.stringify({ keys: [rsa.publicJwk, ec.publicJwk, ed.publicJwk] }));
  verifier = await createTokenVerifier({ jwks: { kind: "file", path: jwksFile }, issuer: ISSUER, audience: AUDIENCE });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("accepted tokens", () => {
  for (const [alg, pick] of [["RS256", () => rsa], ["ES256", () => ec], ["EdDSA", () => ed]] as const) {
    it(`signed with ${alg}`, async () => {
      const key = pick();
      expect(key.alg).toBe(alg);
      const token = await sign(key, { groups: ["team-a", "ops"] });
      const p = await verifier.verify(token);
      expect(p.subject).toBe("alice");
      expect(p.groups).toEqual(["team-a", "ops"]);
      expect(p.issuer).toBe(ISSUER);
      expect(p.token).toBe(token);
      expect(Math.abs(p.expiresAt.getTime() / 1000 - (now() + 600))).toBeLessThan(5);
    });
  }

  it("keeps the raw token for forwarding but out of JSON and logs", async () => {
    const token = await sign(ed);
    const p = await verifier.verify(token);
    expect(p.token).toBe(token);
    expect(JSON.stringify(p)).not.toContain(token);
    expect(Object.keys(p)).not.toContain("token");
  });

  it("without groups, with several audiences, and a few seconds past exp (clock tolerance)", async () => {
    expect((await verifier.verify(await sign(ed))).groups).toEqual([]);
    expect((await verifier.verify(await sign(ed, { aud: ["other", AUDIENCE] }))).subject).toBe("alice");
    expect((await verifier.verify(await sign(ed, { exp: now() - 10 }))).subject).toBe("alice");
  });
});

describe("rejected tokens, each UNAUTHENTICATED with a short reason", () => {
  it("expired", async () => {
    expect(await expectRejected(verifier, await sign(ec, { exp: now() - 120 }), "expired")).toBe("token expired");
  });

  it("not yet valid", async () => {
    await expectRejected(verifier, await sign(ec, { nbf: now() + 600 }), "not_yet_valid");
  });

  it("wrong audience, and no audience", async () => {
    await expectRejected(verifier, await sign(rsa, { aud: "someone-else" }), "wrong_audience");
    await expectRejected(verifier, await sign(rsa, { aud: undefined }), "wrong_audience");
  });

  it("wrong issuer", async () => {
    await expectRejected(verifier, await sign(rsa, { iss: "https://evil.test" }), "wrong_issuer");
  });

  it("unknown kid, and a key that is not in the set", async () => {
    await expectRejected(verifier, await sign(ed, {}, { kid: "nope" }), "unknown_key");
    await expectRejected(verifier, await sign(stranger), "unknown_key");
  });

  it("alg: none (hand-built)", async () => {
    const token = `${b64url({ alg: "none", typ: "JWT" })}.${b64url({ iss: ISSUER, aud: AUDIENCE, sub: "mallory", exp: now() + 600 })}.`;
    await expectRejected(verifier, token, "algorithm_not_allowed");
  });

  it("HS256 with the public key as the secret", async () => {
    for (const secret of [rsa.spki, JSON.stringify(ed.publicJwk)]) {
      const token = await new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: "mallory", exp: now() + 600 })
        .setProtectedHeader({ alg: "HS256", kid: rsa.kid })
        .sign(new TextEncoder().encode(secret));
      await expectRejected(verifier, token, "algorithm_not_allowed");
    }
  });

  it("a bad signature: payload changed after signing, or signed by another key under a known kid", async () => {
    const [h, , s] = (await sign(ed)).split(".");
    await expectRejected(verifier, `${h}.${b64url({ iss: ISSUER, aud: AUDIENCE, sub: "admin", exp: now() + 600 })}.${s}`, "bad_signature");
    await expectRejected(verifier, await sign({ ...stranger, kid: ed.kid }), "bad_signature");
  });

  it("missing exp, missing sub", async () => {
    expect(await expectRejected(verifier, await sign(ed, { exp: undefined }), "malformed")).toBe("malformed token: no exp claim");
    expect(await expectRejected(verifier, await sign(ed, { sub: undefined }), "malformed")).toBe("malformed token: no sub claim");
    await expectRejected(verifier, await sign(ed, { sub: "" }), "malformed");
  });

  it("groups that are not an array of strings", async () => {
    await expectRejected(verifier, await sign(ed, { groups: "admins" }), "malformed");
    await expectRejected(verifier, await sign(ed, { groups: ["a", 1] }), "malformed");
    await expectRejected(verifier, await sign(ed, { groups: { admins: true } }), "malformed");
  });

  it("garbage", async () => {
    for (const junk of ["", "abc", "a.b.c", "....", `${b64url({ alg: "EdDSA" })}.x.y`, "x".repeat(20_000)]) {
      await expectRejected(verifier, junk, "malformed");
    }
  });

  it("messages reveal nothing about the keys or the expected values", async () => {
    const messages = [
      await expectRejected(verifier, await sign(rsa, { aud: "someone-else" }), "wrong_audience"),
      await expectRejected(verifier, await sign(rsa, { iss: "https://evil.test" }), "wrong_issuer"),
      await expectRejected(verifier, await sign(ed, {}, { kid: "nope" }), "unknown_key"),
    ];
    for (const m of messages) {
      expect(m).not.toContain(ISSUER);
      expect(m).not.toContain(AUDIENCE);
      expect(m).not.toMatch(/rsa-1|ec-1|ed-1|nope/);
    }
  });
});

describe("a JWKS file", () => {
  it("is re-read when a new key is rotated in (an unknown kid looks again at once)", async () => {
    const file = join(dir, "rotating.json");
    const first = await makeKey("ES256", "first");
    const second = await makeKey("EdDSA", "second");
    await writeFile(file, JSON.stringify({ keys: [first.publicJwk] }));
    const v = await createTokenVerifier({ jwks: { kind: "file", path: file }, issuer: ISSUER, audience: AUDIENCE, fileCheckIntervalMs: 60_000 });
    expect((await v.verify(await sign(first))).subject).toBe("alice");
    await expectRejected(v, await sign(second), "unknown_key");
    // the way Kubernetes updates a mounted ConfigMap or Secret: a new file renamed over the old
    await writeFile(`${file}.new`, JSON.stringify({ keys: [second.publicJwk] }));
    await rename(`${file}.new`, file);
    expect((await v.verify(await sign(second))).subject).toBe("alice");
    // the key removed from the file is no longer accepted
    await expectRejected(v, await sign(first), "unknown_key");
  });

  it("keeps the previous keys when a changed file is broken, and says so", async () => {
    const file = join(dir, "broken.json");
    await writeFile(file, JSON.stringify({ keys: [ed.publicJwk] }));
    const errors: unknown[] = [];
    const v = await createTokenVerifier({
      jwks: { kind: "file", path: file },
      issuer: ISSUER,
      audience: AUDIENCE,
      fileCheckIntervalMs: 0,
      onKeysReloadError: (err) => errors.push(err),
    });
    await writeFile(file, "{ half a file");
    expect((await v.verify(await sign(ed))).subject).toBe("alice");
    expect((await v.verify(await sign(ed))).subject).toBe("alice");
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toMatch(/AUTH_JWKS: .*broken\.json is not JSON/);
  });

  it("that is missing, not a JWK set or holds a private key is a ConfigError naming AUTH_JWKS", async () => {
    const opts = { issuer: ISSUER, audience: AUDIENCE };
    const attempt = (path: string) => createTokenVerifier({ ...opts, jwks: { kind: "file", path } });
    await expect(attempt(join(dir, "absent.json"))).rejects.toThrow(ConfigError);
    await expect(attempt(join(dir, "absent.json"))).rejects.toThrow(/^AUTH_JWKS: cannot read/);
    await writeFile(join(dir, "not-a-set.json"), JSON.stringify({ kty: "OKP" }));
    await expect(attempt(join(dir, "not-a-set.json"))).rejects.toThrow(/AUTH_JWKS: .* expected \{"keys": \[\.\.\.\]\}/);
    const { privateKey } = await generateKeyPair("EdDSA", { extractable: true });
    await writeFile(join(dir, "private.json"), JSON.stringify({ keys: [await exportJWK(privateKey)] }));
    await expect(attempt(join(dir, "private.json"))).rejects.toThrow(/keys\[0\] is a private key/);
  });
});

describe("a remote JWKS", () => {
  let server: Server;
  let url: URL;
  let served: JWK[] = [];
  let fetches = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      fetches++;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ keys: served }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`);
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("verifies tokens and picks up a rotated key", async () => {
    const before = await makeKey("RS256", "before");
    const after = await makeKey("ES256", "after");
    served = [before.publicJwk];
    const v = await createTokenVerifier({ jwks: { kind: "url", url }, issuer: ISSUER, audience: AUDIENCE, remote: { cooldownMs: 0 } });
    expect((await v.verify(await sign(before, { sub: "svc" }))).subject).toBe("svc");
    expect((await v.verify(await sign(before))).subject).toBe("alice");
    expect(fetches).toBe(1); // cached
    served = [after.publicJwk];
    expect((await v.verify(await sign(after, { sub: "rotated" }))).subject).toBe("rotated");
    expect(fetches).toBe(2);
    // the refetched set replaced the old one: the key the issuer dropped is no longer accepted
    await expectRejected(v, await sign(before), "unknown_key");
  });

  it("does not fetch again within the cooldown", async () => {
    const k = await makeKey("EdDSA", "cool");
    served = [k.publicJwk];
    const v = await createTokenVerifier({ jwks: { kind: "url", url }, issuer: ISSUER, audience: AUDIENCE, remote: { cooldownMs: 60_000 } });
    await v.verify(await sign(k));
    const seen = fetches;
    await expectRejected(v, await sign(stranger), "unknown_key");
    await expectRejected(v, await sign(stranger), "unknown_key");
    expect(fetches).toBe(seen);
  });

  it("that cannot be reached is UNAVAILABLE, not the caller's fault", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const v = await createTokenVerifier({ jwks: { kind: "url", url: new URL(`http://127.0.0.1:${port}/jwks`) }, issuer: ISSUER, audience: AUDIENCE, remote: { timeoutMs: 2000 } });
    const f = await failureOf(v, await sign(ed));
    expect(f.code).toBe(Code.Unavailable);
    expect(f.message).toBe("identity provider keys unavailable, retry later");
  });
});
