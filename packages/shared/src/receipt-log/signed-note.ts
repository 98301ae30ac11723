/**
 * C2SP signed notes (c2sp.org/signed-note) with Ed25519 keys in the `golang.org/x/mod/sumdb/note` text forms:
 * verifier key `<name>+<8 hex key id>+<base64(0x01 ‖ public key)>`, signing key
 * `PRIVATE+KEY+<name>+<8 hex key id>+<base64(0x01 ‖ 32-byte seed)>`, key id = the first 4 bytes of
 * SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key). Ed25519 is node:crypto's.
 */
import { createHash, createPrivateKey, createPublicKey, randomBytes, sign, verify, type KeyObject } from "node:crypto";
import { invalidArgument } from "../errors/domain-error.js";
import { decodeBase64Strict } from "./strict-base64.js";

/** The signature type byte of Ed25519 in signed notes. */
const ALG_ED25519 = 0x01;
const ED25519_SIZE = 32;
const SIGNATURE_SIZE = 64;
/** More signature lines than this make a note malformed (sumdb/note's bound; the spec asks for at least 16). */
export const MAX_NOTE_SIGNATURES = 100;

const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const SPKI_ED25519_PREFIX = Buffer.from("302a300506032b6570032100", "hex");
const SIGNING_KEY_PREFIX = "PRIVATE+KEY+";
const EM_DASH = "\u2014";
const KEY_ID_HEX = /^[0-9a-f]{8}$/;
const SIGNATURE_LINE = /^\u2014 ([^\s+]+) (\S+)$/u;

/** The public half of a note key: what verifies its signatures. */
export interface NoteVerifier {
  readonly name: string;
  /** The key id as an unsigned 32-bit number. */
  readonly keyId: number;
  /** The 32-byte Ed25519 public key. */
  readonly publicKey: Buffer;
  /** The key in vkey form, `<name>+<hex id>+<base64(0x01 ‖ public key)>`. */
  readonly verifierKey: string;
  /** Whether `signature` (64 bytes) is this key's Ed25519 signature of `message`. */
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

/** A note key able to sign. The seed stays inside a node:crypto KeyObject and is never a property. */
export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  /** The verifier of this key, to publish. */
  readonly verifier: NoteVerifier;
  /** The 64-byte Ed25519 signature of `message`. */
  sign(message: Uint8Array): Buffer;
}

/** One signature line of a note. */
export interface NoteSignature {
  readonly name: string;
  readonly keyId: number;
  /** The base64 of key id ‖ signature, as on the line. */
  readonly base64: string;
}

/** A note whose signatures were checked: its text and which signatures verified. */
export interface OpenedNote {
  /** The signed text, ending in a newline (without the blank line before the signatures). */
  readonly text: string;
  /** Signatures by a given key, each verified. At least one. */
  readonly signatures: readonly NoteSignature[];
  /** Signatures by keys not given (C2SP: ignored, not checked). */
  readonly unverified: readonly NoteSignature[];
}

/** A key pair in text form, as {@link generateSigningKey} returns it. */
export interface GeneratedNoteKey {
  /** `PRIVATE+KEY+…`: the content of a signing key file. Secret. */
  readonly signingKey: string;
  /** The vkey to publish. */
  readonly verifierKey: string;
}

/** Whether `name` may name a note key: non-empty, no Unicode space, no plus, no control character. */
export function isValidKeyName(name: string): boolean {
  return typeof name === "string" && name.length > 0 && !/[\s+\p{Cc}]/u.test(name) && !hasLoneSurrogate(name);
}

function hasLoneSurrogate(text: string): boolean {
  return /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}

/** The key id of an Ed25519 note key: the first 4 bytes, big-endian, of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key). */
export function noteKeyId(name: string, publicKey: Uint8Array): number {
  const digest = createHash("sha256").update(name, "utf8").update(Buffer.from([0x0a, ALG_ED25519])).update(publicKey).digest();
  return digest.readUInt32BE(0);
}

function hex8(keyId: number): string {
  return keyId.toString(16).padStart(8, "0");
}

function publicKeyObject(publicKey: Buffer): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, publicKey]), format: "der", type: "spki" });
}

function makeVerifier(name: string, publicKey: Buffer): NoteVerifier {
  const keyId = noteKeyId(name, publicKey);
  const key = publicKeyObject(publicKey);
  const verifierKey = `${name}+${hex8(keyId)}+${Buffer.concat([Buffer.from([ALG_ED25519]), publicKey]).toString("base64")}`;
  return {
    name,
    keyId,
    publicKey,
    verifierKey,
    verify: (message, signature) => signature.length === SIGNATURE_SIZE && verify(null, message, key, signature),
  };
}

