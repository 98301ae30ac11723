/**
 * AssetService: decided and validated requests in (access by the auth interceptor, rules in staleness-rules.ts), mapped
 * to a use case in app/ with the caller — who uploads, what lists and counts may show — and messages out.
 */
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
  pageSizeOf,
  projectFilter,
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
import { callerOf } from "@provenance/shared/auth";
import type { AppDeps } from "../app/deps.js";
import { getAsset } from "../app/get-asset.js";
import { getVersion } from "../app/get-version.js";
import { listAssets } from "../app/list-assets.js";
import { listVersions } from "../app/list-versions.js";
import { publishVersion } from "../app/publish-version.js";
import { registerAsset } from "../app/register-asset.js";
import { setCurrentVersion } from "../app/set-current-version.js";
import { assetKindName } from "../domain/asset-kinds.js";
import { toAssetMessage, toVersionMessage } from "../domain/asset-records.js";

/** A proto string field that is empty when not given. */
function given(s: string): string | undefined {
  return s === "" ? undefined : s;
}

/** The largest version a page token may name (versions are PostgreSQL integers). */
const MAX_VERSION = 2147483647n;

/** The AssetService implementation. */
export class AssetHandlers implements ServiceImpl<typeof AssetService> {
  constructor(private readonly deps: AppDeps) {}

  async registerAsset(req: RegisterAssetRequest) {
    const { asset, created } = await registerAsset(this.deps, {
      assetId: given(req.assetId),
      kind: assetKindName(req.kind),
      name: req.name,
      projectId: given(req.projectId),
    });
    return create(RegisterAssetResponseSchema, { asset: toAssetMessage(asset), created });
  }

  async publishVersion(req: PublishVersionRequest, ctx: HandlerContext) {
    const result = await publishVersion(this.deps, {
      assetId: req.assetId,
      contentHash: req.contentHash,
      // The caller's token says who uploads; the request's uploaded_by is kept for compatibility and ignored.
      uploadedBy: callerOf(ctx).principal.subject,
      note: req.note,
      makeCurrent: req.makeCurrent,
      requestId: ctx.values.get(requestIdKey),
    });
    return create(PublishVersionResponseSchema, {
      version: toVersionMessage(result.version),
      asset: toAssetMessage(result.asset),
      created: result.created,
    });
  }

  async setCurrentVersion(req: SetCurrentVersionRequest, ctx: HandlerContext) {
    const result = await setCurrentVersion(this.deps, { assetId: req.assetId, version: req.version, requestId: ctx.values.get(requestIdKey) });
    return create(SetCurrentVersionResponseSchema, { asset: toAssetMessage(result.asset), previousVersion: result.previousVersion });
  }

  async getAsset(req: GetAssetRequest) {
    return create(GetAssetResponseSchema, { asset: toAssetMessage(await getAsset(this.deps, req.assetId)) });
  }

  async listAssets(req: ListAssetsRequest, ctx: HandlerContext) {
    const page = await listAssets(
      this.deps,
      {
        projectId: given(req.projectId),
        kind: req.kind === AssetKind.UNSPECIFIED ? undefined : assetKindName(req.kind),
        afterId: decodePageToken(req.pageToken),
        projects: projectFilter(callerOf(ctx).viewable),
      },
      pageSizeOf(req.pageSize),
    );
    return create(ListAssetsResponseSchema, {
      assets: page.assets.map(toAssetMessage),
      nextPageToken: page.nextAfterId === undefined ? "" : encodePageToken(page.nextAfterId),
    });
  }

  async listVersions(req: ListVersionsRequest, ctx: HandlerContext) {
    const before = decodeSeqToken(req.pageToken);
    if (before !== undefined && before > MAX_VERSION) throw invalidArgument("page_token", "is not a token this service returned");
    const page = await listVersions(this.deps, req.assetId, pageSizeOf(req.pageSize), before === undefined ? undefined : Number(before), callerOf(ctx).viewable);
    return create(ListVersionsResponseSchema, {
      versions: page.versions.map(toVersionMessage),
      nextPageToken: page.nextBeforeVersion === undefined ? "" : encodePageToken(String(page.nextBeforeVersion)),
    });
  }

  async getVersion(req: GetVersionRequest, ctx: HandlerContext) {
    const found = await getVersion(this.deps, req.assetId, req.version, callerOf(ctx).viewable);
    return create(GetVersionResponseSchema, { version: toVersionMessage(found.version), asset: toAssetMessage(found.asset) });
  }
}
