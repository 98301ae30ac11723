// @vitest-environment jsdom
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { ReceiptSchema, ReceiptStatus } from "@gen/common_pb.js";
import { JobStatus, ReproductionSchema, ReproductionVerdict, type ReproduceSegmentRequest } from "@gen/regeneration_pb.js";
import { ClientsContext } from "../api/clients.js";
import { fakeClients } from "../testing/fake-clients.js";
import { ReproduceAction } from "./reproduce-action.js";

afterEach(cleanup);

const receipt = create(ReceiptSchema, { receiptId: "r-1", projectId: "proj-1", segmentId: "seg-7", status: ReceiptStatus.SUCCEEDED });

describe("Reproduce on a receipt", () => {
  it("starts a reproduction of exactly that receipt and shows the verdict once the pipeline completed it", async () => {
    const asked: ReproduceSegmentRequest[] = [];
    let polls = 0;
    const running = create(ReproductionSchema, { jobId: "job-1", receiptId: "r-1", status: JobStatus.SUBMITTED, summary: "waiting for the pipeline to record the reproduction" });
    const clients = fakeClients({
      regeneration: {
        reproduceSegment: (req) => {
          asked.push(req);
          return { reproduction: running, created: true };
        },
        getReproduction: () => {
          polls += 1;
          return polls < 2
            ? { reproduction: running }
            : {
                reproduction: create(ReproductionSchema, {
                  ...running,
                  status: JobStatus.SUCCEEDED,
                  verdict: ReproductionVerdict.OUTPUT_DIFFERS,
                  summary: "output differs: same inputs hash, output hash 333333333333 instead of 222222222222: the pipeline is not deterministic",
                  completedAt: timestampFromDate(new Date()),
                }),
              };
        },
      },
    });
    render(
      <ClientsContext.Provider value={clients}>
        <ReproduceAction receipt={receipt} pollMs={10} />
      </ClientsContext.Provider>,
    );
    fireEvent.click(screen.getByRole("button", { name: "Reproduce" }));
    const verdict = await screen.findByTestId("reproduction-verdict");
    expect(verdict.textContent).toBe("output differs same inputs hash, output hash 333333333333 instead of 222222222222: the pipeline is not deterministic");
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatchObject({ projectId: "proj-1", receiptId: "r-1", segmentId: "" });
    expect(asked[0]!.idempotencyKey).toMatch(/^console-reproduce-/);
  });

  it("is not offered for a receipt that did not succeed", () => {
    render(
      <ClientsContext.Provider value={fakeClients({})}>
        <ReproduceAction receipt={create(ReceiptSchema, { ...receipt, status: ReceiptStatus.RUNNING })} />
      </ClientsContext.Provider>,
    );
    expect(screen.queryByRole("button", { name: "Reproduce" })).toBeNull();
  });
});