function makeSigner(name: string, seed: Buffer): NoteSigner {
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: "der", type: "pkcs8" });
  const spki = createPublicKey(privateKey).export({ format: "der", type: "spki" });
  const verifier = makeVerifier(name, spki.subarray(spki.length - ED25519_SIZE));
  return { name, keyId: verifier.keyId, verifier, sign: (message) => sign(null, message, privateKey) };
}

/** Splits `<name>+<hex id>+<key data>` (the key data is base64 and may itself hold `+`). */
function splitKey(field: string, text: string): { name: string; keyIdHex: string; data: Buffer } {
  const first = text.indexOf("+");
  const second = first < 0 ? -1 : text.indexOf("+", first + 1);
  if (second < 0) throw invalidArgument(field, "must read <name>+<8 hex key id>+<base64 key>");
  const name = text.slice(0, first);
  const keyIdHex = text.slice(first + 1, second);
  const data = decodeBase64Strict(text.slice(second + 1));
  if (!isValidKeyName(name)) throw invalidArgument(field, "has an invalid key name (empty, or with a space or a plus)");
  if (!KEY_ID_HEX.test(keyIdHex)) throw invalidArgument(field, "must have a key id of 8 lower-case hex digits");
  if (data === undefined) throw invalidArgument(field, "must end in standard padded base64 key data");
  if (data.length !== 1 + ED25519_SIZE || data[0] !== ALG_ED25519) {
    throw invalidArgument(field, "is not an Ed25519 key (type byte 0x01 and 32 bytes)");
  }
  return { name, keyIdHex, data: data.subarray(1) };
}

/** Parses a verifier key (vkey); surrounding whitespace (a file's final newline) is ignored. INVALID_ARGUMENT `verifier_key` otherwise. */
export function parseVerifierKey(text: string): NoteVerifier {
  const { name, keyIdHex, data } = splitKey("verifier_key", String(text).trim());
  const verifier = makeVerifier(name, Buffer.from(data));
  if (hex8(verifier.keyId) !== keyIdHex) throw invalidArgument("verifier_key", "has a key id that does not match its name and key");
  return verifier;
}

/** Parses a signing key (`PRIVATE+KEY+…`); surrounding whitespace is ignored. INVALID_ARGUMENT `signing_key` otherwise. */
export function parseSigningKey(text: string): NoteSigner {
  const trimmed = String(text).trim();
  if (!trimmed.startsWith(SIGNING_KEY_PREFIX)) throw invalidArgument("signing_key", `must start with ${SIGNING_KEY_PREFIX}`);
  const { name, keyIdHex, data } = splitKey("signing_key", trimmed.slice(SIGNING_KEY_PREFIX.length));
  const signer = makeSigner(name, Buffer.from(data));
  if (hex8(signer.keyId) !== keyIdHex) throw invalidArgument("signing_key", "has a key id that does not match its name and key");
  return signer;
}

/** The signing key text of a 32-byte Ed25519 seed under `name` (for fixed test keys; {@link generateSigningKey} for real ones). */
export function signingKeyFromSeed(name: string, seed: Uint8Array): GeneratedNoteKey {
  if (!isValidKeyName(name)) throw invalidArgument("name", "must be non-empty, without spaces, plus signs or control characters");
  if (!(seed instanceof Uint8Array) || seed.length !== ED25519_SIZE) throw invalidArgument("seed", `must be ${ED25519_SIZE} bytes`);
  const signer = makeSigner(name, Buffer.from(seed));
  const data = Buffer.concat([Buffer.from([ALG_ED25519]), seed]).toString("base64");
  return { signingKey: `${SIGNING_KEY_PREFIX}${name}+${hex8(signer.keyId)}+${data}`, verifierKey: signer.verifier.verifierKey };
}

/** A new random Ed25519 note key named `name` (for local mode: write `signingKey` to the key file, publish `verifierKey`). */
export function generateSigningKey(name: string): GeneratedNoteKey {
  return signingKeyFromSeed(name, randomBytes(ED25519_SIZE));
}

/** Throws INVALID_ARGUMENT naming `field` unless `text` may be (part of) a note: no control character but newline, no lone surrogate. */
function checkNoteCharacters(field: string, text: string): void {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 && code !== 0x0a) throw invalidArgument(field, "contains a control character other than newline");
  }
  if (hasLoneSurrogate(text)) throw invalidArgument(field, "is not valid UTF-8 (a lone surrogate)");
}

/** The note text a signature covers must be non-empty and end in a newline. */
function checkNoteText(field: string, text: string): void {
  if (typeof text !== "string" || text.length === 0 || !text.endsWith("\n")) {
    throw invalidArgument(field, "must be non-empty text ending in a newline");
  }
  checkNoteCharacters(field, text);
}

