/**
 * `provenance c2pa sign|show`: Content Credentials for delivery. `sign` embeds a C2PA manifest made from a segment's
 * current receipt into a copy of the segment's file (only when the file is that receipt's output), signed with the
 * configured certificate or a local one; `show` reads a file's manifest back and says whether it validates.
 */
import { existsSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import {
  C2paError,
  ensureLocalSigner,
  readManifest,
  RECEIPT_ASSERTION_LABEL,
  signAsset,
  signingCredentialsFromPem,
  type ManifestReport,
  type ReceiptAssertion,
  type SigningCredentials,
} from "@provenance/c2pa";
import { ReceiptStatus } from "@provenance/shared";
import { requiredString, stringValue } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { CliError, ExitCode, usageError } from "../exit-codes.js";
import { dataDirectory } from "../data-dir.js";
import { enumLabel, formatNumber, shortHash } from "../output/format.js";
import { renderFields } from "../output/table.js";

/** Env var naming the PEM certificate chain to sign with. */
export const C2PA_CERT_ENV = "PROVENANCE_C2PA_CERT";
/** Env var naming its PEM private key. */
export const C2PA_KEY_ENV = "PROVENANCE_C2PA_KEY";

/** Where the local signing certificate lives: `$PROVENANCE_DATA_DIR/c2pa`, else `<repository>/.data/c2pa` (as `npm start`'s data). */
export function localSignerDirectory(env: Readonly<Record<string, string | undefined>>): string {
  return join(dataDirectory(env), "c2pa");
}

function readInput(path: string, what: string): Uint8Array {
  try {
    if (!statSync(path).isFile()) throw usageError(`${what} ${path} is not a file`);
    return new Uint8Array(readFileSync(path));
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw usageError(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function readText(path: string, what: string): string {
  return Buffer.from(readInput(path, what)).toString("utf8");
}

/** A C2paError as the CLI's error: not the receipt's output → failed precondition (5); bad input → usage (2). */
function cliErrorFromC2pa(err: unknown): unknown {
  if (!(err instanceof C2paError)) return err;
  switch (err.kind) {
    case "hash-mismatch":
    case "missing-output-hash":
      return new CliError(ExitCode.conflict, `failed precondition: ${err.message}`);
    case "invalid-credentials":
    case "unsupported-format":
      return usageError(err.message);
    case "no-manifest":
      return new CliError(ExitCode.notFound, `not found: ${err.message}`);
    default:
      return new CliError(ExitCode.failure, err.message);
  }
}

interface ChosenSigner {
  readonly credentials: SigningCredentials;
  /** The local CA when the local certificate signs (the result is checked against it). */
  readonly trustAnchorsPem?: string;
  readonly local: boolean;
  readonly certFile: string;
  readonly caFile?: string;
  readonly created: boolean;
}

async function chooseSigner(ctx: CommandContext, certFlag: string | undefined, keyFlag: string | undefined): Promise<ChosenSigner> {
  const certEnv = ctx.io.env[C2PA_CERT_ENV]?.trim() || undefined;
  const keyEnv = ctx.io.env[C2PA_KEY_ENV]?.trim() || undefined;
  const cert = certFlag ? { path: certFlag, from: "--cert" } : certEnv ? { path: certEnv, from: C2PA_CERT_ENV } : undefined;
  const key = keyFlag ? { path: keyFlag, from: "--key" } : keyEnv ? { path: keyEnv, from: C2PA_KEY_ENV } : undefined;
  if (cert && !key) throw usageError(`${cert.from} names a certificate but no key was given: add --key KEY.pem (or ${C2PA_KEY_ENV})`);
  if (key && !cert) throw usageError(`${key.from} names a key but no certificate was given: add --cert CERT.pem (or ${C2PA_CERT_ENV})`);
  if (cert && key) {
    const certPath = resolve(cert.path);
    const keyPath = resolve(key.path);
    const credentials = signingCredentialsFromPem(readText(certPath, `${cert.from}`), readText(keyPath, `${key.from}`), {
      cert: `${cert.from} ${cert.path}`,
      key: `${key.from} ${key.path}`,
    });
    return { credentials, local: false, certFile: certPath, created: false };
  }
  const signer = await ensureLocalSigner(localSignerDirectory(ctx.io.env));
  return {
    credentials: signer.credentials,
    trustAnchorsPem: signer.caPem,
    local: true,
    certFile: signer.certFile,
    caFile: signer.caFile,
    created: signer.created,
  };
}

function sameFile(a: string, b: string): boolean {
  if (resolve(a) === resolve(b)) return true;
  try {
    return existsSync(b) && realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

/** Writes `bytes` to `path` through a temporary file in the same folder, so a reader never sees half a file. */
function writeAtomically(path: string, bytes: Uint8Array): void {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(temporary, bytes);
    renameSync(temporary, path);
  } catch (err) {
    rmSync(temporary, { force: true });
    throw usageError(`cannot write -o ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function assetLine(a: { asset_id: string; version?: number; content_hash: string } | undefined): string {
  if (!a) return "—";
  return `${a.asset_id} ${a.version ? `v${a.version}` : "—"} ${shortHash(a.content_hash)}`;
}

/** The label/value lines of a `com.provenance.receipt` assertion. */
export function receiptAssertionFields(r: ReceiptAssertion): [string, string][] {
  return [
    ["receipt", r.receipt_id],
    ["segment", `${r.segment_id} (scene ${r.scene_id}, project ${r.project_id})`],
    ["inputs hash", r.inputs_hash],
    ["output hash", r.output_hash],
    ["model", assetLine(r.model)],
    ["loras", r.loras.length ? r.loras.map((l, i) => `${i + 1}. ${assetLine(l)} weight ${formatNumber(l.weight)}`).join("\n") : "—"],
    ["workflow", `${assetLine(r.workflow)}${r.workflow?.workflow_version ? ` (${r.workflow.workflow_version})` : ""}`],
    ["source image", assetLine(r.source_image)],
    ["variant image", assetLine(r.variant_image)],
    ["seed", r.seed],
  ];
}

function manifestFields(m: ManifestReport): [string, string][] {
  const actions = m.actions.map((a) => `${a.action}${a.digitalSourceType ? ` (${a.digitalSourceType.split("/").pop()})` : ""}`);
  const ingredients = m.ingredients.map((i) => {
    const hash = typeof i.asset?.content_hash === "string" ? ` sha256 ${shortHash(i.asset.content_hash)}` : "";
    return `${i.title ?? "(untitled)"} [${i.relationship ?? "?"}]${hash}`;
  });
  const signer = [m.signature.commonName, m.signature.issuer && m.signature.issuer !== m.signature.commonName ? `issued by ${m.signature.issuer}` : undefined]
    .filter(Boolean)
    .join(", ");
  return [
    ["manifest", m.label],
    ["actions", actions.join("\n") || "—"],
    ["ingredients", ingredients.join("\n") || "—"],
    ["signed by", `${signer || "—"}${m.signature.alg ? ` (${m.signature.alg.toLowerCase()})` : ""}`],
  ];
}

function validationLine(m: ManifestReport): string {
  const failures = m.validation.failures.map((f) => f.code);
  return `${m.validation.state}${failures.length ? ` (${failures.join(", ")})` : ""}`;
}

/** `c2pa sign --segment S FILE -o OUT`. */
export const c2paSign: Command = {
  path: ["c2pa", "sign"],
  positionals: ["file"],
  summary: "embed a signed C2PA manifest from a segment's current receipt into a copy of its file (which must be the receipt's output)",
  options: {
    segment: { type: "string", value: "SEGMENT-ID", required: true, description: "the segment whose current receipt <file> is the output of" },
    output: { type: "string", short: "o", value: "OUT", required: true, description: "where to write the signed copy (never <file> itself)" },
    cert: { type: "string", value: "CERT.pem", description: `signing certificate chain, PEM, signing certificate first (env ${C2PA_CERT_ENV}; default: a local one)` },
    key: { type: "string", value: "KEY.pem", description: `its private key, PEM (env ${C2PA_KEY_ENV})` },
  },
  async run(ctx, args) {
    const segmentId = requiredString(args, "segment");
    const file = resolve(args.positionals[0]!);
    const out = resolve(requiredString(args, "output"));
    if (sameFile(file, out)) throw usageError(`-o ${out} is <file> itself: the signed copy is written elsewhere, <file> is never changed`);
    if (!existsSync(dirname(out))) throw usageError(`-o ${out}: folder ${dirname(out)} does not exist`);
    const bytes = readInput(file, "<file>");
    try {
      const signer = await chooseSigner(ctx, stringValue(args, "cert"), stringValue(args, "key"));
      const res = await ctx.clients.receipts.call((c, o) => c.getSegmentProvenance({ segmentId }, o));
      const receipt = res.currentReceipt;
      if (!receipt) {
        const latest = res.history[0];
        throw new CliError(
          ExitCode.conflict,
          `failed precondition: segment ${segmentId} has no successful receipt${latest ? ` (its latest is ${enumLabel(ReceiptStatus, latest.status)})` : ""}, so there is nothing to sign ${file} with`,
        );
      }
      const signed = await signAsset({
        bytes,
        receipt,
        credentials: signer.credentials,
        title: basename(out),
        what: file,
        ...(signer.trustAnchorsPem ? { trustAnchorsPem: signer.trustAnchorsPem } : {}),
      });
      writeAtomically(out, signed.bytes);
      const certificate = signer.local
        ? `local, untrusted: ${signer.certFile} (CA ${signer.caFile}${signer.created ? ", made now" : ""}); configure --cert/--key or ${C2PA_CERT_ENV}/${C2PA_KEY_ENV} for delivery`
        : signer.certFile;
      if (ctx.json) {
        ctx.io.stdout.write(
          `${JSON.stringify(
            {
              file,
              output: out,
              format: signed.format,
              segmentId,
              receiptId: receipt.receiptId,
              inputSha256: signed.inputSha256,
              outputSha256: signed.outputSha256,
              manifest: signed.manifest.label,
              assertions: signed.definition.assertions.map((a) => a.label),
              ingredients: signed.definition.ingredients.map((i) => i.instance_id),
              certificate: { file: signer.certFile, local: signer.local, ...(signer.local ? { caFile: signer.caFile, note: certificate } : {}) },
              validation: signed.manifest.validation.state,
            },
            null,
            2,
          )}\n`,
        );
        return;
      }
      ctx.io.stdout.write(
        renderFields([
          ["signed", `${file} -> ${out} (${signed.format})`],
          ["receipt", `${receipt.receiptId} (segment ${segmentId})`],
          ["file sha256", `${signed.inputSha256} (the receipt's output hash)`],
          ["signed sha256", signed.outputSha256],
          ...manifestFields(signed.manifest),
          ["assertion", `${RECEIPT_ASSERTION_LABEL}: inputs hash ${shortHash(receipt.inputsHash)}, seed ${receipt.seed}`],
          ["certificate", certificate],
          ["validation", `${validationLine(signed.manifest)}${signer.local ? " against the local CA" : ""}`],
        ]),
      );
    } catch (err) {
      throw cliErrorFromC2pa(err);
    }
  },
};

/** `c2pa show FILE`. */
export const c2paShow: Command = {
  path: ["c2pa", "show"],
  positionals: ["file"],
  summary: "read a file's C2PA manifest back: its receipt assertion, actions, ingredients, signer and validation state",
  options: {
    trust: {
      type: "string",
      value: "CA.pem",
      description: "trust anchors (PEM) to validate the signer against (default: the local CA, when there is one)",
    },
  },
  async run(ctx, args) {
    const file = resolve(args.positionals[0]!);
    const bytes = readInput(file, "<file>");
    const trustFlag = stringValue(args, "trust");
    const localCa = join(localSignerDirectory(ctx.io.env), "ca.pem");
    const anchorsFile = trustFlag ? resolve(trustFlag) : existsSync(localCa) ? localCa : undefined;
    const trustAnchorsPem = anchorsFile ? readText(anchorsFile, trustFlag ? "--trust" : "the local CA") : undefined;
    let m: ManifestReport;
    try {
      m = await readManifest(bytes, { what: file, ...(trustAnchorsPem ? { trustAnchorsPem } : {}) });
    } catch (err) {
      throw cliErrorFromC2pa(err);
    }
    if (ctx.json) {
      ctx.io.stdout.write(`${JSON.stringify({ file, trustAnchors: anchorsFile ?? null, ...m }, null, 2)}\n`);
    } else {
      const fields: [string, string][] = [
        ["file", `${file} (${m.format})`],
        ...manifestFields(m),
        ["validation", validationLine(m)],
        ["trust anchors", anchorsFile ? `${anchorsFile}${trustFlag ? "" : " (the local CA: trusted on this machine only)"}` : "none (the signer is not checked against a trust list)"],
      ];
      if (m.receipt) fields.push(...receiptAssertionFields(m.receipt));
      else fields.push([RECEIPT_ASSERTION_LABEL, m.receiptProblem ? `unreadable: ${m.receiptProblem}` : "absent"]);
      ctx.io.stdout.write(renderFields(fields));
    }
    if (m.validation.state === "Invalid") {
      ctx.io.stderr.write(`provenance: the C2PA manifest of ${file} does not validate: ${m.validation.failures.map((f) => f.code).join(", ") || "no status given"}\n`);
      return ExitCode.failure;
    }
  },
};
