/** Resolving an asset version to its content hash through AssetService (owned by the staleness service). */
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { AssetService, forwardRequestId, notFound, unavailable } from "@provenance/shared";

/** Looks up the content hash of one version of one asset. */
export interface AssetVersionLookup {
  /** The content hash of `version` of `assetId`; NOT_FOUND when either is unknown, UNAVAILABLE when the lookup is down. */
  contentHashOf(assetId: string, version: number): Promise<string>;
}

/** {@link AssetVersionLookup} over a ConnectRPC client of AssetService, with a deadline. */
export class AssetServiceVersionLookup implements AssetVersionLookup {
  private readonly client: Client<typeof AssetService>;

  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs = 2000,
  ) {
    this.client = createClient(AssetService, createGrpcTransport({ baseUrl, interceptors: [forwardRequestId] }));
  }

  async contentHashOf(assetId: string, version: number): Promise<string> {
    try {
      const res = await this.client.getVersion({ assetId, version }, { timeoutMs: this.timeoutMs });
      return res.version!.contentHash;
    } catch (err) {
      const ce = ConnectError.from(err);
      if (ce.code === Code.NotFound) throw notFound("asset version", `${assetId} v${version}`);
      throw unavailable(`AssetService at ${this.baseUrl} could not resolve version ${version} of ${assetId}: ${ce.rawMessage}`, err);
    }
  }
}
