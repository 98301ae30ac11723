/** ReceiptService: validated requests in (see rpc/receipt-rules.ts), domain and repository, messages out. */
import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  AssetUsageSchema,
  CompleteReceiptResponseSchema,
  CompleteReceiptsResponseSchema,
  CreateReceiptResponseSchema,
  CreateReceiptsResponseSchema,
  FindReceiptsByInputsHashResponseSchema,
  GetAssetUsageResponseSchema,
  GetReceiptResponseSchema,
  GetSegmentProvenanceResponseSchema,
  ReceiptStatus,
  decodePageToken,
  decodeSeqToken,
  encodePageToken,
  invalidArgument,
  notFound,
  pageSizeOf,
  requestIdKey,
  type CompleteReceiptRequest,
  type CompleteReceiptsRequest,
  type CreateReceiptRequest,
  type CreateReceiptsRequest,
  type FindReceiptsByInputsHashRequest,
  type GetAssetUsageRequest,
  type GetReceiptRequest,
  type GetSegmentProvenanceRequest,
  type ReceiptService,
  withFieldPrefix,
} from "@provenance/shared";
import { draftReceipt, generationDurationMs, type InputRoleName } from "../domain/new-receipt.js";
import { inputRoleOf, receiptStatusOf, toReceiptMessage, toSegmentMessage } from "../domain/receipt-record.js";
import type { Completion, ReceiptRepository, UsageCursor } from "../persistence/receipt-repository.js";
import type { AssetVersionLookup } from "./asset-versions.js";

const ROLES: readonly InputRoleName[] = ["source_image", "variant_image", "workflow", "model", "lora"];

/** The field prefix naming entry `i` of a batch request. */
function entry(i: number): string {
  return `receipts[${i}].`;
}

/** A batch names each key once: a repeat is bad input naming the later entry. */
function distinct(values: string[], field: string): void {
  const first = new Map<string, number>();
  values.forEach((v, i) => {
    const earlier = first.get(v);
    if (earlier !== undefined) throw invalidArgument(`${entry(i)}${field}`, `repeats receipts[${earlier}].${field}; send each once`);
    first.set(v, i);
  });
}

/** What a validated CompleteReceipt request sets. */
function completionOf(req: CompleteReceiptRequest): Completion {
  const completedAt = timestampDate(req.generationCompletedAt!);
  return {
    receiptId: req.receiptId,
    status: req.status === ReceiptStatus.SUCCEEDED ? "SUCCEEDED" : "FAILED",
    completedAt,
    outputHash: req.outputHash === "" ? null : req.outputHash.toLowerCase(),
    durationOf: (startedAt) => generationDurationMs(startedAt, completedAt),
  };
}

function usageCursorOf(token: string): UsageCursor | undefined {
  const pos = decodePageToken(token);
  if (pos === undefined) return undefined;
  const [seq, role, position] = pos.split(":");
  if (!seq || !/^\d{1,19}$/.test(seq) || !ROLES.includes(role as InputRoleName) || !/^\d{1,4}$/.test(position ?? "")) {
    throw invalidArgument("page_token", "is not a token this service returned; send next_page_token as given");
  }
  return { receiptSeq: BigInt(seq), role: role as InputRoleName, position: Number(position) };
}

/** The ReceiptService implementation. */
export class ReceiptHandlers implements ServiceImpl<typeof ReceiptService> {
  constructor(
    private readonly receipts: ReceiptRepository,
    private readonly assetVersions: AssetVersionLookup,
  ) {}

  async createReceipt(req: CreateReceiptRequest, ctx: HandlerContext) {
    const draft = draftReceipt(req);
    const { receipt, created } = await this.receipts.create(draft, ctx.values.get(requestIdKey));
    return create(CreateReceiptResponseSchema, { receipt: toReceiptMessage(receipt), created });
  }

  async completeReceipt(req: CompleteReceiptRequest, ctx: HandlerContext) {
    const receipt = await this.receipts.complete(completionOf(req), ctx.values.get(requestIdKey));
    return create(CompleteReceiptResponseSchema, { receipt: toReceiptMessage(receipt) });
  }

