/**
 * The services planning reads from — StalenessService, AssetService, ReceiptService — behind one interface, over
 * ConnectRPC (gRPC) with a deadline on every call and a bound on how many run at once.
 */
import { createClient, type CallOptions, type Client, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { Caller } from "@provenance/shared/auth";
import {
  AssetService,
  ReceiptService,
  StalenessService,
  forwardRequestId,
  type Asset,
  type SegmentCurrentReceipt,
  type StaleSegment,
} from "@provenance/shared";
import { callDependency, dependencyCallOptions } from "./dependency-call.js";
import { mapConcurrently } from "./map-concurrently.js";

/**
 * What planning needs from other services, asked as `caller` (whose token is forwarded, so planning reads what the
 * caller may read and no more). Each method throws UNAVAILABLE (naming the service) when it cannot answer.
 */
export interface PlanSources {
  /**
   * Every stale active segment of a project (only those stale because of `assetId`, when given), page by page as
   * StalenessService answers, so that planning can read the rest of a page's segments while the next page is listed.
   * The next page is asked for when the consumer asks for it; a consumer that stops early asks for no more.
   */
  staleSegmentPages(projectId: string, assetId: string, caller?: Caller): AsyncIterable<StaleSegment[]>;
  /**
   * Each segment with its current receipt, in the order asked; undefined where the receipts service does not know it
   * (or the caller may not view it).
   */
  currentReceipts(segmentIds: readonly string[], caller?: Caller): Promise<(SegmentCurrentReceipt | undefined)[]>;
  /** Each asset with its current version, in the order asked; undefined where it is not registered (or not viewable). */
  assets(assetIds: readonly string[], caller?: Caller): Promise<(Asset | undefined)[]>;
}

/** Where the dependencies are, and how they are called. */
export interface PlanSourceUrls {
  receiptsUrl: string;
  stalenessUrl: string;
  /** Deadline of each call (default 5 s). */
  timeoutMs?: number;
  /** Calls to one service at once (default 8). */
  concurrency?: number;
  /** The service's outbound auth interceptor: the caller's token with `actingFor`, else SERVICE_TOKEN_FILE. */
  outbound?: Interceptor;
}

/** ListStaleSegments' largest page (MAX_PAGE_SIZE of the public API). */
const STALE_PAGE_SIZE = 1000;

/** The most segments one BatchGetCurrentReceipts call takes. */
const CURRENT_RECEIPTS_PER_CALL = 1000;

/**
 * BatchGetCurrentReceipts calls in flight at once: two keep the receipts service busy (one call's statement runs while
 * the other's answer is encoded) without queueing answers of 1,000 receipts behind each other past the deadline.
 */
const CURRENT_RECEIPTS_CALLS_AT_ONCE = 2;

/** {@link PlanSources} over ConnectRPC (gRPC) clients. */
export class ConnectPlanSources implements PlanSources {
  private readonly staleness: Client<typeof StalenessService>;
  private readonly assetClient: Client<typeof AssetService>;
  private readonly receipts: Client<typeof ReceiptService>;
  private readonly timeoutMs: number;
  private readonly concurrency: number;

  constructor(private readonly urls: PlanSourceUrls) {
    const interceptors = [forwardRequestId, ...(urls.outbound ? [urls.outbound] : [])];
    const stalenessTransport = createGrpcTransport({ baseUrl: urls.stalenessUrl, interceptors });
    this.staleness = createClient(StalenessService, stalenessTransport);
    this.assetClient = createClient(AssetService, stalenessTransport);
    this.receipts = createClient(ReceiptService, createGrpcTransport({ baseUrl: urls.receiptsUrl, interceptors }));
    this.timeoutMs = urls.timeoutMs ?? 5_000;
    this.concurrency = urls.concurrency ?? 8;
  }

  async *staleSegmentPages(projectId: string, assetId: string, caller?: Caller): AsyncGenerator<StaleSegment[]> {
    let pageToken = "";
    do {
      const res = await this.call("StalenessService", this.urls.stalenessUrl, "list stale segments", () =>
        this.staleness.listStaleSegments({ projectId, assetId, pageSize: STALE_PAGE_SIZE, pageToken }, this.options(caller)),
      );
      if (!res) return;
      yield res.segments;
      pageToken = res.nextPageToken;
    } while (pageToken !== "");
  }

  /** One BatchGetCurrentReceipts per 1,000 segments, {@link CURRENT_RECEIPTS_CALLS_AT_ONCE} at a time. */
  async currentReceipts(segmentIds: readonly string[], caller?: Caller): Promise<(SegmentCurrentReceipt | undefined)[]> {
    const chunks: string[][] = [];
    for (let i = 0; i < segmentIds.length; i += CURRENT_RECEIPTS_PER_CALL) chunks.push(segmentIds.slice(i, i + CURRENT_RECEIPTS_PER_CALL));
    const answers = await mapConcurrently(chunks, Math.min(this.concurrency, CURRENT_RECEIPTS_CALLS_AT_ONCE), (chunk) =>
      this.call("ReceiptService", this.urls.receiptsUrl, `read the current receipts of ${chunk.length} segments`, () =>
        this.receipts.batchGetCurrentReceipts({ segmentIds: chunk }, this.options(caller)),
      ),
    );
    // Unknown (or hidden) segments are left out of an answer: match the rest up by id.
    const found = new Map<string, SegmentCurrentReceipt>();
    for (const answer of answers) for (const s of answer?.segments ?? []) if (s.segment) found.set(s.segment.segmentId, s);
    return segmentIds.map((id) => found.get(id));
  }

  async assets(assetIds: readonly string[], caller?: Caller): Promise<(Asset | undefined)[]> {
    return mapConcurrently(assetIds, this.concurrency, async (assetId) => {
      const res = await this.call("AssetService", this.urls.stalenessUrl, `read asset ${assetId}`, () =>
        this.assetClient.getAsset({ assetId }, this.options(caller)),
      );
      return res?.asset;
    });
  }

  /** Call options with the deadline, presenting the caller's token when planning for one. */
  private options(caller: Caller | undefined): CallOptions {
    return dependencyCallOptions(this.timeoutMs, caller);
  }

  /** Runs one call (see {@link callDependency}). */
  private call<T>(service: string, url: string, what: string, fn: () => Promise<T>): Promise<T | undefined> {
    return callDependency(service, url, what, fn);
  }
}
