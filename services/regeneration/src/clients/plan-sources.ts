/**
 * The services planning reads from — StalenessService, AssetService, ReceiptService — behind one interface, over
 * ConnectRPC (gRPC) with a deadline on every call and a bound on how many run at once.
 */
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import {
  AssetService,
  ReceiptService,
  StalenessService,
  forwardRequestId,
  unavailable,
  type Asset,
  type GetSegmentProvenanceResponse,
  type StaleSegment,
} from "@provenance/shared";
import { mapConcurrently } from "./map-concurrently.js";

/** What planning needs from other services. Each method throws UNAVAILABLE (naming the service) when it cannot answer. */
export interface PlanSources {
  /** Every stale active segment of a project (only those stale because of `assetId`, when given). */
  staleSegments(projectId: string, assetId: string): Promise<StaleSegment[]>;
  /** Each segment with its current receipt, in the order asked; undefined where the receipts service does not know it. */
  segmentProvenance(segmentIds: readonly string[]): Promise<(GetSegmentProvenanceResponse | undefined)[]>;
  /** Each asset with its current version, in the order asked; undefined where it is not registered. */
  assets(assetIds: readonly string[]): Promise<(Asset | undefined)[]>;
}

/** Where the dependencies are, and how they are called. */
export interface PlanSourceUrls {
  receiptsUrl: string;
  stalenessUrl: string;
  /** Deadline of each call (default 5 s). */
  timeoutMs?: number;
  /** Calls to one service at once (default 8). */
  concurrency?: number;
}

/** Codes that mean "the dependency could not answer now"; anything else is a bug and stays INTERNAL. */
const TRANSIENT = new Set([Code.Unavailable, Code.DeadlineExceeded, Code.Canceled, Code.Unknown, Code.ResourceExhausted, Code.Aborted, Code.Internal]);

const STALE_PAGE_SIZE = 1000;

/** {@link PlanSources} over ConnectRPC (gRPC) clients. */
export class ConnectPlanSources implements PlanSources {
  private readonly staleness: Client<typeof StalenessService>;
  private readonly assetClient: Client<typeof AssetService>;
  private readonly receipts: Client<typeof ReceiptService>;
  private readonly timeoutMs: number;
  private readonly concurrency: number;

  constructor(private readonly urls: PlanSourceUrls) {
    const stalenessTransport = createGrpcTransport({ baseUrl: urls.stalenessUrl, interceptors: [forwardRequestId] });
    this.staleness = createClient(StalenessService, stalenessTransport);
    this.assetClient = createClient(AssetService, stalenessTransport);
    this.receipts = createClient(ReceiptService, createGrpcTransport({ baseUrl: urls.receiptsUrl, interceptors: [forwardRequestId] }));
    this.timeoutMs = urls.timeoutMs ?? 5_000;
    this.concurrency = urls.concurrency ?? 8;
  }

  async staleSegments(projectId: string, assetId: string): Promise<StaleSegment[]> {
    const out: StaleSegment[] = [];
    let pageToken = "";
    do {
      const res = await this.call("StalenessService", this.urls.stalenessUrl, "list stale segments", () =>
        this.staleness.listStaleSegments({ projectId, assetId, pageSize: STALE_PAGE_SIZE, pageToken }, { timeoutMs: this.timeoutMs }),
      );
      if (!res) break;
      out.push(...res.segments);
      pageToken = res.nextPageToken;
    } while (pageToken !== "");
    return out;
  }

  async segmentProvenance(segmentIds: readonly string[]): Promise<(GetSegmentProvenanceResponse | undefined)[]> {
    return mapConcurrently(segmentIds, this.concurrency, (segmentId) =>
      this.call("ReceiptService", this.urls.receiptsUrl, `read the provenance of segment ${segmentId}`, () =>
        this.receipts.getSegmentProvenance({ segmentId }, { timeoutMs: this.timeoutMs }),
      ),
    );
  }

  async assets(assetIds: readonly string[]): Promise<(Asset | undefined)[]> {
    return mapConcurrently(assetIds, this.concurrency, async (assetId) => {
      const res = await this.call("AssetService", this.urls.stalenessUrl, `read asset ${assetId}`, () =>
        this.assetClient.getAsset({ assetId }, { timeoutMs: this.timeoutMs }),
      );
      return res?.asset;
    });
  }

  /** Runs one call; NOT_FOUND → undefined, a transient failure → UNAVAILABLE naming the service and URL. */
  private async call<T>(service: string, url: string, what: string, fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (err) {
      const ce = ConnectError.from(err);
      if (ce.code === Code.NotFound) return undefined;
      if (TRANSIENT.has(ce.code)) {
        throw unavailable(`${service} at ${url} is unavailable (could not ${what}): ${ce.rawMessage}`, err);
      }
      throw err;
    }
  }
}
