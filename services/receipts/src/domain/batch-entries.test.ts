import { describe, expect, it } from "vitest";
import { thrownBy } from "../../test/receipt-fixtures.js";
import { batchEntry, requireDistinct, singleCall } from "./batch-entries.js";

describe("batch entries", () => {
  it("names a batch entry receipts[i]. and a single call's fields as they are", () => {
    expect(batchEntry(3)).toBe("receipts[3].");
    expect(singleCall(3)).toBe("");
  });

  it("accepts distinct keys and rejects a repeat naming the later entry and the earlier one", () => {
    expect(() => requireDistinct(["a", "b", "c"], "idempotency_key")).not.toThrow();
    const err = thrownBy(() => requireDistinct(["a", "b", "a", "b"], "idempotency_key"));
    expect(err.code).toBe("invalid_argument");
    expect(err.field).toBe("receipts[2].idempotency_key");
    expect(err.message).toContain("repeats receipts[0].idempotency_key");
  });
});
