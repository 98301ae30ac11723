import { describe, expect, it } from "vitest";
import { ConfigError } from "@provenance/shared";
import { DEFAULT_PIN_EXPIRY_CHECK_MS, DEFAULT_WATCH_LIMITS, readPinExpiryCheckMs, readWatchLimits } from "./config.js";

/** The ConfigError `read` throws (fails the test when it throws nothing else). */
function configErrorOf(read: () => unknown): ConfigError {
  try {
    read();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error("expected a ConfigError, the variable was accepted");
}

describe("readWatchLimits", () => {
  it("takes the defaults for unset or blank variables", () => {
    expect(readWatchLimits({})).toEqual(DEFAULT_WATCH_LIMITS);
    expect(readWatchLimits({ WATCH_QUEUE_LENGTH: " ", WATCH_MAX_STREAMS: "" })).toEqual(DEFAULT_WATCH_LIMITS);
    expect(DEFAULT_WATCH_LIMITS).toEqual({ queueLength: 64, maxStreamsPerCaller: 100, maxStreams: 10_000, maxBufferedBytes: 33_554_432 });
  });

  it("reads each bound from its variable", () => {
    expect(
      readWatchLimits({ WATCH_QUEUE_LENGTH: "16", WATCH_MAX_STREAMS_PER_CALLER: "4", WATCH_MAX_STREAMS: " 2500 ", WATCH_MAX_BUFFERED_BYTES: "1048576" }),
    ).toEqual({
      queueLength: 16,
      maxStreamsPerCaller: 4,
      maxStreams: 2500,
      maxBufferedBytes: 1_048_576,
    });
  });

  it.each(["65535", "4294967297", "32MiB", "-1", "1e9"])("refuses WATCH_MAX_BUFFERED_BYTES=%s with an error naming the variable and its range", (value) => {
    const err = configErrorOf(() => readWatchLimits({ WATCH_MAX_BUFFERED_BYTES: value }));
    expect(err.variable).toBe("WATCH_MAX_BUFFERED_BYTES");
    expect(err.message).toBe(`WATCH_MAX_BUFFERED_BYTES: must be a whole number of bytes from 65536 to 4294967296, got "${value}"`);
  });

  it.each([
    ["WATCH_QUEUE_LENGTH", "0"],
    ["WATCH_QUEUE_LENGTH", "-1"],
    ["WATCH_MAX_STREAMS_PER_CALLER", "ten"],
    ["WATCH_MAX_STREAMS_PER_CALLER", "1.5"],
    ["WATCH_MAX_STREAMS", "1000001"],
    ["WATCH_MAX_STREAMS", "99999999999"],
  ])("refuses %s=%s with an error naming the variable", (name, value) => {
    const err = configErrorOf(() => readWatchLimits({ [name]: value }));
    expect(err.variable).toBe(name);
    expect(err.message).toBe(`${name}: must be a whole number from 1 to 1000000, got "${value}"`);
  });
});

describe("readPinExpiryCheckMs", () => {
  it("takes 5 s when unset or blank, and a whole number of ms from 10 to 3,600,000", () => {
    expect(readPinExpiryCheckMs({})).toBe(DEFAULT_PIN_EXPIRY_CHECK_MS);
    expect(readPinExpiryCheckMs({ PIN_EXPIRY_CHECK_MS: " " })).toBe(5_000);
    expect(readPinExpiryCheckMs({ PIN_EXPIRY_CHECK_MS: "250" })).toBe(250);
  });

  it.each(["9", "3600001", "1.5", "-5", "soon"])("refuses PIN_EXPIRY_CHECK_MS=%s naming the variable", (value) => {
    const err = configErrorOf(() => readPinExpiryCheckMs({ PIN_EXPIRY_CHECK_MS: value }));
    expect(err.variable).toBe("PIN_EXPIRY_CHECK_MS");
  });
});
