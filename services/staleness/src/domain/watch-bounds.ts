/** The bounds on WatchStaleness streams: how many a caller and a server may hold open, and how far a reader may lag. */

/** The bounds in force (see config.ts for their variables and defaults). */
export interface WatchLimits {
  /** Changes one stream may have waiting for its reader; one more and the stream is ended (`WATCH_QUEUE_LENGTH`). */
  readonly queueLength: number;
  /** Streams one caller may hold open at once on one server (`WATCH_MAX_STREAMS_PER_CALLER`). */
  readonly maxStreamsPerCaller: number;
  /** Streams one server holds open at once, all callers together (`WATCH_MAX_STREAMS`). */
  readonly maxStreams: number;
  /**
   * Bytes of changes the server holds serialized for streams whose readers have not taken them, all streams together;
   * past it a stream waits its turn to be sent its next change (`WATCH_MAX_BUFFERED_BYTES`).
   */
  readonly maxBufferedBytes: number;
}

/** The variable naming each bound, as a refusal names it. */
export const WATCH_LIMIT_VARIABLES: Readonly<Record<keyof WatchLimits, string>> = Object.freeze({
  queueLength: "WATCH_QUEUE_LENGTH",
  maxStreamsPerCaller: "WATCH_MAX_STREAMS_PER_CALLER",
  maxStreams: "WATCH_MAX_STREAMS",
  maxBufferedBytes: "WATCH_MAX_BUFFERED_BYTES",
});

/** A stream refused or ended because a bound was reached; the RPC layer answers it RESOURCE_EXHAUSTED. */
export class WatchLimitReached extends Error {
  override readonly name = "WatchLimitReached";

  constructor(
    /** Which bound. */
    readonly bound: keyof WatchLimits,
    message: string,
  ) {
    super(message);
  }
}

/** Streams open now: in total, and of the caller asking for one more. */
export interface OpenStreams {
  total: number;
  ofCaller: number;
}

/** Whether one more stream may open: undefined when it may, else the bound it would exceed, named in the message. */
export function admitStream(open: OpenStreams, limits: WatchLimits): WatchLimitReached | undefined {
  if (open.ofCaller >= limits.maxStreamsPerCaller) {
    return new WatchLimitReached(
      "maxStreamsPerCaller",
      `too many WatchStaleness streams for this caller: ${WATCH_LIMIT_VARIABLES.maxStreamsPerCaller} allows ${limits.maxStreamsPerCaller} open at once; close one first`,
    );
  }
  if (open.total >= limits.maxStreams) {
    return new WatchLimitReached(
      "maxStreams",
      `too many WatchStaleness streams on this server: ${WATCH_LIMIT_VARIABLES.maxStreams} allows ${limits.maxStreams} open at once; retry later`,
    );
  }
  return undefined;
}

/** The end of a stream whose reader let {@link WatchLimits.queueLength} changes pile up. */
export function fellBehind(): WatchLimitReached {
  return new WatchLimitReached("queueLength", "watch stream closed: the reader fell behind; reconnect and re-read the report");
}
