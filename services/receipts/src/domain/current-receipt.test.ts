import { describe, expect, it } from "vitest";
import { runningReceipt } from "../../test/receipt-fixtures.js";
import { currentReceiptOf } from "./current-receipt.js";

describe("a segment's current receipt", () => {
  it("is its latest SUCCEEDED receipt; RUNNING and FAILED ones never replace it", () => {
    const old = { ...runningReceipt(), status: "SUCCEEDED" as const };
    const newer = { ...runningReceipt(), status: "SUCCEEDED" as const };
    const failed = { ...runningReceipt(), status: "FAILED" as const };
    const running = runningReceipt();
    expect(currentReceiptOf([running, failed, newer, old])).toBe(newer);
    expect(currentReceiptOf([running, failed])).toBeUndefined();
    expect(currentReceiptOf([])).toBeUndefined();
  });
});
