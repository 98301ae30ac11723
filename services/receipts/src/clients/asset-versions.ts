/** The outbound client resolving an asset version to its content hash through AssetService (owned by the staleness service). */
import { Code, ConnectError, createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { LRUCache } from "lru-cache";
import { AssetService, forwardRequestId, notFound, unavailable } from "@provenance/shared";
import { actingFor, type Caller } from "@provenance/shared/auth";

/** How many (caller, asset, version) → hash answers are kept, and for how long. */
const CACHED_VERSIONS = 10_000;
const CACHE_TTL_MS = 60_000;

/** Looks up the content hash of one version of one asset. */
export interface AssetVersionLookup {
  /**
   * The content hash of `version` of `assetId`, asked as `caller` (its token is forwarded, so an asset it cannot view
   * is NOT_FOUND as it is to the caller itself); NOT_FOUND when either is unknown, UNAVAILABLE when the lookup is down.
   */
  contentHashOf(assetId: string, version: number, caller?: Caller): Promise<string>;
}

/** The part of a cache key that keeps one caller's answers from another's: who is asking, as grants see it. */
function askerOf(caller: Caller | undefined): string {
  if (!caller) return "";
  return JSON.stringify([caller.principal.issuer, caller.principal.subject, [...caller.principal.groups].sort()]);
}

/**
 * {@link AssetVersionLookup} over a ConnectRPC client of AssetService, with a deadline. Calls carry the caller's token
 * (`actingFor`, through `outbound`, the service's outbound auth interceptor). Answers are cached per caller: a
 * published version's content hash never changes (versions are append-only and a hash is never rewritten), but whether
 * a caller may see it can, so an answer is kept for one caller and a minute; unknown versions and failures are
 * asked again.
 */
export class AssetServiceVersionLookup implements AssetVersionLookup {
  private readonly client: Client<typeof AssetService>;
  private readonly cache = new LRUCache<string, string>({ max: CACHED_VERSIONS, ttl: CACHE_TTL_MS });

  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs = 2000,
    outbound?: Interceptor,
  ) {
    this.client = createClient(AssetService, createGrpcTransport({ baseUrl, interceptors: [forwardRequestId, ...(outbound ? [outbound] : [])] }));
  }

  async contentHashOf(assetId: string, version: number, caller?: Caller): Promise<string> {
    const key = `${askerOf(caller)}\u0000${version}\u0000${assetId}`;
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    try {
      const options = { timeoutMs: this.timeoutMs };
      const res = await this.client.getVersion({ assetId, version }, caller ? actingFor(caller, options) : options);
      const hash = res.version!.contentHash;
      this.cache.set(key, hash);
      return hash;
    } catch (err) {
      const ce = ConnectError.from(err);
      if (ce.code === Code.NotFound) throw notFound("asset version", `${assetId} v${version}`);
      // The caller's own token refused there (expired meanwhile, or no grant in that service's policy): its answer.
      if (ce.code === Code.Unauthenticated || ce.code === Code.PermissionDenied) throw ce;
      throw unavailable(`AssetService at ${this.baseUrl} could not resolve version ${version} of ${assetId}: ${ce.rawMessage}`, err);
    }
  }
}
