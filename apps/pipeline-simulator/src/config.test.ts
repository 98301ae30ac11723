import { describe, expect, it } from "vitest";
import { ConfigError } from "@provenance/shared";
import { loadSimulatorConfig } from "./config.js";

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadSimulatorConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe("loadSimulatorConfig", () => {
  it("defaults to the local NATS and receipts service, no namespace, info, and spoils nothing", () => {
    expect(loadSimulatorConfig({ SERVICE_TOKEN_FILE: "/run/secrets/provenance/token" })).toEqual({
      natsUrl: "nats://127.0.0.1:4222",
      receiptsUrl: "http://127.0.0.1:7101",
      serviceTokenFile: "/run/secrets/provenance/token",
      eventNamespace: "",
      logLevel: "info",
      failSegmentIds: [],
      failFraction: 0,
      tamperSegmentIds: [],
      tamperFraction: 0,
      generationMs: 0,
      nondeterministic: false,
    });
  });

  it("reads every variable", () => {
    const config = loadSimulatorConfig({
      NATS_URL: "nats://nats.internal:4222",
      RECEIPTS_URL: "https://receipts.internal",
      EVENT_NAMESPACE: "demo_1",
      LOG_LEVEL: "debug",
      SIMULATOR_FAIL_SEGMENTS: " seg-1, ,seg-2 ",
      SIMULATOR_FAIL_FRACTION: "0.25",
      SIMULATOR_TAMPER_SEGMENTS: "seg-3",
      SIMULATOR_TAMPER_FRACTION: "1",
      SIMULATOR_GENERATION_MS: "1500",
      SIMULATOR_NONDETERMINISTIC: "1",
      SERVICE_TOKEN_FILE: "/var/run/secrets/provenance/token",
    });
    expect(config).toEqual({
      natsUrl: "nats://nats.internal:4222",
      receiptsUrl: "https://receipts.internal",
      serviceTokenFile: "/var/run/secrets/provenance/token",
      eventNamespace: "demo_1",
      logLevel: "debug",
      failSegmentIds: ["seg-1", "seg-2"],
      failFraction: 0.25,
      tamperSegmentIds: ["seg-3"],
      tamperFraction: 1,
      generationMs: 1500,
      nondeterministic: true,
    });
  });

  it.each([
    ["NATS_URL", "not a url", "is not a URL"],
    ["NATS_URL", "http://127.0.0.1:4222", "must start with nats://"],
    ["NATS_URL", "memory://local", "in-process bus"],
    ["RECEIPTS_URL", "grpc://receipts:7101", "must start with http://"],
    ["EVENT_NAMESPACE", "Has-Caps", "a-z, 0-9 and _"],
    ["LOG_LEVEL", "loud", "must be one of"],
    ["SIMULATOR_FAIL_FRACTION", "1.5", "from 0 to 1"],
    ["SIMULATOR_TAMPER_FRACTION", "half", "from 0 to 1"],
    ["SIMULATOR_GENERATION_MS", "-5", "whole number of milliseconds"],
    ["SIMULATOR_GENERATION_MS", "12345678", "whole number of milliseconds"],
    ["SIMULATOR_NONDETERMINISTIC", "yes", "must be 0 or 1"],
    ["SERVICE_TOKEN_FILE", " ", "is required"],
  ])("rejects %s=%j naming the variable", (variable, value, says) => {
    const err = errorOf({ SERVICE_TOKEN_FILE: "/run/token", [variable]: value });
    expect(err.variable).toBe(variable);
    expect(err.message).toContain(`${variable}: `);
    expect(err.message).toContain(says);
  });

  it("needs SERVICE_TOKEN_FILE: it calls ReceiptService as itself", () => {
    const err = errorOf({});
    expect(err.variable).toBe("SERVICE_TOKEN_FILE");
    expect(err.message).toContain("SERVICE_TOKEN_FILE: is required");
  });
});
