import { describe, expect, it } from "vitest";
import { WatchLimitReached, admitStream, fellBehind } from "./watch-bounds.js";

const limits = { queueLength: 8, maxStreamsPerCaller: 3, maxStreams: 5, maxBufferedBytes: 32 << 20 };

describe("admitStream", () => {
  it("admits a stream while the caller and the server are under their bounds", () => {
    expect(admitStream({ total: 0, ofCaller: 0 }, limits)).toBeUndefined();
    expect(admitStream({ total: 4, ofCaller: 2 }, limits)).toBeUndefined();
  });

  it("refuses the caller's N+1th stream, naming WATCH_MAX_STREAMS_PER_CALLER and its value", () => {
    const refused = admitStream({ total: 3, ofCaller: 3 }, limits);
    expect(refused).toBeInstanceOf(WatchLimitReached);
    expect(refused!.bound).toBe("maxStreamsPerCaller");
    expect(refused!.message).toBe("too many WatchStaleness streams for this caller: WATCH_MAX_STREAMS_PER_CALLER allows 3 open at once; close one first");
  });

  it("refuses any caller's stream once the server holds WATCH_MAX_STREAMS", () => {
    const refused = admitStream({ total: 5, ofCaller: 0 }, limits);
    expect(refused!.bound).toBe("maxStreams");
    expect(refused!.message).toBe("too many WatchStaleness streams on this server: WATCH_MAX_STREAMS allows 5 open at once; retry later");
  });

  it("names the caller's bound first when both are reached", () => {
    expect(admitStream({ total: 5, ofCaller: 3 }, limits)!.bound).toBe("maxStreamsPerCaller");
  });
});

describe("fellBehind", () => {
  it("tells the reader to reconnect and re-read the report", () => {
    const e = fellBehind();
    expect(e.bound).toBe("queueLength");
    expect(e.message).toBe("watch stream closed: the reader fell behind; reconnect and re-read the report");
  });
});
