// @vitest-environment jsdom
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AssetVersionSchema } from "@gen/assets_pb.js";
import { VersionTimeline } from "./version-timeline.js";

const versions = [1, 2, 3].map((v) =>
  create(AssetVersionSchema, {
    assetId: "lora-anna",
    version: v,
    contentHash: String(v).repeat(64),
    uploadedBy: v === 3 ? "mira@studio.example" : "creator@studio.example",
    note: v === 2 ? "retrained on the new turnaround sheet" : "",
    createdAt: timestampFromDate(new Date(Date.UTC(2026, 10, v, 9, 30))),
    isCurrent: v === 2,
    previousVersion: v - 1,
    usageCount: [12, 5, 0][v - 1],
  }),
);

afterEach(cleanup);

describe("VersionTimeline", () => {
  function renderTimeline(onMakeCurrent = vi.fn(), selectedVersion?: number) {
    render(
      <MemoryRouter>
        <VersionTimeline assetId="lora-anna" versions={versions} selectedVersion={selectedVersion} onMakeCurrent={onMakeCurrent} />
      </MemoryRouter>,
    );
    return onMakeCurrent;
  }

  it("lists versions newest first with time, uploader, note and usage count", () => {
    renderTimeline();
    const items = screen.getAllByRole("listitem");
    expect(items.map((i) => within(i).getByRole("link", { name: /^Version/ }).textContent)).toEqual(["Version 3", "Version 2", "Version 1"]);
    const v2 = screen.getByTestId("version-2");
    expect(within(v2).getByText("creator@studio.example")).toBeTruthy();
    expect(within(v2).getByText("“retrained on the new turnaround sheet”")).toBeTruthy();
    expect(within(v2).getByText(/2026/)).toBeTruthy();
    expect(within(screen.getByTestId("version-1")).getByRole("link", { name: "Used by 12 segments" }).getAttribute("href")).toBe("/assets/lora-anna/versions/1");
    expect(within(screen.getByTestId("version-3")).getByText("No note.")).toBeTruthy();
  });

  it("marks the current version, and offers a rollback or promotion on the others only", () => {
    const onMakeCurrent = renderTimeline(vi.fn(), 1);
    const current = screen.getByTestId("version-2");
    expect(current.getAttribute("aria-current")).toBe("true");
    expect(within(current).getByText("Current")).toBeTruthy();
    expect(within(current).queryByRole("button", { name: /Roll back|Make/ })).toBeNull();
    expect(screen.getByTestId("version-1").className).toContain("selected");
    fireEvent.click(screen.getByRole("button", { name: "Roll back to v1" }));
    expect(onMakeCurrent).toHaveBeenCalledWith(versions[0]);
    expect(screen.getByRole("button", { name: "Make v3 current" })).toBeTruthy();
  });
});
