/** The outbound client resolving an asset version to its content hash through AssetService (owned by the staleness service). */
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { LRUCache } from "lru-cache";
import { AssetService, forwardRequestId, notFound, unavailable } from "@provenance/shared";

/** How many (asset, version) → hash answers are kept. */
const CACHED_VERSIONS = 10_000;

/** Looks up the content hash of one version of one asset. */
export interface AssetVersionLookup {
  /** The content hash of `version` of `assetId`; NOT_FOUND when either is unknown, UNAVAILABLE when the lookup is down. */
  contentHashOf(assetId: string, version: number): Promise<string>;
}

/**
 * {@link AssetVersionLookup} over a ConnectRPC client of AssetService, with a deadline. Answers are cached: a
 * published version's content hash never changes (versions are append-only and a hash is never rewritten), so a
 * cached answer cannot go stale; only unknown versions and failures are asked again.
 */
export class AssetServiceVersionLookup implements AssetVersionLookup {
  private readonly client: Client<typeof AssetService>;
  private readonly cache = new LRUCache<string, string>({ max: CACHED_VERSIONS });

  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs = 2000,
  ) {
    this.client = createClient(AssetService, createGrpcTransport({ baseUrl, interceptors: [forwardRequestId] }));
  }

  async contentHashOf(assetId: string, version: number): Promise<string> {
    const key = `${version}\u0000${assetId}`;
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    try {
      const res = await this.client.getVersion({ assetId, version }, { timeoutMs: this.timeoutMs });
      const hash = res.version!.contentHash;
      this.cache.set(key, hash);
      return hash;
    } catch (err) {
      const ce = ConnectError.from(err);
      if (ce.code === Code.NotFound) throw notFound("asset version", `${assetId} v${version}`);
      throw unavailable(`AssetService at ${this.baseUrl} could not resolve version ${version} of ${assetId}: ${ce.rawMessage}`, err);
    }
  }
}
