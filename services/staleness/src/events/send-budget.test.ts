import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { StalenessDetectedSchema } from "@provenance/shared";
import { SendBudget } from "./send-budget.js";
import { Watcher, type WatchedChange } from "./watcher.js";

const tick = () => new Promise((r) => setImmediate(r));

describe("SendBudget", () => {
  it("grants claims while they fit, then first come first served as bytes are given back", async () => {
    const b = new SendBudget(100);
    const a = b.reserve(60);
    const c = b.reserve(50); // does not fit beside a
    const d = b.reserve(10); // would fit, but waits behind c
    expect([a.granted, c.granted, d.granted]).toEqual([true, false, false]);
    expect(b.bytesHeld).toBe(60);
    expect(b.waiting).toBe(2);
    a.release();
    await c.ready;
    await d.ready;
    expect([c.granted, d.granted]).toEqual([true, true]);
    expect(b.bytesHeld).toBe(60);
    a.release(); // twice: nothing more given back
    expect(b.bytesHeld).toBe(60);
    c.release();
    d.release();
    expect(b.bytesHeld).toBe(0);
    expect(b.waiting).toBe(0);
  });

  it("grants a claim larger than the whole budget once nothing else is held, alone", async () => {
    const b = new SendBudget(100);
    const small = b.reserve(1);
    const big = b.reserve(500);
    expect(big.granted).toBe(false);
    small.release();
    await big.ready;
    expect(big.granted).toBe(true);
    expect(b.bytesHeld).toBe(500);
    const next = b.reserve(1);
    expect(next.granted).toBe(false);
    big.release();
    await next.ready;
    expect(next.granted).toBe(true);
  });

  it("a claim released while waiting leaves the line, settles its wait, and lets those behind it through", async () => {
    const b = new SendBudget(10);
    const a = b.reserve(10);
    const gone = b.reserve(10);
    const behind = b.reserve(5);
    gone.release();
    await gone.ready;
    expect(gone.granted).toBe(false);
    expect(b.waiting).toBe(1);
    a.release();
    await behind.ready;
    expect(behind.granted).toBe(true);
    expect(b.bytesHeld).toBe(5);
  });

  it("refuses a capacity that is not a positive whole number", () => {
    expect(() => new SendBudget(0)).toThrow(RangeError);
    expect(() => new SendBudget(1.5)).toThrow(RangeError);
  });
});

function sized(n: number, bytes: number): WatchedChange {
  return { change: create(StalenessDetectedSchema, { eventId: `e${n}`, projectId: "p" }), encoded: new Uint8Array(bytes) };
}

describe("Watcher under a SendBudget", () => {
  const hooks = { fellBehind: () => {}, ended: () => {} };

  it("hands a change on only while its bytes fit, holds them until the reader asks for the next, and gives them back when the stream ends", async () => {
    const budget = new SendBudget(1000);
    const one = new Watcher("a", ["p"], 8, hooks, { budget, holdLimitMs: 60_000 });
    const two = new Watcher("b", ["p"], 8, hooks, { budget, holdLimitMs: 60_000 });
    const abort = new AbortController();
    const itOne = one.changes(abort.signal);
    const itTwo = two.changes(abort.signal);
    const big = sized(1, 800);
    one.offer(big);
    two.offer(big);
    expect((await itOne.next()).value).toBe(big); // one's change is out for sending: 800 held
    expect(budget.bytesHeld).toBe(800);
    let twoGot: WatchedChange | undefined;
    void itTwo.next().then((r) => (twoGot = r.value as WatchedChange));
    await tick();
    expect(twoGot).toBeUndefined(); // 800 + 800 > 1000: two waits its turn, its change still only a queued reference
    expect(budget.waiting).toBe(1);

    const pending = itOne.next(); // one's reader asks for more: its change was written, its bytes come back
    await tick();
    expect(twoGot).toBe(big);
    expect(budget.bytesHeld).toBe(800);

    two.end(); // the stream ends while its change is out: its bytes come back too
    await tick();
    expect(budget.bytesHeld).toBe(0);
    one.end();
    expect((await pending).done).toBe(true);
  });

  it("a stream ended while it waits for its turn stops waiting, holds nothing, and does not block the line", async () => {
    const budget = new SendBudget(100);
    const hog = budget.reserve(100);
    const w = new Watcher("a", ["p"], 8, hooks, { budget, holdLimitMs: 60_000 });
    const it = w.changes(new AbortController().signal);
    w.offer(sized(1, 150));
    const result = it.next();
    await tick();
    expect(budget.waiting).toBe(1);
    w.end();
    expect((await result).done).toBe(true);
    expect(budget.waiting).toBe(0);
    hog.release();
    expect(budget.bytesHeld).toBe(0);
  });
});
