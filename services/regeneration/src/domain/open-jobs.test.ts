import { describe, expect, it } from "vitest";
import type { JobStatusName, ReceiptStatusName } from "./job-progress.js";
import {
  heldBackStatus,
  holdersBySegment,
  holdsSegment,
  isOpenStatus,
  nothingToRegenerateMessage,
  openJobConflictMessage,
  segmentsHeldMessage,
  type SegmentJob,
} from "./open-jobs.js";

const job = (jobId: string, oldSegmentId: string, status: JobStatusName, receiptStatus: ReceiptStatusName | null): SegmentJob => ({
  jobId,
  batchId: `b-${jobId}`,
  oldSegmentId,
  status,
  receiptStatus,
});

describe("which jobs hold their segment", () => {
  it("every job until its receipt completes FAILED", () => {
    expect(holdsSegment(job("j", "s", "submitted", null))).toBe(true);
    expect(holdsSegment(job("j", "s", "running", "RUNNING"))).toBe(true);
    expect(holdsSegment(job("j", "s", "succeeded", "SUCCEEDED"))).toBe(true);
    expect(holdsSegment(job("j", "s", "inputs_mismatch", "RUNNING"))).toBe(true);
    expect(holdsSegment(job("j", "s", "inputs_mismatch", "SUCCEEDED"))).toBe(true);
    expect(holdsSegment(job("j", "s", "inputs_mismatch", "FAILED"))).toBe(false);
    expect(holdsSegment(job("j", "s", "failed", "FAILED"))).toBe(false);
  });

  it("open means submitted or running, the statuses the unique index covers", () => {
    expect((["submitted", "running", "succeeded", "failed", "inputs_mismatch"] as const).filter(isOpenStatus)).toEqual(["submitted", "running"]);
  });

  it("names one holder per segment, an open one when there are several, and none for failed jobs", () => {
    const holders = holdersBySegment([
      job("old", "s1", "succeeded", "SUCCEEDED"),
      job("open", "s1", "submitted", null),
      job("done", "s1", "succeeded", "SUCCEEDED"),
      job("gone", "s2", "failed", "FAILED"),
      job("mm", "s3", "inputs_mismatch", "RUNNING"),
    ]);
    expect([...holders].map(([s, j]) => [s, j.jobId])).toEqual([
      ["s1", "open"],
      ["s3", "mm"],
    ]);
  });
});

describe("a failed job re-opened by a retried receipt", () => {
  const other = job("newer", "s", "submitted", null);
  it("keeps its status while another job of its segment is open", () => {
    expect(heldBackStatus("running", "failed", other)).toEqual({ status: "failed", heldBy: other });
    expect(heldBackStatus("running", "inputs_mismatch", other)).toEqual({ status: "inputs_mismatch", heldBy: other });
  });

  it("follows its receipt otherwise", () => {
    expect(heldBackStatus("running", "failed", undefined)).toEqual({ status: "running" });
    expect(heldBackStatus("succeeded", "failed", other)).toEqual({ status: "succeeded" });
    expect(heldBackStatus("running", "submitted", other)).toEqual({ status: "running" });
  });
});

describe("refusals", () => {
  it("name the segments and their jobs, at most five", () => {
    const held = Array.from({ length: 7 }, (_, i) => job(`j${i}`, `seg-${i}`, "running", "RUNNING"));
    const one = segmentsHeldMessage(held.slice(0, 1));
    expect(one).toContain('a regeneration job already exists for segment "seg-0" (regeneration job j0, running)');
    expect(one).toContain("nothing of this submission was written");
    const many = segmentsHeldMessage(held);
    expect(many).toContain('segment "seg-4"');
    expect(many).not.toContain('segment "seg-5"');
    expect(many).toContain("and 2 more");
  });

  it("say which segment the database refused, or that one was", () => {
    expect(openJobConflictMessage("seg-9")).toContain('segment "seg-9" already has a regeneration job submitted or running');
    expect(openJobConflictMessage(undefined)).toContain("a selected segment already has");
  });

  it("of a selection with nothing to do name the held segments, if any", () => {
    expect(nothingToRegenerateMessage("p", [])).toBe('nothing to regenerate: no stale active segment of project "p" matches the selection');
    expect(nothingToRegenerateMessage("p", [job("j", "s", "succeeded", "SUCCEEDED")])).toContain('jobs exist for segment "s" (regeneration job j, succeeded)');
  });
});