/** Signs `text` (non-empty, ending in a newline) with each signer: the signed note, text + blank line + signature lines. */
export function signNote(text: string, signers: NoteSigner | readonly NoteSigner[]): string {
  checkNoteText("text", text);
  const list = Array.isArray(signers) ? (signers as readonly NoteSigner[]) : [signers as NoteSigner];
  if (list.length === 0) throw invalidArgument("signers", "must hold at least one signing key");
  const message = Buffer.from(text, "utf8");
  let note = `${text}\n`;
  for (const signer of list) {
    const id = Buffer.alloc(4);
    id.writeUInt32BE(signer.keyId, 0);
    note += `${EM_DASH} ${signer.name} ${Buffer.concat([id, signer.sign(message)]).toString("base64")}\n`;
  }
  return note;
}

function noteString(field: string, note: string | Uint8Array): string {
  if (typeof note === "string") return note;
  if (!(note instanceof Uint8Array)) throw invalidArgument(field, "must be text");
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(note);
  } catch {
    throw invalidArgument(field, "is not valid UTF-8");
  }
}

/**
 * Parses a signed note and verifies it against `verifiers`, naming `field` in every INVALID_ARGUMENT: malformed
 * (no blank line, no signature lines, a line that is not a signature, bytes after the last one, a control character,
 * more than {@link MAX_NOTE_SIGNATURES} signatures), a signature by a given key that does not verify, or no signature by
 * any given key. Signatures by other keys are ignored, as C2SP requires.
 */
export function openNoteAs(field: string, note: string | Uint8Array, verifiers: NoteVerifier | readonly NoteVerifier[]): OpenedNote {
  const list = Array.isArray(verifiers) ? (verifiers as readonly NoteVerifier[]) : [verifiers as NoteVerifier];
  if (list.length === 0) throw invalidArgument("verifier_key", "at least one verifier key is needed");
  const known = new Map<string, NoteVerifier>();
  for (const v of list) {
    const key = `${v.name}+${v.keyId}`;
    const other = known.get(key);
    if (other !== undefined && Buffer.compare(other.publicKey, v.publicKey) !== 0) {
      throw invalidArgument("verifier_key", `two different keys share the name and id ${v.name}+${hex8(v.keyId)}`);
    }
    known.set(key, v);
  }

  const whole = noteString(field, note);
  checkNoteCharacters(field, whole);
  const split = whole.lastIndexOf("\n\n");
  if (split < 0) throw invalidArgument(field, "has no blank line between its text and its signatures");
  const text = whole.slice(0, split + 1);
  const block = whole.slice(split + 2);
  if (block.length === 0) throw invalidArgument(field, "has no signature lines");
  if (!block.endsWith("\n")) throw invalidArgument(field, "does not end with a newline after its last signature line");
  const lines = block.slice(0, -1).split("\n");
  if (lines.length > MAX_NOTE_SIGNATURES) throw invalidArgument(field, `has more than ${MAX_NOTE_SIGNATURES} signatures`);

  const message = Buffer.from(text, "utf8");
  const signatures: NoteSignature[] = [];
  const unverified: NoteSignature[] = [];
  const seen = new Set<string>();
  lines.forEach((line, j) => {
    const match = SIGNATURE_LINE.exec(line);
    const bytes = match ? decodeBase64Strict(match[2]!) : undefined;
    if (!match || bytes === undefined || bytes.length < 5) {
      throw invalidArgument(field, `signature line ${j + 1} is not "${EM_DASH} <key name> <base64 key id and signature>"`);
    }
    const signature: NoteSignature = { name: match[1]!, keyId: bytes.readUInt32BE(0), base64: match[2]! };
    if (seen.has(line)) return;
    seen.add(line);
    const verifier = known.get(`${signature.name}+${signature.keyId}`);
    if (verifier === undefined) {
      unverified.push(signature);
      return;
    }
    if (!verifier.verify(message, bytes.subarray(4))) {
      throw invalidArgument(field, `the signature of key ${signature.name}+${hex8(signature.keyId)} does not verify`);
    }
    signatures.push(signature);
  });
  if (signatures.length === 0) {
    const names = [...known.values()].map((v) => `${v.name}+${hex8(v.keyId)}`).join(", ");
    throw invalidArgument(field, `is not signed by ${names}`);
  }
  return { text, signatures, unverified };
}

/** {@link openNoteAs} for a note given as `note`. */
export function openNote(note: string | Uint8Array, verifiers: NoteVerifier | readonly NoteVerifier[]): OpenedNote {
  return openNoteAs("note", note, verifiers);
}
