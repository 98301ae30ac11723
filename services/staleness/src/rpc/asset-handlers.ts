/** AssetService: validated requests in (see staleness-rules.ts), repository, messages out. */
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  AssetKind,
  GetAssetResponseSchema,
  GetVersionResponseSchema,
  ListAssetsResponseSchema,
  ListVersionsResponseSchema,
  PublishVersionResponseSchema,
  RegisterAssetResponseSchema,
  SetCurrentVersionResponseSchema,
  decodePageToken,
  decodeSeqToken,
  encodePageToken,
  invalidArgument,
  notFound,
  pageSizeOf,
  requestIdKey,
  type AssetService,
  type GetAssetRequest,
  type GetVersionRequest,
  type ListAssetsRequest,
  type ListVersionsRequest,
  type PublishVersionRequest,
  type RegisterAssetRequest,
  type SetCurrentVersionRequest,
} from "@provenance/shared";
import { assetKindName } from "../domain/asset-kinds.js";
import { toAssetMessage, toVersionMessage } from "../domain/asset-records.js";
import type { AssetRepository } from "../persistence/asset-repository.js";

/** The AssetService implementation. */
export class AssetHandlers implements ServiceImpl<typeof AssetService> {
  constructor(private readonly assets: AssetRepository) {}

  async registerAsset(req: RegisterAssetRequest) {
    const { asset, created } = await this.assets.register(
      req.assetId === "" ? randomUUID() : req.assetId,
      assetKindName(req.kind),
      req.name,
      req.projectId === "" ? null : req.projectId,
    );
    return create(RegisterAssetResponseSchema, { asset: toAssetMessage(asset), created });
  }

  async publishVersion(req: PublishVersionRequest, ctx: HandlerContext) {
    const result = await this.assets.publish(
      req.assetId,
      req.contentHash.toLowerCase(),
      req.uploadedBy,
      req.note,
      req.makeCurrent ?? true,
      ctx.values.get(requestIdKey),
    );
    return create(PublishVersionResponseSchema, {
      version: toVersionMessage(result.version),
      asset: toAssetMessage(result.asset),
      created: result.created,
    });
  }

  async setCurrentVersion(req: SetCurrentVersionRequest, ctx: HandlerContext) {
    const result = await this.assets.setCurrent(req.assetId, req.version, ctx.values.get(requestIdKey));
    return create(SetCurrentVersionResponseSchema, { asset: toAssetMessage(result.asset), previousVersion: result.previousVersion });
  }

  async getAsset(req: GetAssetRequest) {
    const asset = await this.assets.get(req.assetId);
    if (!asset) throw notFound("asset", req.assetId);
    return create(GetAssetResponseSchema, { asset: toAssetMessage(asset) });
  }

  async listAssets(req: ListAssetsRequest) {
    const limit = pageSizeOf(req.pageSize);
    const rows = await this.assets.list(
      req.projectId === "" ? undefined : req.projectId,
      req.kind === AssetKind.UNSPECIFIED ? undefined : assetKindName(req.kind),
      limit,
      decodePageToken(req.pageToken),
    );
    const last = rows.at(-1);
    return create(ListAssetsResponseSchema, {
      assets: rows.map(toAssetMessage),
      nextPageToken: rows.length === limit && last ? encodePageToken(last.assetId) : "",
    });
  }

  async listVersions(req: ListVersionsRequest) {
    const limit = pageSizeOf(req.pageSize);
    const before = decodeSeqToken(req.pageToken);
    if (before !== undefined && before > 2147483647n) throw invalidArgument("page_token", "is not a token this service returned");
    const rows = await this.assets.versions(req.assetId, limit, before === undefined ? undefined : Number(before));
    if (!rows) throw notFound("asset", req.assetId);
    const last = rows.at(-1);
    return create(ListVersionsResponseSchema, {
      versions: rows.map(toVersionMessage),
      nextPageToken: rows.length === limit && last && last.version > 1 ? encodePageToken(String(last.version)) : "",
    });
  }

  async getVersion(req: GetVersionRequest) {
    const found = await this.assets.version(req.assetId, req.version);
    if (!found) throw notFound("asset version", `${req.assetId} v${req.version}`);
    return create(GetVersionResponseSchema, { version: toVersionMessage(found.version), asset: toAssetMessage(found.asset) });
  }
}
