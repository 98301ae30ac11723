import { describe, expect, it } from "vitest";
import { stalenessDetectedSubject } from "@provenance/shared";

/** The subject this service publishes each project's staleness changes on (the shared catalog's, named by ARCHITECTURE.md). */
describe("stalenessDetectedSubject", () => {
  it("uses the project id as the last token, escaping what NATS cannot carry", () => {
    expect(stalenessDetectedSubject("project-1")).toBe("provenance.staleness.detected.project-1");
    expect(stalenessDetectedSubject("a.b*c")).toBe("provenance.staleness.detected.a%2Eb%2Ac");
  });
});
