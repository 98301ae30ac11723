import { describe, expect, it } from "vitest";
import { NO_PROGRESS, applyReceipt, jobStatusOf, type JobProgress, type ReceiptObservation } from "./job-progress.js";

const expected = "a".repeat(64);
const created: ReceiptObservation = { receiptId: "r-1", createdAt: new Date(1000), inputsHash: expected, status: "RUNNING", completedAt: null };
const succeeded: ReceiptObservation = { ...created, status: "SUCCEEDED", completedAt: new Date(2000) };
const failed: ReceiptObservation = { ...created, status: "FAILED", completedAt: new Date(2000) };

function run(events: ReceiptObservation[]): JobProgress {
  return events.reduce((p, e) => applyReceipt(p, e) ?? p, NO_PROGRESS);
}

describe("job lifecycle", () => {
  it("goes submitted → running → succeeded", () => {
    expect(jobStatusOf(expected, NO_PROGRESS)).toBe("submitted");
    expect(jobStatusOf(expected, run([created]))).toBe("running");
    expect(jobStatusOf(expected, run([created, succeeded]))).toBe("succeeded");
    expect(jobStatusOf(expected, run([created, failed]))).toBe("failed");
  });

  it("does not depend on order or repetition", () => {
    expect(run([succeeded, created])).toEqual(run([created, succeeded]));
    expect(run([created, succeeded, created, succeeded])).toEqual(run([created, succeeded]));
    expect(applyReceipt(run([succeeded]), created)).toBeUndefined();
  });

  it("marks an inputs mismatch whatever the completion", () => {
    const other = { ...created, inputsHash: "b".repeat(64) };
    expect(jobStatusOf(expected, run([other]))).toBe("inputs_mismatch");
    expect(jobStatusOf(expected, run([other, { ...other, status: "SUCCEEDED", completedAt: new Date(2) }]))).toBe("inputs_mismatch");
  });

  it("follows a newer receipt after a failure but never replaces a success", () => {
    const retry: ReceiptObservation = { ...created, receiptId: "r-2", createdAt: new Date(5000) };
    expect(jobStatusOf(expected, run([failed, retry]))).toBe("running");
    expect(run([failed, retry, failed]).newReceiptId).toBe("r-2");
    expect(run([succeeded, retry]).newReceiptId).toBe("r-1");
  });
});
