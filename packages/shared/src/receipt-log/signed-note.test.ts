import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DomainError } from "../errors/domain-error.js";
import {
  generateSigningKey,
  isValidKeyName,
  noteKeyId,
  openNote,
  parseSigningKey,
  parseVerifierKey,
  signNote,
  signingKeyFromSeed,
} from "./signed-note.js";

const seed = (label: string) => createHash("sha256").update(label).digest();
const alice = signingKeyFromSeed("alice.example/log", seed("alice"));
const bob = signingKeyFromSeed("bob.example/log", seed("bob"));
const text = "alice.example/log\n42\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";

function rejection(f: () => unknown): { field: string | undefined; message: string } {
  try {
    f();
  } catch (err) {
    if (err instanceof DomainError && err.code === "invalid_argument") return { field: err.field, message: err.message };
    throw err;
  }
  throw new Error("no error was thrown");
}

describe("note keys", () => {
  it("generates a key pair whose halves match, in the sumdb/note forms", () => {
    const key = generateSigningKey("local.example/receipt-log");
    expect(key.signingKey).toMatch(/^PRIVATE\+KEY\+local\.example\/receipt-log\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
    expect(key.verifierKey).toMatch(/^local\.example\/receipt-log\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
    const signer = parseSigningKey(`${key.signingKey}\n`);
    expect(signer.verifier.verifierKey).toBe(key.verifierKey);
    expect(parseVerifierKey(key.verifierKey).keyId).toBe(signer.keyId);
    expect(generateSigningKey("local.example/receipt-log").signingKey).not.toBe(key.signingKey);
  });

  it("computes the key id from the name, 0x0A, 0x01 and the public key", () => {
    const v = parseVerifierKey(alice.verifierKey);
    const digest = createHash("sha256").update("alice.example/log\n\x01").update(v.publicKey).digest();
    expect(noteKeyId(v.name, v.publicKey)).toBe(digest.readUInt32BE(0));
    expect(alice.verifierKey.split("+")[1]).toBe(digest.subarray(0, 4).toString("hex"));
  });

  it("does not show the seed on the signer", () => {
    const signer = parseSigningKey(alice.signingKey);
    const shown = JSON.stringify(signer) + String(Object.values(signer));
    expect(shown).not.toContain(alice.signingKey.split("+").at(-1)!.slice(4, 30));
    expect(shown).not.toContain(seed("alice").toString("hex"));
  });

  it("rejects every one-character change and every truncation of a key", () => {
    for (const [key, parse] of [
      [alice.verifierKey, parseVerifierKey],
      [alice.signingKey, parseSigningKey],
    ] as const) {
      for (let i = 0; i < key.length; i++) {
        const changed = key.slice(0, i) + String.fromCharCode(key.charCodeAt(i) + 1) + key.slice(i + 1);
        expect(() => parse(changed), changed).toThrow(DomainError);
        expect(() => parse(key.slice(0, i)), key.slice(0, i)).toThrow(DomainError);
        if (i > 0) expect(() => parse(key.slice(i)), key.slice(i)).toThrow(DomainError);
      }
    }
    expect(rejection(() => parseVerifierKey("x+00000000+AQ==")).field).toBe("verifier_key");
    expect(rejection(() => parseSigningKey(alice.verifierKey)).field).toBe("signing_key");
  });

  it("accepts only names without spaces, plus signs or control characters", () => {
    expect(isValidKeyName("example.com/log42")).toBe(true);
    for (const bad of ["", "a b", "a+b", "a\u00a0b", "a\nb", "a\u0001b", "\ud800"]) expect(isValidKeyName(bad)).toBe(false);
    expect(rejection(() => generateSigningKey("bad name")).field).toBe("name");
    expect(rejection(() => signingKeyFromSeed("ok", Buffer.alloc(31))).field).toBe("seed");
  });
});

describe("signed notes", () => {
  const signer = parseSigningKey(alice.signingKey);
  const verifier = parseVerifierKey(alice.verifierKey);
  const note = signNote(text, signer);

  it("writes text, a blank line and one em-dash signature line per key", () => {
    const lines = note.split("\n");
    expect(note.startsWith(text + "\n\u2014 alice.example/log ")).toBe(true);
    expect(lines.at(-1)).toBe("");
    const sig = Buffer.from(lines.at(-2)!.split(" ")[2]!, "base64");
    expect(sig).toHaveLength(68);
    expect(sig.readUInt32BE(0)).toBe(signer.keyId);
    expect(signNote(text, signer)).toBe(note); // Ed25519 is deterministic
  });

  it("opens its own note, and one signed by two keys with either", () => {
    expect(openNote(note, verifier).text).toBe(text);
    const both = signNote(text, [signer, parseSigningKey(bob.signingKey)]);
    expect(openNote(both, verifier).unverified.map((s) => s.name)).toEqual(["bob.example/log"]);
    expect(openNote(both, parseVerifierKey(bob.verifierKey)).signatures.map((s) => s.name)).toEqual(["bob.example/log"]);
    expect(openNote(Buffer.from(note, "utf8"), verifier).text).toBe(text);
  });

  it("keeps blank lines inside the text: the signatures follow the last one", () => {
    const withBlank = "first paragraph\n\nsecond paragraph\n";
    expect(openNote(signNote(withBlank, signer), verifier).text).toBe(withBlank);
  });

  it("rejects the wrong key, an altered text, a missing signature, malformed lines and trailing bytes", () => {
    const sigLine = note.slice(text.length + 1);
    const cases: [string, RegExp][] = [
      [note.replace("42", "43"), /does not verify/],
      [text + "\n", /no signature lines/],
      [text, /no blank line/],
      [note + "— alice.example/log\n", /signature line 2/],
      [note + "garbage", /does not end with a newline/],
      [note + "\n", /no signature lines/],
      [note + "-- alice.example/log AAAA\n", /signature line 2/],
      [text + "\n" + sigLine.replace(" ", "  "), /signature line 1/],
      [text + "\n" + sigLine.replace(/=\n$/, "\n"), /signature line 1/],
      [text + "\n\u2014 alice.example/log AAAA\n", /signature line 1/],
      [note.replace("42", "4\t2"), /control character/],
      [text + "\n" + sigLine.replace(/ (\S{10})/, (_, s: string) => ` ${s.slice(0, 6)}${s[6] === "A" ? "B" : "A"}${s.slice(7)}`), /does not verify|is not signed/],
    ];
    for (const [bad, reason] of cases) {
      const r = rejection(() => openNote(bad, verifier));
      expect(r.field).toBe("note");
      expect(r.message).toMatch(reason);
    }
    expect(rejection(() => openNote(note, parseVerifierKey(bob.verifierKey))).message).toMatch(/^note: is not signed by bob\.example\/log\+[0-9a-f]{8}$/);
    // A different key under the same name and id is not this key: its signature is ignored, so nothing verifies.
    const impostor = signingKeyFromSeed("alice.example/log", seed("impostor"));
    expect(rejection(() => openNote(signNote(text, parseSigningKey(impostor.signingKey)), verifier)).message).toMatch(/is not signed by/);
  });

  it("refuses to sign text that a note cannot carry", () => {
    for (const bad of ["", "no final newline", "tab\there\n", "lone \ud800 surrogate\n"]) {
      expect(rejection(() => signNote(bad, signer)).field).toBe("text");
    }
    expect(rejection(() => signNote(text, [])).field).toBe("signers");
  });
});
