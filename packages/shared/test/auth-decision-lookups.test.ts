/**
 * Which decisions look an item's project up: a caller holding the rule's role on "*" is decided without the lookup
 * (its answer cannot depend on the project), every other caller with it — and both get the same answers as before.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { bearerHeader, createAccessControl, createTokenVerifier, loadPolicyFile, type AccessControl } from "../src/auth/index.js";
import { CompleteReceiptRequestSchema, GetSegmentProvenanceRequestSchema } from "../src/index.js";

const ISSUER = "https://issuer.test";
const SEGMENTS = new Map([["s-a", "A"], ["s-b", "B"]]);
const RECEIPTS = new Map([["00000000-0000-4000-8000-00000000000a", "A"]]);
const lookups: string[] = [];

let dir: string;
let key: CryptoKey;
let access: AccessControl;

const token = (sub: string) =>
  new SignJWT({ iss: ISSUER, aud: "provenance", sub, exp: Math.floor(Date.now() / 1000) + 600 }).setProtectedHeader({ alg: "EdDSA", kid: "k" }).sign(key);

async function outcome(sub: string, procedure: string, message: Parameters<AccessControl["decide"]>[0]["message"]): Promise<string> {
  try {
    const caller = await access.decide({ procedure, headers: { authorization: bearerHeader(await token(sub)) }, message });
    return `ok ${caller.principal.subject}`;
  } catch (err) {
    return Code[(err as ConnectError).code] ?? String(err);
  }
}

const segment = (id: string) => create(GetSegmentProvenanceRequestSchema, { segmentId: id });
const GET_SEGMENT = "provenance.v1.ReceiptService/GetSegmentProvenance";
const COMPLETE = "provenance.v1.ReceiptService/CompleteReceipt";

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "auth-decision-lookups-"));
  const pair = await generateKeyPair("EdDSA");
  key = pair.privateKey;
  await writeFile(join(dir, "jwks.json"), JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: "k", alg: "EdDSA" }] }));
  await writeFile(
    join(dir, "policy.yaml"),
    [
      "grants:",
      "  - { subject: viewer-a, project: A, role: viewer }",
      '  - { subject: viewer-all, project: "*", role: viewer }',
      '  - { subject: admin-all, project: "*", role: admin }',
      "",
    ].join("\n"),
  );
  const count = (kind: string, map: Map<string, string>) => async (ids: readonly string[]) => {
    lookups.push(`${kind} ${ids.join(",")}`);
    return new Map(ids.filter((id) => map.has(id)).map((id) => [id, map.get(id)!]));
  };
  access = createAccessControl({
    verifier: await createTokenVerifier({ jwks: { kind: "file", path: join(dir, "jwks.json") }, issuer: ISSUER, audience: "provenance" }),
    policy: await loadPolicyFile(join(dir, "policy.yaml")),
    resolvers: { segment: count("segment", SEGMENTS), receipt: count("receipt", RECEIPTS) },
  });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  lookups.length = 0;
});

describe("a read of an item", () => {
  it("by a viewer of one project looks the item up and hides other projects' items", async () => {
    expect(await outcome("viewer-a", GET_SEGMENT, segment("s-a"))).toBe("ok viewer-a");
    expect(await outcome("viewer-a", GET_SEGMENT, segment("s-b"))).toBe("NotFound");
    expect(await outcome("viewer-a", GET_SEGMENT, segment("s-zz"))).toBe("ok viewer-a"); // the handler's NOT_FOUND
    expect(lookups).toEqual(["segment s-a", "segment s-b", "segment s-zz"]);
  });

  it("by a viewer of every project is decided without a lookup, with the same answers", async () => {
    for (const id of ["s-a", "s-b", "s-zz"]) expect(await outcome("viewer-all", GET_SEGMENT, segment(id))).toBe("ok viewer-all");
    expect(lookups).toEqual([]);
  });
});

describe("a change of an item", () => {
  const complete = (id: string) => create(CompleteReceiptRequestSchema, { receiptId: id });
  it("needs the role: a viewer of every project is still refused, an admin of every project is not looked up", async () => {
    expect(await outcome("viewer-all", COMPLETE, complete("00000000-0000-4000-8000-00000000000a"))).toBe("PermissionDenied");
    expect(lookups).toEqual(["receipt 00000000-0000-4000-8000-00000000000a"]);
    lookups.length = 0;
    expect(await outcome("admin-all", COMPLETE, complete("00000000-0000-4000-8000-00000000000a"))).toBe("ok admin-all");
    expect(lookups).toEqual([]);
  });
});
