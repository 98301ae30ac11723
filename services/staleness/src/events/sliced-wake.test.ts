import { describe, expect, it } from "vitest";
import { SlicedWake } from "./sliced-wake.js";

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin: stands for a stream encoding and writing its change
  }
}

function drained(s: SlicedWake): Promise<void> {
  return new Promise<void>((resolve) => {
    const check = () => (s.pending === 0 ? resolve() : setTimeout(check, 2));
    check();
  });
}

describe("SlicedWake", () => {
  it("runs every wake-up once, each change's in order", async () => {
    const s = new SlicedWake();
    const ran: number[] = [];
    s.add(Array.from({ length: 5000 }, (_, i) => () => ran.push(i)));
    await drained(s);
    expect(ran).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  });

  it("lets the event loop run between slices: a timer due in 1 ms fires long before 2,000 costly wake-ups are done", async () => {
    const s = new SlicedWake();
    let done = 0;
    s.add(
      Array.from({ length: 2000 }, () => () => {
        busy(0.1);
        done++;
      }),
    );
    const at = await new Promise<number>((resolve) => setTimeout(() => resolve(done), 1));
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThan(500);
    await drained(s);
    expect(done).toBe(2000);
  });

  it("does not queue one change's stream behind another change's thousands", async () => {
    const s = new SlicedWake();
    let crowd = 0;
    let crowdWhenQuietRan = -1;
    s.add(
      Array.from({ length: 2000 }, () => () => {
        busy(0.05);
        crowd++;
      }),
    );
    await new Promise((r) => setImmediate(r));
    s.add([() => (crowdWhenQuietRan = crowd)]);
    await drained(s);
    expect(crowd).toBe(2000);
    expect(crowdWhenQuietRan).toBeGreaterThan(0);
    expect(crowdWhenQuietRan).toBeLessThan(200);
  });

  it("drops what is queued on clear", async () => {
    const s = new SlicedWake();
    let ran = 0;
    s.add(Array.from({ length: 10 }, () => () => ran++));
    s.clear();
    await new Promise((r) => setTimeout(r, 5));
    expect(ran).toBe(0);
    expect(s.pending).toBe(0);
  });
});
