/**
 * `POST /c2pa/sign?segment=<id>`: Content Credentials on the receipt panel. The body is the segment's file (a
 * supported media type, at most `maxBytes`, streamed to a temporary file); the segment's current receipt is fetched
 * as the signed-in user, the file is refused unless its SHA-256 is that receipt's `output_hash`, and a copy is signed
 * with @provenance/c2pa — with the configured certificate (CONSOLE_C2PA_CERT/CONSOLE_C2PA_KEY), else the local one
 * under the data dir as the CLI makes it (untrusted, said in the answer). The answer is the signed copy as a download,
 * with what its manifest says when read back in the `x-provenance-c2pa` header (base64url JSON, see {@link C2paSummary}).
 */
import { createWriteStream, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { JsonValue } from "@bufbuild/protobuf";
import type { Receipt } from "@provenance/shared";
import { sendConnectError } from "./http-replies.js";

/** Default largest file signed (CONSOLE_C2PA_MAX_BYTES). */
export const DEFAULT_C2PA_MAX_BYTES = 256 * 1024 * 1024;

/** The header carrying the manifest read back. */
export const C2PA_SUMMARY_HEADER = "x-provenance-c2pa";

/** How the console signs. */
export type ConsoleC2paSigner =
  /** A configured certificate chain and key (PEM texts), named in the answer by `name`. */
  | { mode: "configured"; certPem: string; keyPem: string; name: string }
  /** The local certificate in `directory` (made on first use), as `provenance c2pa sign` uses it. */
  | { mode: "local"; directory: string };

/** Options of the route. */
export interface ConsoleC2paOptions {
  signer: ConsoleC2paSigner;
  /** Largest body read (default {@link DEFAULT_C2PA_MAX_BYTES}). */
  maxBytes?: number;
}

/**
 * How Content Credentials are signed, from env: CONSOLE_C2PA_CERT and CONSOLE_C2PA_KEY (PEM files: the certificate
 * chain, signing certificate first, and its key), else the local, untrusted certificate under `<dataDir>/c2pa` as
 * `provenance c2pa sign` makes it; CONSOLE_C2PA_MAX_BYTES, the largest file signed. Throws naming the variable.
 */
export function c2paOptionsFromEnv(env: Readonly<Record<string, string | undefined>>, dataDir: string): ConsoleC2paOptions {
  const cert = env.CONSOLE_C2PA_CERT?.trim() || undefined;
  const key = env.CONSOLE_C2PA_KEY?.trim() || undefined;
  if ((cert === undefined) !== (key === undefined)) {
    const [set, unset] = cert ? ["CONSOLE_C2PA_CERT", "CONSOLE_C2PA_KEY"] : ["CONSOLE_C2PA_KEY", "CONSOLE_C2PA_CERT"];
    throw new Error(`${set} is set but ${unset} is not: set both, or neither for the local certificate`);
  }
  const rawMax = env.CONSOLE_C2PA_MAX_BYTES?.trim();
  const maxBytes = rawMax ? Number(rawMax) : DEFAULT_C2PA_MAX_BYTES;
  if (!/^\d+$/.test(rawMax ?? "0") || !Number.isSafeInteger(maxBytes) || maxBytes < 1) {
    throw new Error(`CONSOLE_C2PA_MAX_BYTES must be a positive number of bytes, got "${rawMax}"`);
  }
  const read = (name: string, path: string) => {
    try {
      return readFileSync(path, "utf8");
    } catch (err) {
      throw new Error(`${name}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  };
  if (cert !== undefined && key !== undefined) {
    return { maxBytes, signer: { mode: "configured", certPem: read("CONSOLE_C2PA_CERT", cert), keyPem: read("CONSOLE_C2PA_KEY", key), name: cert } };
  }
  return { maxBytes, signer: { mode: "local", directory: join(dataDir, "c2pa") } };
}

/** What the panel shows: the manifest of the signed copy as read back, and which certificate signed. */
export interface C2paSummary {
  receiptId: string;
  segmentId: string;
  format: string;
  fileName: string;
  inputSha256: string;
  outputSha256: string;
  manifest: string;
  actions: { action: string; digitalSourceType?: string }[];
  ingredients: { title?: string; relationship?: string; contentHash?: string }[];
  receipt?: { receipt_id: string; inputs_hash: string; output_hash: string; model?: string; loras: string[]; seed: string };
  signedBy: { commonName?: string; issuer?: string; alg?: string };
  validation: { state: string; failures: string[] };
  certificate: { local: boolean; note: string };
}

class ServiceAnswer extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const FILE_NAME = /^[A-Za-z0-9._ -]{1,200}$/;
const EXTENSION: Record<string, string> = { "image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "video/mp4": "mp4", "video/quicktime": "mov" };

/**
 * The part of @provenance/c2pa used here, typed locally: its sources need Node's WebCrypto types, which clash with
 * the DOM's in the browser tsconfig that also type-checks this server through test/serve.test.ts.
 */
interface C2pa {
  SUPPORTED_FORMATS: readonly string[];
  C2paError: new (...args: never[]) => Error & { kind: string };
  detectFormat(bytes: Uint8Array, what?: string): string;
  signingCredentialsFromPem(certPem: string, keyPem: string, names?: { cert: string; key: string }): SigningCredentials;
  ensureLocalSigner(directory: string): Promise<{ credentials: SigningCredentials; caPem: string; caFile: string; certFile: string }>;
  signAsset(input: {
    bytes: Uint8Array;
    receipt: Receipt;
    credentials: SigningCredentials;
    title: string;
    what?: string;
    format?: string;
    trustAnchorsPem?: string;
  }): Promise<{ bytes: Uint8Array; format: string; inputSha256: string; outputSha256: string; manifest: ManifestReport }>;
}
/** Opaque here: made and used by the library. */
type SigningCredentials = { readonly __brand?: "SigningCredentials" } & object;
type AssertedRef = { asset_id: string; version?: number; content_hash: string };
interface ManifestReport {
  label: string;
  actions: readonly { action: string; digitalSourceType?: string }[];
  ingredients: readonly { title?: string; relationship?: string; asset?: Record<string, unknown> }[];
  receipt?: { receipt_id: string; inputs_hash: string; output_hash: string; model?: AssertedRef; loras: readonly (AssertedRef & { weight: number })[]; seed: string };
  signature: { commonName?: string; issuer?: string; alg?: string };
  validation: { state: string; failures: readonly { code: string }[] };
}

/** Not a literal, so that the browser tsconfig does not type-check the library's sources (see {@link C2pa}). */
const C2PA_PACKAGE: string = "@provenance/c2pa";

/** Signs for the console; one per server, so the local certificate is opened once. */
export class ConsoleC2pa {
  private lib: Promise<C2pa> | undefined;
  private signer: Promise<{ credentials: SigningCredentials; trustAnchorsPem?: string; local: boolean; note: string }> | undefined;
  private readonly maxBytes: number;

  constructor(
    private readonly receiptsUrl: string,
    private readonly options: ConsoleC2paOptions,
  ) {
    this.maxBytes = options.maxBytes ?? DEFAULT_C2PA_MAX_BYTES;
  }

  private load(): Promise<C2pa> {
    // Loaded on first use: the console's other routes need none of it (and it brings a WebAssembly c2pa-rs).
    this.lib ??= import(C2PA_PACKAGE) as Promise<C2pa>;
    return this.lib;
  }

  private chosenSigner() {
    this.signer ??= (async () => {
      const lib = await this.load();
      const s = this.options.signer;
      if (s.mode === "configured") {
        return { credentials: lib.signingCredentialsFromPem(s.certPem, s.keyPem, { cert: "CONSOLE_C2PA_CERT", key: "CONSOLE_C2PA_KEY" }), local: false, note: s.name };
      }
      const local = await lib.ensureLocalSigner(s.directory);
      return {
        credentials: local.credentials,
        trustAnchorsPem: local.caPem,
        local: true,
        note: `the local, untrusted certificate ${local.certFile} (CA ${local.caFile}): for delivery set CONSOLE_C2PA_CERT and CONSOLE_C2PA_KEY`,
      };
    })();
    // A failure (bad PEM) is reported each time, not kept.
    this.signer.catch(() => (this.signer = undefined));
    return this.signer;
  }

  private async currentReceipt(segmentId: string, token: string): Promise<JsonValue> {
    const res = await fetch(`${this.receiptsUrl.replace(/\/+$/, "")}/provenance.v1.ReceiptService/GetSegmentProvenance`, {
      method: "POST",
      headers: { "content-type": "application/json", "connect-protocol-version": "1", authorization: `Bearer ${token}` },
      body: JSON.stringify({ segmentId }),
      signal: AbortSignal.timeout(10_000),
    });
    const json = (await res.json().catch(() => ({}))) as Record<string, JsonValue>;
    if (!res.ok) throw new ServiceAnswer(res.status, String(json.code ?? "unavailable"), `the receipts service: ${String(json.message ?? res.statusText)}`);
    const current = json.currentReceipt;
    if (current === undefined || current === null) {
      const history = Array.isArray(json.history) ? (json.history as Record<string, JsonValue>[]) : [];
      const latest = history[0]?.status;
      throw new ServiceAnswer(
        409,
        "failed_precondition",
        `segment ${segmentId} has no successful receipt${latest ? ` (its latest is ${String(latest).replace(/^RECEIPT_STATUS_/, "")})` : ""}, so there is nothing to sign the file with`,
      );
    }
    return current;
  }

  /** Streams the body to a temporary file of at most `maxBytes`, and reads it back. */
  private async readBody(req: IncomingMessage): Promise<Uint8Array> {
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > this.maxBytes) throw new ServiceAnswer(413, "invalid_argument", `file: is ${declared} bytes; at most ${this.maxBytes} are signed here`);
    const dir = await mkdtemp(join(tmpdir(), "console-c2pa-"));
    try {
      let size = 0;
      const limit = this.maxBytes;
      const bound = new Transform({
        transform(chunk: Buffer, _enc, done) {
          size += chunk.length;
          if (size > limit) done(new ServiceAnswer(413, "invalid_argument", `file: is over ${limit} bytes, the most signed here`));
          else done(null, chunk);
        },
      });
      const path = join(dir, "upload");
      await pipeline(req, bound, createWriteStream(path, { mode: 0o600 }));
      if (size === 0) throw new ServiceAnswer(400, "invalid_argument", "file: is empty");
      return new Uint8Array(await readFile(path));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Handles one request from a signed-in user with `token`. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL, token: string): Promise<void> {
    try {
      const lib = await this.load();
      const segmentId = url.searchParams.get("segment")?.trim() ?? "";
      if (segmentId === "") throw new ServiceAnswer(400, "invalid_argument", "segment: is required (?segment=<segment id>)");
      const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
      if (!lib.SUPPORTED_FORMATS.includes(type)) {
        throw new ServiceAnswer(415, "invalid_argument", `file: content type "${type}" is not signed here; one of ${lib.SUPPORTED_FORMATS.join(", ")}`);
      }
      const rawName = url.searchParams.get("name")?.trim() ?? "";
      const fileName = FILE_NAME.test(rawName) && !rawName.startsWith(".") ? rawName : `${segmentId.replace(/[^A-Za-z0-9._-]/g, "_")}.${EXTENSION[type] ?? "bin"}`;
      const bytes = await this.readBody(req);
      // The bytes must be what they claim to be (c2pa-rs embeds by format).
      let sniffed: string;
      try {
        sniffed = lib.detectFormat(bytes, "the file");
      } catch (err) {
        throw new ServiceAnswer(415, "invalid_argument", `file: ${(err as Error).message}`);
      }
      if (sniffed !== type) throw new ServiceAnswer(415, "invalid_argument", `file: is ${sniffed}, not ${type} as sent`);
      const { fromJson } = await import("@bufbuild/protobuf");
      const { ReceiptSchema } = await import("@provenance/shared");
      const receipt = fromJson(ReceiptSchema, await this.currentReceipt(segmentId, token), { ignoreUnknownFields: true });
      const signer = await this.chosenSigner();
      const signed = await lib.signAsset({
        bytes,
        receipt,
        credentials: signer.credentials,
        title: fileName,
        what: fileName,
        format: type,
        ...(signer.trustAnchorsPem ? { trustAnchorsPem: signer.trustAnchorsPem } : {}),
      });
      const m = signed.manifest;
      const r = m.receipt;
      const summary: C2paSummary = {
        receiptId: receipt.receiptId,
        segmentId,
        format: signed.format,
        fileName,
        inputSha256: signed.inputSha256,
        outputSha256: signed.outputSha256,
        manifest: m.label,
        actions: m.actions.map((a) => ({ action: a.action, ...(a.digitalSourceType ? { digitalSourceType: a.digitalSourceType } : {}) })),
        ingredients: m.ingredients.map((i) => ({
          title: i.title,
          relationship: i.relationship,
          contentHash: typeof i.asset?.content_hash === "string" ? i.asset.content_hash : undefined,
        })),
        receipt: r
          ? {
              receipt_id: r.receipt_id,
              inputs_hash: r.inputs_hash,
              output_hash: r.output_hash,
              model: r.model ? `${r.model.asset_id}${r.model.version ? ` v${r.model.version}` : ""}` : undefined,
              loras: r.loras.map((l) => `${l.asset_id}${l.version ? ` v${l.version}` : ""} × ${l.weight}`),
              seed: r.seed,
            }
          : undefined,
        signedBy: { commonName: m.signature.commonName, issuer: m.signature.issuer, alg: m.signature.alg },
        validation: { state: m.validation.state, failures: m.validation.failures.map((f) => f.code) },
        certificate: { local: signer.local, note: signer.note },
      };
      const signedName = fileName.replace(/(\.[A-Za-z0-9]+)?$/, (ext) => `.c2pa${ext}`);
      res.writeHead(200, {
        "content-type": signed.format,
        "content-length": signed.bytes.byteLength,
        "content-disposition": `attachment; filename="${signedName}"`,
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
        [C2PA_SUMMARY_HEADER]: Buffer.from(JSON.stringify(summary)).toString("base64url"),
      });
      res.end(signed.bytes);
    } catch (err) {
      // An unread body is left: the connection closes with the answer.
      const close = { connection: "close" };
      if (err instanceof ServiceAnswer) return sendConnectError(res, err.status, err.code, err.message, close);
      const lib = await this.load();
      if (err instanceof lib.C2paError) {
        const status = err.kind === "hash-mismatch" || err.kind === "missing-output-hash" ? 409 : err.kind === "unsupported-format" ? 415 : 500;
        const code = status === 409 ? "failed_precondition" : status === 415 ? "invalid_argument" : "internal";
        return sendConnectError(res, status, code, status === 409 ? `${err.message}: nothing was signed` : err.message, close);
      }
      throw err;
    }
  }
}
