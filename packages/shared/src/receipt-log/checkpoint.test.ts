import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DomainError } from "../errors/domain-error.js";
import { formatCheckpoint, openCheckpoint, parseCheckpoint, signCheckpoint } from "./checkpoint.js";
import { parseSigningKey, parseVerifierKey, signNote, signingKeyFromSeed } from "./signed-note.js";
import { EMPTY_ROOT, hashLeaf } from "./tree-hash.js";

const key = signingKeyFromSeed("provenance.test/receipt-log", createHash("sha256").update("checkpoint tests").digest());
const signer = parseSigningKey(key.signingKey);
const verifier = parseVerifierKey(key.verifierKey);
const root = hashLeaf("root");
const checkpoint = { origin: "provenance.test/receipt-log", size: 1234, rootHash: root };

function rejection(f: () => unknown): { field: string | undefined; message: string } {
  try {
    f();
  } catch (err) {
    if (err instanceof DomainError && err.code === "invalid_argument") return { field: err.field, message: err.message };
    throw err;
  }
  throw new Error("no error was thrown");
}

describe("checkpoint body", () => {
  it("is the origin, the decimal size and the base64 root, each on its own line", () => {
    expect(formatCheckpoint(checkpoint)).toBe(`provenance.test/receipt-log\n1234\n${root.toString("base64")}\n`);
    expect(formatCheckpoint({ origin: "o", size: 0, rootHash: EMPTY_ROOT })).toBe("o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n");
    expect(parseCheckpoint(formatCheckpoint(checkpoint))).toEqual(checkpoint);
    expect(parseCheckpoint(formatCheckpoint({ ...checkpoint, extensions: ["ext one"] })).extensions).toEqual(["ext one"]);
  });

  it("refuses to format what a checkpoint cannot hold", () => {
    expect(rejection(() => formatCheckpoint({ ...checkpoint, origin: "" })).field).toBe("origin");
    expect(rejection(() => formatCheckpoint({ ...checkpoint, origin: "a\nb" })).field).toBe("origin");
    expect(rejection(() => formatCheckpoint({ ...checkpoint, size: -1 })).field).toBe("tree_size");
    expect(rejection(() => formatCheckpoint({ ...checkpoint, rootHash: root.subarray(1) })).field).toBe("root_hash");
    expect(rejection(() => formatCheckpoint({ ...checkpoint, extensions: [""] })).field).toBe("extensions[0]");
  });

  it("parses strictly", () => {
    const b64 = root.toString("base64");
    const bad: [string, RegExp][] = [
      [`o\n12\n${b64}`, /end with a newline/],
      [`o\n12\n`, /origin, a tree size and a root hash/],
      [`\n12\n${b64}\n`, /empty origin/],
      [`o\n012\n${b64}\n`, /tree size/],
      [`o\n+12\n${b64}\n`, /tree size/],
      [`o\n1e3\n${b64}\n`, /tree size/],
      [`o\n 12\n${b64}\n`, /tree size/],
      [`o\n99999999999999999999\n${b64}\n`, /tree size/],
      [`o\n12\n${b64.slice(0, -1)}\n`, /root hash/],
      [`o\n12\n${Buffer.alloc(31).toString("base64")}\n`, /root hash/],
      [`o\n12\n${b64.replace(/=$/, "")}\n`, /root hash/],
      [`o\n12\n${Buffer.from(root).toString("base64url")}\n`, /root hash|not the base64/],
      [`o\n12\n${b64}\n\n`, /empty extension/],
    ];
    for (const [text, reason] of bad) {
      const r = rejection(() => parseCheckpoint(text));
      expect(r.field).toBe("checkpoint");
      expect(r.message, JSON.stringify(text)).toMatch(reason);
    }
  });
});

describe("signed checkpoints", () => {
  const note = signCheckpoint(checkpoint, signer);

  it("round-trip through signing and opening", () => {
    const opened = openCheckpoint(note, verifier, { origin: checkpoint.origin });
    expect(opened.checkpoint).toEqual(checkpoint);
    expect(opened.text).toBe(formatCheckpoint(checkpoint));
    expect(opened.signatures.map((s) => s.name)).toEqual(["provenance.test/receipt-log"]);
  });

  it("reject an altered size or root, another origin, another key, and a signed note that is not a checkpoint", () => {
    const other = parseVerifierKey(signingKeyFromSeed("provenance.test/receipt-log", Buffer.alloc(32, 7)).verifierKey);
    const altered = note.replace("\n1234\n", "\n1235\n");
    expect(rejection(() => openCheckpoint(altered, verifier)).message).toMatch(/does not verify/);
    const rootLine = root.toString("base64");
    const otherRoot = hashLeaf("other root").toString("base64");
    expect(rejection(() => openCheckpoint(note.replace(rootLine, otherRoot), verifier)).message).toMatch(/does not verify/);
    expect(rejection(() => openCheckpoint(note, verifier, { origin: "elsewhere" })).message).toMatch(/is for origin/);
    expect(rejection(() => openCheckpoint(note, other)).message).toMatch(/is not signed by/);
    expect(rejection(() => openCheckpoint(note + "trailing", verifier)).field).toBe("checkpoint");
    expect(rejection(() => openCheckpoint(signNote("just some text\n", signer), verifier)).message).toMatch(/origin, a tree size/);
  });
});
