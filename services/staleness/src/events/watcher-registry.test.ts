import { describe, expect, it } from "vitest";
import { WatchLimitReached } from "../domain/watch-bounds.js";
import { Watcher } from "./watcher.js";
import { WatcherRegistry } from "./watcher-registry.js";

const hooks = { fellBehind: () => undefined, ended: () => undefined };
const watcher = (caller: string, projects?: string[]) => new Watcher(caller, projects, 4, hooks);

describe("WatcherRegistry", () => {
  it("routes a project's change to that project's watchers and to those of every project, and to no one else", () => {
    const r = new WatcherRegistry({ queueLength: 4, maxStreamsPerCaller: 10, maxStreams: 10, maxBufferedBytes: 32 << 20 });
    const a1 = watcher("x", ["a"]);
    const a2 = watcher("y", ["a", "b"]);
    const b = watcher("x", ["b"]);
    const all = watcher("z");
    for (const w of [a1, a2, b, all]) r.add(w);
    expect([...r.routesOf("a")]).toEqual([a1, a2, all]);
    expect([...r.routesOf("b")]).toEqual([a2, b, all]);
    expect([...r.routesOf("c")]).toEqual([all]);
    expect(r.size).toBe(4);
  });

  it("counts slots per caller and in total, refuses past either bound, and frees a slot on remove (once)", () => {
    const r = new WatcherRegistry({ queueLength: 4, maxStreamsPerCaller: 2, maxStreams: 3, maxBufferedBytes: 32 << 20 });
    const x1 = watcher("x", ["a"]);
    r.add(x1);
    r.add(watcher("x", ["a"]));
    expect(() => r.add(watcher("x", ["a"]))).toThrow(WatchLimitReached);
    r.add(watcher("y"));
    const refused = (() => {
      try {
        r.add(watcher("z", ["a"]));
      } catch (e) {
        return e as WatchLimitReached;
      }
    })();
    expect(refused?.bound).toBe("maxStreams");
    r.remove(x1);
    r.remove(x1);
    expect(r.size).toBe(2);
    r.add(watcher("x", ["a"]));
    expect(r.size).toBe(3);
  });

  it("stops routing to an unrouted watcher while it keeps its slot", () => {
    const r = new WatcherRegistry({ queueLength: 4, maxStreamsPerCaller: 1, maxStreams: 10, maxBufferedBytes: 32 << 20 });
    const w = watcher("x", ["a"]);
    r.add(w);
    r.unroute(w);
    expect([...r.routesOf("a")]).toEqual([]);
    expect(r.size).toBe(1);
    expect(() => r.add(watcher("x", ["b"]))).toThrow(WatchLimitReached);
    r.remove(w);
    expect(r.size).toBe(0);
    r.add(watcher("x", ["b"]));
  });
});
