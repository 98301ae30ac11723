import { describe, expect, it } from "vitest";
import { runningReceipt } from "../../test/receipt-fixtures.js";
import type { ReceiptRecord } from "../domain/receipt-record.js";
import { WrittenReceipts } from "./written-receipts.js";

const receipt = (id: string, status: ReceiptRecord["status"] = "RUNNING"): ReceiptRecord => ({ ...runningReceipt(), receiptId: id, status });

describe("the receipts a process wrote, kept for its log integrator", () => {
  it("keeps nothing until its integrator holds the writer's lock, and forgets everything when it loses it", () => {
    const w = new WrittenReceipts();
    w.remember([receipt("a")]);
    expect(w.created("a")).toBeUndefined();
    w.keep(true);
    w.remember([receipt("a")]);
    expect(w.created("a")?.receiptId).toBe("a");
    w.keep(false);
    expect(w.size).toBe(0);
    w.remember([receipt("b")]);
    expect(w.created("b")).toBeUndefined();
  });

  it("answers a completed leaf only from a completion it wrote, never from the receipt as created", () => {
    const w = new WrittenReceipts();
    w.keep(true);
    w.remember([receipt("a")]);
    expect(w.created("a")).toBeDefined();
    expect(w.completed("a")).toBeUndefined();
    w.remember([receipt("a", "SUCCEEDED")]);
    expect(w.completed("a")?.status).toBe("SUCCEEDED");
    expect(w.created("a")?.status).toBe("SUCCEEDED");
  });

  it("drops, once a tick took everything queued, what was remembered before that tick began", () => {
    const w = new WrittenReceipts();
    w.keep(true);
    w.remember([receipt("a"), receipt("b")]);
    const tick = w.beginTick();
    w.remember([receipt("c")]); // committed after the tick read the queue: the next tick needs it
    w.remember([receipt("a", "SUCCEEDED")]); // completed meanwhile: remembered again, kept too
    w.settle(tick);
    expect(w.created("b")).toBeUndefined();
    expect(w.created("c")?.receiptId).toBe("c");
    expect(w.completed("a")?.status).toBe("SUCCEEDED");
    w.settle(w.beginTick());
    expect(w.size).toBe(0);
  });

  it("holds at most its capacity, dropping the least recently written", () => {
    const w = new WrittenReceipts(3);
    w.keep(true);
    w.remember(["a", "b", "c"].map((id) => receipt(id)));
    w.remember([receipt("a", "FAILED")]); // written again: the most recent now
    w.remember([receipt("d")]);
    expect(w.size).toBe(3);
    expect(w.created("b")).toBeUndefined();
    expect(["a", "c", "d"].map((id) => w.created(id)?.receiptId)).toEqual(["a", "c", "d"]);
  });
});