  async createReceipts(req: CreateReceiptsRequest, ctx: HandlerContext) {
    distinct(req.receipts.map((r) => r.idempotencyKey), "idempotency_key");
    const drafts = req.receipts.map((r, i) => withFieldPrefix(entry(i), () => draftReceipt(r)));
    const results = await this.receipts.createMany(drafts, ctx.values.get(requestIdKey), entry);
    return create(CreateReceiptsResponseSchema, {
      results: results.map(({ receipt, created }) => ({ receipt: toReceiptMessage(receipt), created })),
    });
  }

  async completeReceipts(req: CompleteReceiptsRequest, ctx: HandlerContext) {
    distinct(req.receipts.map((r) => r.receiptId), "receipt_id");
    const receipts = await this.receipts.completeMany(req.receipts.map(completionOf), ctx.values.get(requestIdKey), entry);
    return create(CompleteReceiptsResponseSchema, { receipts: receipts.map(toReceiptMessage) });
  }

  async getReceipt(req: GetReceiptRequest) {
    const receipt = await this.receipts.get(req.receiptId);
    if (!receipt) throw notFound("receipt", req.receiptId);
    return create(GetReceiptResponseSchema, { receipt: toReceiptMessage(receipt) });
  }

  async getSegmentProvenance(req: GetSegmentProvenanceRequest) {
    const found = await this.receipts.segmentHistory(req.segmentId);
    if (!found) throw notFound("segment", req.segmentId);
    // Current = the latest SUCCEEDED receipt; history is newest first already.
    const current = found.receipts.find((r) => r.status === "SUCCEEDED");
    return create(GetSegmentProvenanceResponseSchema, {
      segment: toSegmentMessage(found.segment),
      currentReceipt: current ? toReceiptMessage(current) : undefined,
      history: found.receipts.map(toReceiptMessage),
    });
  }

  async getAssetUsage(req: GetAssetUsageRequest) {
    const limit = pageSizeOf(req.pageSize);
    let contentHash: string | undefined = req.contentHash === "" ? undefined : req.contentHash.toLowerCase();
    if (req.version !== 0) {
      const resolved = await this.assetVersions.contentHashOf(req.assetId, req.version);
      if (contentHash !== undefined && contentHash !== resolved) {
        throw invalidArgument("content_hash", `does not match version ${req.version} of ${req.assetId} (${resolved})`);
      }
      contentHash = resolved;
    }
    const rows = await this.receipts.usage(req.assetId, contentHash, limit, usageCursorOf(req.pageToken));
    const last = rows.at(-1);
    return create(GetAssetUsageResponseSchema, {
      usages: rows.map((u) =>
        create(AssetUsageSchema, {
          segmentId: u.segment.segmentId,
          sceneId: u.segment.sceneId,
          projectId: u.segment.projectId,
          characterName: u.segment.characterName,
          receiptId: u.receiptId,
          role: inputRoleOf(u.role),
          version: u.version ?? 0,
          contentHash: u.contentHash,
          weight: u.weight ?? 0,
          position: u.position,
          status: receiptStatusOf(u.status),
          segmentActive: u.segment.supersededBySegmentId === null,
          generationStartedAt: timestampFromDate(u.generationStartedAt),
        }),
      ),
      nextPageToken:
        rows.length === limit && last ? encodePageToken(`${last.receiptSeq}:${last.role}:${last.position}`) : "",
    });
  }

  async findReceiptsByInputsHash(req: FindReceiptsByInputsHashRequest) {
    const limit = pageSizeOf(req.pageSize);
    const rows = await this.receipts.byInputsHash(req.inputsHash.toLowerCase(), limit, decodeSeqToken(req.pageToken));
    const last = rows.at(-1);
    return create(FindReceiptsByInputsHashResponseSchema, {
      receipts: rows.map(toReceiptMessage),
      nextPageToken: rows.length === limit && last ? encodePageToken(last.seq.toString()) : "",
    });
  }
}
