import { describe, expect, it } from "vitest";
import { SlicedWake } from "./sliced-wake.js";

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin: stands for a stream encoding and writing its change
  }
}

describe("SlicedWake", () => {
  it("runs every wake-up once, in order", async () => {
    const s = new SlicedWake();
    const ran: number[] = [];
    for (let i = 0; i < 5000; i++) s.add(() => ran.push(i));
    await new Promise<void>((resolve) => {
      const check = () => (s.pending === 0 ? resolve() : setImmediate(check));
      check();
    });
    expect(ran).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  });

  it("lets the event loop run between slices: a timer due in 1 ms fires long before 2,000 costly wake-ups are done", async () => {
    const s = new SlicedWake();
    let done = 0;
    for (let i = 0; i < 2000; i++) {
      s.add(() => {
        busy(0.1);
        done++;
      });
    }
    const at = await new Promise<number>((resolve) => setTimeout(() => resolve(done), 1));
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThan(500);
    await new Promise<void>((resolve) => {
      const check = () => (s.pending === 0 ? resolve() : setTimeout(check, 5));
      check();
    });
    expect(done).toBe(2000);
  });

  it("drops what is queued on clear", async () => {
    const s = new SlicedWake();
    let ran = 0;
    for (let i = 0; i < 10; i++) s.add(() => ran++);
    s.clear();
    await new Promise((r) => setTimeout(r, 5));
    expect(ran).toBe(0);
    expect(s.pending).toBe(0);
  });
});
