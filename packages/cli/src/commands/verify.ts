/**
 * `provenance verify` (receipts against the receipt log, online or offline against a checkpoint file) and
 * `provenance log checkpoint` (save the log's checkpoint and key for later).
 */
import { readFile, writeFile } from "node:fs/promises";
import { create, fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import { GetCheckpointResponseSchema, GetReceiptProofResponseSchema, ReceiptSchema } from "@provenance/shared";
import { hashToHex, openCheckpoint, parseVerifierKey, sameHash, verifyReceiptInLog } from "@provenance/shared/receipt-log";
import { flag, stringValue, stringValues } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { ExitCode, usageError } from "../exit-codes.js";
import { formatCheckpointFile, readCheckpointFile, writeCheckpointFile, type CheckpointFile } from "../receipt-log/checkpoint-file.js";
import { formatReport, verifyReceiptLog, VerificationFailed, type VerifyReport, type VerifyTarget } from "../receipt-log/log-verifier.js";

function writeJsonValue(ctx: CommandContext, value: unknown): void {
  ctx.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** The trusted key of `--key`, checked. */
function keyOption(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  try {
    return parseVerifierKey(raw).verifierKey;
  } catch (err) {
    throw usageError(`--key must be a verifier key <name>+<8 hex id>+<base64 key>: ${(err as Error).message}`);
  }
}

/** A proof file (`--save-proof`, `--offline --proof`): a receipt as served and its GetReceiptProof answer, as proto JSON. */
interface ProofFile {
  receipt: JsonValue;
  proof: JsonValue;
}

async function saveProof(ctx: CommandContext, path: string, receiptId: string, treeSize: number): Promise<void> {
  const { receipt } = await ctx.clients.receipts.call((c, o) => c.getReceipt({ receiptId }, o));
  const proof = await ctx.clients.receipts.call((c, o) => c.getReceiptProof({ receiptId, treeSize: BigInt(treeSize) }, o));
  const file: ProofFile = {
    receipt: toJson(ReceiptSchema, receipt!, { alwaysEmitImplicit: true }),
    proof: toJson(GetReceiptProofResponseSchema, proof, { alwaysEmitImplicit: true }),
  };
  try {
    await writeFile(path, `${JSON.stringify(file, null, 2)}\n`);
  } catch (err) {
    throw usageError(`--save-proof ${path} cannot be written: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** `verify --offline --proof FILE --checkpoint FILE`: the receipt and proof in FILE against the saved checkpoint, no service. */
async function verifyOffline(ctx: CommandContext, proofPath: string, pinned: CheckpointFile & { path: string }, key: string | undefined): Promise<number> {
  const keyText = key ?? pinned.verifierKey;
  if (!keyText) throw usageError(`--checkpoint ${pinned.path} holds no verifier key: add --key VKEY`);
  const verifier = parseVerifierKey(keyText);
  let text: string;
  try {
    text = await readFile(proofPath, "utf8");
  } catch (err) {
    throw usageError(`--proof ${proofPath} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let receipt, proof;
  try {
    const file = JSON.parse(text) as ProofFile;
    receipt = fromJson(ReceiptSchema, file.receipt);
    proof = fromJson(GetReceiptProofResponseSchema, file.proof);
  } catch (err) {
    throw usageError(`--proof ${proofPath} is not a proof file of \`provenance verify --save-proof\`: ${(err as Error).message.split("\n")[0]}`);
  }
  const problems: string[] = [];
  let saved, served;
  try {
    saved = openCheckpoint(pinned.note, verifier).checkpoint;
  } catch (err) {
    problems.push(`the checkpoint in ${pinned.path} is not valid for that key: ${(err as Error).message}`);
  }
  try {
    served = openCheckpoint(proof.checkpoint, verifier).checkpoint;
  } catch (err) {
    problems.push(`the checkpoint in ${proofPath} is not valid for that key: ${(err as Error).message}`);
  }
  if (saved && served && (saved.origin !== served.origin || saved.size !== served.size || !sameHash(saved.rootHash, served.rootHash))) {
    problems.push(
      `the proof leads to checkpoint ${served.size} of ${served.origin}, not to the one in ${pinned.path} (${saved.size} of ${saved.origin}): ` +
        `save the proof with --checkpoint ${pinned.path} so both are of one size`,
    );
  }
  const result = saved && problems.length === 0 ? verifyReceiptInLog({ receipt, entries: proof.entries, checkpoint: saved }) : undefined;
  const reasons = [...problems, ...(result?.findings.map((f) => f.reason) ?? [])];
  const holds = reasons.length === 0;
  if (ctx.json) {
    writeJsonValue(ctx, {
      offline: true,
      receiptId: receipt.receiptId,
      checkpoint: saved ? { origin: saved.origin, size: saved.size, rootHash: hashToHex(saved.rootHash) } : null,
      holds,
      reasons,
      leafIndexes: result?.leafIndexes ?? {},
    });
  } else {
    if (!holds) ctx.io.stdout.write(`receipt ${receipt.receiptId} (segment ${receipt.segmentId || "—"}) does not hold: ${reasons.join("; ")}\n`);
    ctx.io.stdout.write(
      `${holds ? 1 : 0} of 1 receipts hold — offline, against checkpoint ${saved?.size ?? "?"} of ${saved?.origin ?? "?"} in ${pinned.path}\n`,
    );
  }
  return holds ? ExitCode.ok : ExitCode.verificationFailed;
}

/** `verify [--project P | --receipt ID…] (neither: every project the caller may view) [--checkpoint FILE] [--key VKEY] [--save-checkpoint FILE] [--save-proof FILE] [--offline --proof FILE]`. */
export const verify: Command = {
  path: ["verify"],
  positionals: [],
  summary: "check receipts against the receipt log: inputs hash and leaves rebuilt, inclusion proofs, signed checkpoint (exit 9 if any does not hold)",
  options: {
    project: {
      type: "string",
      value: "P",
      description: "every receipt of project P (all segments, superseded ones too, every receipt of each); without it or --receipt, of every project you may view",
    },
    receipt: { type: "string", value: "ID", multiple: true, description: "this receipt (repeatable)" },
    checkpoint: {
      type: "string",
      value: "FILE",
      description: "a checkpoint saved earlier (provenance log checkpoint -o FILE): the log must be consistent with it and signed by its key",
    },
    key: { type: "string", value: "VKEY", description: "trust this verifier key (else the checkpoint file's, else the one the service serves)" },
    "save-checkpoint": { type: "string", value: "FILE", description: "when the log holds, save the checkpoint verified against (for a later --checkpoint)" },
    "save-proof": { type: "string", value: "FILE", description: "with one --receipt: save it and its proof (at the --checkpoint's size, else the latest) for --offline" },
    offline: { type: "boolean", description: "verify a --proof FILE against --checkpoint FILE without asking any service" },
    proof: { type: "string", value: "FILE", description: "with --offline: a proof file saved by --save-proof" },
  },
  async run(ctx, args) {
    const project = stringValue(args, "project");
    const receiptIds = stringValues(args, "receipt");
    const checkpointPath = stringValue(args, "checkpoint");
    const key = keyOption(stringValue(args, "key"));
    const pinned = checkpointPath === undefined ? undefined : { ...(await readCheckpointFile(checkpointPath)), path: checkpointPath };

    if (flag(args, "offline")) {
      const proofPath = stringValue(args, "proof");
      if (proofPath === undefined || pinned === undefined) throw usageError("--offline needs --proof FILE and --checkpoint FILE");
      if (project !== undefined || receiptIds.length > 0) throw usageError("--offline verifies the receipt in --proof FILE: drop --project / --receipt");
      return verifyOffline(ctx, proofPath, pinned, key);
    }
    if (stringValue(args, "proof") !== undefined) throw usageError("--proof FILE is for --offline");
    if (project !== undefined && receiptIds.length > 0) throw usageError("give --project P or --receipt ID, not both (see `provenance verify --help`)");
    const saveProofPath = stringValue(args, "save-proof");
    if (saveProofPath !== undefined && receiptIds.length !== 1) throw usageError("--save-proof FILE needs exactly one --receipt ID");
    const target: VerifyTarget = project !== undefined ? { project } : receiptIds.length > 0 ? { receiptIds } : { allProjects: true };

    const report: VerifyReport = await verifyReceiptLog(ctx, { target, pinned, key });
    if (ctx.json) writeJsonValue(ctx, report);
    else ctx.io.stdout.write(formatReport(report));
    if (report.checkpoint && report.problems.length === 0) {
      const saveCheckpoint = stringValue(args, "save-checkpoint");
      if (saveCheckpoint !== undefined) await writeCheckpointFile(saveCheckpoint, report.checkpoint.note, report.verifierKey, "--save-checkpoint");
      if (saveProofPath !== undefined && report.holds) await saveProof(ctx, saveProofPath, receiptIds[0]!, pinned ? (report.pinned?.size ?? 0) : report.checkpoint.size);
    }
    return report.holds ? ExitCode.ok : ExitCode.verificationFailed;
  },
};

/** `log checkpoint [-o FILE]`. */
export const logCheckpoint: Command = {
  path: ["log", "checkpoint"],
  positionals: [],
  summary: "the receipt log's latest signed checkpoint and its verifier key, to keep for a later `verify --checkpoint FILE`",
  options: {
    output: { type: "string", short: "o", value: "FILE", description: "write it to FILE (else to stdout)" },
  },
  async run(ctx, args) {
    const res = await ctx.clients.receipts.call((c, o) => c.getCheckpoint({}, o));
    let opened;
    try {
      opened = openCheckpoint(res.checkpoint, parseVerifierKey(res.verifierKey)).checkpoint;
    } catch (err) {
      throw new VerificationFailed(`the service's checkpoint does not verify with the key it serves: ${(err as Error).message}`);
    }
    const output = stringValue(args, "output");
    if (output === undefined) {
      ctx.io.stdout.write(formatCheckpointFile(create(GetCheckpointResponseSchema, res)));
      return;
    }
    await writeCheckpointFile(output, res.checkpoint, res.verifierKey, "--output");
    if (ctx.json) return writeJsonValue(ctx, { file: output, origin: opened.origin, size: opened.size, rootHash: hashToHex(opened.rootHash), verifierKey: res.verifierKey });
    ctx.io.stdout.write(`saved checkpoint ${opened.size} of ${opened.origin} (key ${res.verifierKey.split("+").slice(0, 2).join("+")}) to ${output}\n`);
  },
};
