/**
 * Detection latency: PublishVersion of a popular LoRA → the first provenance.staleness.detected.<project> message
 * received on NATS, and → the first WatchStaleness message received by a gRPC watcher.
 */
import { fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import type { NatsConnection } from "@nats-io/transport-node";
import { performance } from "node:perf_hooks";
import { AssetService, StalenessDetectedSchema, StalenessService, subjectFor, type StalenessDetected } from "@provenance/shared";
import { contentHashOf } from "./dataset-shape.js";
import { summarise, type LatencyStats } from "./latency-stats.js";

/** Arrival times (performance.now) of the messages of one asset change. */
interface Arrivals {
  first: number;
  last: number;
  messages: number;
  staleSegments: number;
}

/** Many open WatchStaleness streams, each watching one project as a creator's console would. */
export interface WatcherCrowd {
  /** One client per watching subject (each subject holds at most WATCH_MAX_STREAMS_PER_CALLER streams). */
  clients: Client<typeof StalenessService>[];
  /** Streams per client. */
  streamsPerClient: number;
  /** The projects watched, round-robin over every stream. */
  projectIds: readonly string[];
}

/** What the detection phase measured. */
export interface DetectionResult {
  assetId: string;
  samples: number;
  /** Publish → first detected message on NATS. */
  nats: LatencyStats;
  /** Publish → first WatchStaleness message. */
  watch: LatencyStats;
  /** Publish → last detected message of the change on NATS (every affected project). */
  natsAllProjects: LatencyStats;
  /** Stale segment ids carried by one change's messages, on average. */
  staleSegmentsPerChange: number;
  /** PublishVersion's own RPC latency. */
  publishRpc: LatencyStats;
  /** Streams open (besides the one timed above) while publishing; 0 without a crowd. */
  openStreams: number;
  /** How often the all-projects watcher timed above was ended for falling behind (RESOURCE_EXHAUSTED) and reconnected. */
  watchReconnects: number;
  /**
   * Publish → the last of the crowd's streams whose project the change made stale got its message (every affected
   * watcher served), when a crowd was open.
   */
  watchAllStreams?: LatencyStats;
}

function keyOf(c: StalenessDetected): string {
  return `${c.assetId}:${c.currentVersion}`;
}

function record(map: Map<string, Arrivals>, c: StalenessDetected, at: number): void {
  const a = map.get(keyOf(c));
  if (a) {
    a.last = at;
    a.messages += 1;
    a.staleSegments += c.staleSegmentIds.length;
  } else {
    map.set(keyOf(c), { first: at, last: at, messages: 1, staleSegments: c.staleSegmentIds.length });
  }
}

async function until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 2));
  }
  return true;
}

