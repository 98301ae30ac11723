import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { StalenessDetectedSchema } from "@provenance/shared";
import { WatchLimitReached } from "../domain/watch-bounds.js";
import { Watcher, type WatchedChange } from "./watcher.js";

function change(n: number): WatchedChange {
  return { change: create(StalenessDetectedSchema, { eventId: `e${n}`, projectId: "p" }), encoded: new Uint8Array() };
}

function watcherOf(capacity: number) {
  const seen = { behind: 0, ended: 0 };
  const w = new Watcher("caller", ["p"], capacity, { fellBehind: () => seen.behind++, ended: () => seen.ended++ });
  return { w, seen };
}

describe("Watcher", () => {
  it("hands the reader what was offered, oldest first, each change the very object offered", async () => {
    const { w } = watcherOf(4);
    const abort = new AbortController();
    const it = w.changes(abort.signal);
    const a = change(1);
    const b = change(2);
    expect(w.offer(a)).toBeUndefined(); // nobody waiting yet
    w.offer(b);
    expect((await it.next()).value).toBe(a);
    expect((await it.next()).value).toBe(b);
    const pending = it.next();
    await new Promise((r) => setImmediate(r));
    const c = change(3);
    const wake = w.offer(c);
    expect(wake).toBeTypeOf("function");
    wake!();
    expect((await pending).value).toBe(c);
  });

  it("when one more change than its queue holds arrives: drops the queue, tells the hub once, and ends the stream with the error", async () => {
    const { w, seen } = watcherOf(2);
    const it = w.changes(new AbortController().signal);
    w.offer(change(1));
    w.offer(change(2));
    expect(seen.behind).toBe(0);
    w.offer(change(3));
    expect(seen.behind).toBe(1);
    expect(w.isBehind).toBe(true);
    expect(w.offer(change(4))).toBeUndefined();
    expect(seen.behind).toBe(1);
    const err = await it.next().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WatchLimitReached);
    expect((err as WatchLimitReached).bound).toBe("queueLength");
    expect(seen.ended).toBe(1);
  });

  it("ends where it waits when told to, and reports the end once", async () => {
    const { w, seen } = watcherOf(2);
    const it = w.changes(new AbortController().signal);
    const pending = it.next();
    await new Promise((r) => setImmediate(r));
    w.end();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(seen.ended).toBe(1);
    expect(w.offer(change(1))).toBeUndefined();
  });

  it("reports the end when its reader stops reading (return)", async () => {
    const { w, seen } = watcherOf(2);
    const it = w.changes(new AbortController().signal);
    w.offer(change(1));
    await it.next();
    await it.return(undefined);
    expect(seen.ended).toBe(1);
  });
});
