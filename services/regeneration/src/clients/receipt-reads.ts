/**
 * What reproductions and GPU-time estimates read from ReceiptService — a receipt, a segment's current receipt, past
 * generation durations — over ConnectRPC (gRPC), as the caller (its token forwarded), with a deadline on every call.
 */
import { createClient, type CallOptions, type Client, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { callDependency, dependencyCallOptions } from "./dependency-call.js";
import type { Caller } from "@provenance/shared/auth";
import {
  ReceiptService,
  forwardRequestId,
  type GenerationDurations,
  type GenerationDurationKeySchema,
  type GetSegmentProvenanceResponse,
  type Receipt,
} from "@provenance/shared";

/** A duration key as plain fields. */
export type DurationKeyInit = Omit<MessageInitShape<typeof GenerationDurationKeySchema>, "$typeName">;

/** Reads from ReceiptService; each throws UNAVAILABLE (naming the service) when it cannot answer. */
export interface ReceiptReads {
  /** A receipt by id; undefined when there is none the caller may read. */
  receipt(receiptId: string, caller?: Caller): Promise<Receipt | undefined>;
  /** A segment with its current receipt; undefined when there is none the caller may read. */
  segmentProvenance(segmentId: string, caller?: Caller): Promise<GetSegmentProvenanceResponse | undefined>;
  /** The durations of past receipts per key, in the order asked (one call per 1,000 keys). */
  generationDurations(keys: readonly DurationKeyInit[], caller?: Caller): Promise<GenerationDurations[]>;
}

/** The most keys one GetGenerationDurations call takes. */
const MAX_KEYS_PER_CALL = 1000;

/** {@link ReceiptReads} over a ConnectRPC (gRPC) client. */
export class ConnectReceiptReads implements ReceiptReads {
  private readonly client: Client<typeof ReceiptService>;
  private readonly timeoutMs: number;

  constructor(private readonly opts: { receiptsUrl: string; outbound?: Interceptor; timeoutMs?: number }) {
    const interceptors = [forwardRequestId, ...(opts.outbound ? [opts.outbound] : [])];
    this.client = createClient(ReceiptService, createGrpcTransport({ baseUrl: opts.receiptsUrl, interceptors }));
    this.timeoutMs = opts.timeoutMs ?? 5_000;
  }

  async receipt(receiptId: string, caller?: Caller): Promise<Receipt | undefined> {
    const res = await this.call(`read receipt ${receiptId}`, () => this.client.getReceipt({ receiptId }, this.options(caller)));
    return res?.receipt;
  }

  async segmentProvenance(segmentId: string, caller?: Caller): Promise<GetSegmentProvenanceResponse | undefined> {
    return this.call(`read the provenance of segment ${segmentId}`, () => this.client.getSegmentProvenance({ segmentId }, this.options(caller)));
  }

  async generationDurations(keys: readonly DurationKeyInit[], caller?: Caller): Promise<GenerationDurations[]> {
    const out: GenerationDurations[] = [];
    for (let i = 0; i < keys.length; i += MAX_KEYS_PER_CALL) {
      const chunk = keys.slice(i, i + MAX_KEYS_PER_CALL);
      const res = await this.call("read generation durations", () => this.client.getGenerationDurations({ keys: chunk }, this.options(caller)));
      out.push(...(res?.durations ?? []));
    }
    return out;
  }

  private options(caller: Caller | undefined): CallOptions {
    return dependencyCallOptions(this.timeoutMs, caller);
  }

  private call<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
    return callDependency("ReceiptService", this.opts.receiptsUrl, what, fn);
  }
}