/** Publishes `samples` new versions of `assetId`, one at a time, and times both push paths. */
export async function measureDetection(opts: {
  nc: NatsConnection;
  namespace: string;
  assets: Client<typeof AssetService>;
  staleness: Client<typeof StalenessService>;
  assetId: string;
  samples: number;
  runId: string;
  timeoutMs?: number;
  /** Streams held open during the measurement. */
  crowd?: WatcherCrowd;
  /**
   * Resolves once the staleness service has no detection task left unfinished. Awaited before each publish, so each
   * change is detected from an idle detector: without it a publish made while the previous change's last projects were
   * still being worked through (their messages more than 300 ms apart) waited behind them, and run 8's p99s measured
   * that queue (first project 3.9 s at p99, 139 ms at p50).
   */
  detectorIdle?: () => Promise<void>;
}): Promise<DetectionResult> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const viaNats = new Map<string, Arrivals>();
  const viaWatch = new Map<string, Arrivals>();
  const sub = opts.nc.subscribe(subjectFor(opts.namespace, "provenance.staleness.detected.>"), {
    callback: (err, msg) => {
      if (!err) record(viaNats, fromBinary(StalenessDetectedSchema, msg.data), performance.now());
    },
  });
  await opts.nc.flush();
  const abort = new AbortController();
  let watching = false;
  // This watcher sees every project's changes (200 per publish at a million): when it falls behind the server's queue
  // bound, the server ends its stream (RESOURCE_EXHAUSTED) and it reconnects at once, as a client is told to.
  let watchReconnects = 0;
  const watcher = (async () => {
    while (!abort.signal.aborted) {
      try {
        for await (const res of opts.staleness.watchStaleness({ projectId: "" }, { signal: abort.signal })) {
          watching = true;
          if (res.change) record(viaWatch, res.change, performance.now());
        }
        return; // the server ended the stream without an error: only at shutdown
      } catch (err) {
        if (abort.signal.aborted || ConnectError.from(err).code !== Code.ResourceExhausted) return;
        watchReconnects += 1;
      }
    }
  })();
  // The crowd: each stream records, per change, when its project's message arrived.
  const crowdArrivals: Map<string, number>[] = [];
  const crowdStreams: Promise<void>[] = [];
  let crowdFailures = 0;
  let firstCrowdError: unknown;
  if (opts.crowd) {
    const { clients, streamsPerClient, projectIds } = opts.crowd;
    let n = 0;
    for (const client of clients) {
      for (let k = 0; k < streamsPerClient; k++) {
        const arrivals = new Map<string, number>();
        crowdArrivals.push(arrivals);
        const projectId = projectIds[n++ % projectIds.length]!;
        crowdStreams.push(
          (async () => {
            try {
              for await (const res of client.watchStaleness({ projectId }, { signal: abort.signal })) {
                if (res.change && !arrivals.has(keyOf(res.change))) arrivals.set(keyOf(res.change), performance.now());
              }
            } catch (err) {
              if (!abort.signal.aborted) {
                crowdFailures += 1;
                firstCrowdError ??= err;
              }
            }
          })(),
        );
      }
    }
  }
  // The streams have no hello message: give the server a moment to register the watchers.
  await new Promise((r) => setTimeout(r, opts.crowd ? 3000 : 500));
  if (crowdFailures > 0) throw new Error(`${crowdFailures} WatchStaleness streams of the crowd failed: ${String(firstCrowdError)}`);
  const natsMs: number[] = [];
  const watchMs: number[] = [];
  const allMs: number[] = [];
  const rpcMs: number[] = [];
  const crowdMs: number[] = [];
  let segments = 0;
  let errors = 0;
  try {
    for (let k = 0; k < opts.samples; k++) {
      await opts.detectorIdle?.();
      const t0 = performance.now();
      const res = await opts.assets.publishVersion({
        assetId: opts.assetId,
        contentHash: contentHashOf(`${opts.assetId}@bench-${opts.runId}-${k}`),
        uploadedBy: "bench",
        note: "detection sample",
      });
      rpcMs.push(performance.now() - t0);
      const key = `${opts.assetId}:${res.version!.version}`;
      const gotNats = await until(() => viaNats.has(key), timeoutMs);
      const gotWatch = await until(() => viaWatch.has(key), timeoutMs);
      if (!gotNats || !gotWatch) {
        errors += 1;
        continue;
      }
      // Let the remaining projects' messages of this change arrive before the next publish.
      let seen = -1;
      while (seen !== viaNats.get(key)!.messages) {
        seen = viaNats.get(key)!.messages;
        await new Promise((r) => setTimeout(r, 300));
      }
      const n = viaNats.get(key)!;
      natsMs.push(n.first - t0);
      allMs.push(n.last - t0);
      // Every stream of the crowd whose project got a message of this change: the last of them to receive it.
      if (opts.crowd) {
        await new Promise((r) => setTimeout(r, 500));
        const got = crowdArrivals.map((a) => a.get(key)).filter((t): t is number => t !== undefined);
        if (got.length > 0) crowdMs.push(Math.max(...got) - t0);
      }
      watchMs.push(viaWatch.get(key)!.first - t0);
      segments += n.staleSegments;
    }
  } finally {
    abort.abort();
    sub.unsubscribe();
    await watcher;
    await Promise.all(crowdStreams);
  }
  if (crowdFailures > 0) throw new Error(`${crowdFailures} WatchStaleness streams of the crowd failed: ${String(firstCrowdError)}`);
  if (!watching && watchMs.length === 0) throw new Error("WatchStaleness delivered nothing");
  const ok = natsMs.length;
  return {
    assetId: opts.assetId,
    samples: ok,
    nats: summarise(natsMs, 1, errors, 1),
    watch: summarise(watchMs, 1, errors, 1),
    natsAllProjects: summarise(allMs, 1, errors, 1),
    staleSegmentsPerChange: ok ? Math.round(segments / ok) : 0,
    publishRpc: summarise(rpcMs, 1, 0, 1),
    openStreams: crowdArrivals.length,
    watchReconnects,
    ...(opts.crowd ? { watchAllStreams: summarise(crowdMs, crowdArrivals.length, errors, 1) } : {}),
  };
}
