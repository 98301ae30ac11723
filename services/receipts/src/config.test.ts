import { describe, expect, it } from "vitest";
import { ConfigError } from "@provenance/shared";
import { DEFAULT_RUNNING_LIMIT_SECONDS, readRunningLimitSeconds } from "./config.js";

describe("RECEIPT_RUNNING_LIMIT_SECONDS", () => {
  it("defaults to an hour and reads whole seconds", () => {
    expect(readRunningLimitSeconds({})).toBe(DEFAULT_RUNNING_LIMIT_SECONDS);
    expect(DEFAULT_RUNNING_LIMIT_SECONDS).toBe(3600);
    expect(readRunningLimitSeconds({ RECEIPT_RUNNING_LIMIT_SECONDS: " 600 " })).toBe(600);
  });

  it("refuses what is not a whole number of seconds from 1 to 30 days, naming the variable", () => {
    for (const raw of ["0", "-5", "1.5", "ten", "2592001"]) {
      const attempt = () => readRunningLimitSeconds({ RECEIPT_RUNNING_LIMIT_SECONDS: raw });
      expect(attempt).toThrow(ConfigError);
      expect(attempt).toThrow(/RECEIPT_RUNNING_LIMIT_SECONDS/);
    }
  });
});
