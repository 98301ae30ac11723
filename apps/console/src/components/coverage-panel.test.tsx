// @vitest-environment jsdom
import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { ReceiptStatus } from "@gen/common_pb.js";
import type { GetCoverageRequest } from "@gen/receipts_pb.js";
import { receiptStatusLabel } from "../lib/format.js";
import { fakeClients, inApp } from "../testing/fake-clients.js";
import { ProjectView } from "../views/projects-view.js";
import { ReportView } from "../views/report-view.js";
import { CoveragePanel } from "./coverage-panel.js";
import { SegmentStatus } from "./segment-status.js";

const asked: GetCoverageRequest[] = [];
const clients = () =>
  fakeClients({
    receipts: {
      getCoverage(req) {
        asked.push(req);
        const c = { projectId: "demo-1", segments: 7, complete: 3, legacy: 2, running: 0, runningTooLong: 1, failed: 1, completePercent: (3 / 7) * 100 };
        return { total: { ...c, projectId: "" }, projects: [c], runningLimitSeconds: 3600 };
      },
      listSegments: () => ({ segments: [] }),
    },
  });

afterEach(() => {
  cleanup();
  asked.length = 0;
});

describe("the coverage panel", () => {
  it("shows the project's percentage, numbers, legacy and running-too-long counts from GetCoverage", async () => {
    render(inApp(<CoveragePanel projectId="demo-1" />, { clients: clients(), path: "/", route: "/" }));
    expect((await screen.findByTestId("coverage-percent")).textContent).toBe("42.9%");
    expect(screen.getByTestId("coverage-panel").textContent).toContain("3 of 7 active segments with a complete receipt");
    expect(screen.getByTestId("coverage-legacy").textContent).toBe("2 legacy segments");
    expect(screen.getByTestId("coverage-running-too-long").textContent).toBe("1 running for over 1 h");
    expect(asked.map((r) => r.projectId)).toEqual(["demo-1"]);
  });

  it("says nothing when coverage cannot be read, and leaves the project view as it is", async () => {
    const noCoverage = fakeClients({ receipts: { listSegments: () => ({ segments: [] }) } });
    render(inApp(<ProjectView />, { clients: noCoverage, path: "/projects/p", route: "/projects/:projectId" }));
    await screen.findByText("Project p has no recorded segments.");
    expect(screen.queryByTestId("coverage-panel")).toBeNull();
  });
});

describe("a legacy segment", () => {
  it("is badged Legacy, not Current", async () => {
    render(inApp(<SegmentStatus segmentId="old-1" active status={ReceiptStatus.LEGACY} />, { clients: clients(), path: "/", route: "/" }));
    expect((await screen.findByText("Legacy")).className).toContain("badge-legacy");
    expect(screen.queryByText("Current")).toBeNull();
    expect(receiptStatusLabel(ReceiptStatus.LEGACY)).toBe("Legacy");
  });
});

describe("the staleness report", () => {
  it("names the legacy segments, never stale nor fresh", async () => {
    const withLegacy = fakeClients({
      staleness: {
        getStalenessReport: () => ({ totalActiveSegments: 3, legacySegments: 2 }),
        listStaleSegments: () => ({ segments: [] }),
      },
    });
    render(inApp(<ReportView />, { clients: withLegacy, path: "/report", route: "/report" }));
    expect((await screen.findByTestId("report-totals")).textContent).toContain("2 legacy segments (made before receipts were recorded) are never stale nor fresh.");
  });
});
