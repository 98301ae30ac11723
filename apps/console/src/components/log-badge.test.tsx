// @vitest-environment jsdom
import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ClientsContext } from "../api/clients.js";
import type { LogVerdict } from "../api/receipt-log.js";
import { fakeClients } from "../testing/fake-clients.js";
import { LogBadge } from "./log-badge.js";

afterEach(cleanup);

function renderWith(verdict: LogVerdict | Error) {
  const receiptLog = vi.fn(async () => {
    if (verdict instanceof Error) throw verdict;
    return verdict;
  });
  render(
    <ClientsContext.Provider value={{ ...fakeClients({}), receiptLog }}>
      <LogBadge receiptId="r-1" />
    </ClientsContext.Provider>,
  );
  return receiptLog;
}

describe("LogBadge", () => {
  it("is green with the checkpoint when the receipt verified in the log", async () => {
    const check = renderWith({ state: "verified", receiptId: "r-1", checkpointSize: 42, origin: "o", key: "o+0a0b0c0d", keySource: "configured", reasons: [] });
    const badge = await screen.findByText("verified in log at checkpoint 42");
    expect(badge.className).toContain("badge-log-verified");
    expect(badge.getAttribute("title")).toBe("o, key o+0a0b0c0d");
    expect(check).toHaveBeenCalledWith("r-1", expect.any(AbortSignal));
  });

  it("is red with every reason when it does not match", async () => {
    renderWith({ state: "mismatch", receiptId: "r-1", reasons: ["the inputs hash recomputed … differs", "no receipt.completed leaf"] });
    const badge = await screen.findByText("does not match the receipt log");
    expect(badge.className).toContain("badge-log-mismatch");
    expect(screen.getByRole("alert").textContent).toContain("no receipt.completed leaf");
    expect(screen.getAllByRole("listitem")).toHaveLength(2);
  });

  it("says when the log could not be checked, and shows nothing without a log check", async () => {
    renderWith({ state: "unchecked", receiptId: "r-1", reasons: ["GetReceipt: receipt r-1 not found"] });
    expect((await screen.findByText(/^receipt log not checked: GetReceipt/)).className).toContain("badge-log-unchecked");
    cleanup();
    renderWith(new Error("network down"));
    expect((await screen.findByText("receipt log not checked")).getAttribute("title")).toBe("network down");
    cleanup();
    const { container } = render(<LogBadge receiptId="r-1" />);
    expect(container.innerHTML).toBe("");
  });
});
