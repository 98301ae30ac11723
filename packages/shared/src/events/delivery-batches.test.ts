import { describe, expect, it } from "vitest";
import { batchesOf } from "./delivery-batches.js";

/** A source the test feeds by hand; it ends (or fails) when told. */
function manualSource<T>() {
  const items: T[] = [];
  let wake: (() => void) | undefined;
  let end: { err?: unknown } | undefined;
  let reads = 0;
  const source: AsyncIterable<T> = {
    async *[Symbol.asyncIterator]() {
      for (;;) {
        if (items.length > 0) {
          reads += 1;
          yield items.shift()!;
          continue;
        }
        if (end) {
          if (end.err) throw end.err;
          return;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    },
  };
  const poke = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  return {
    source,
    push: (...xs: T[]) => {
      items.push(...xs);
      poke();
    },
    end: (err?: unknown) => {
      end = { err };
      poke();
    },
    reads: () => reads,
  };
}

async function collect<T>(it: AsyncIterable<T[]>): Promise<T[][]> {
  const out: T[][] = [];
  for await (const b of it) out.push(b);
  return out;
}

describe("batchesOf", () => {
  it("yields every item once, in order, in batches of at most `size`", async () => {
    const src = manualSource<number>();
    const all = Array.from({ length: 1_234 }, (_, i) => i);
    src.push(...all);
    src.end();
    const batches = await collect(batchesOf(src.source, { size: 100, maxWaitMs: 60_000 }));
    expect(batches.flat()).toEqual(all);
    expect(batches.every((b) => b.length >= 1 && b.length <= 100)).toBe(true);
    // A backlog fills whole batches.
    expect(batches.filter((b) => b.length === 100)).toHaveLength(12);
  });

  it("hands over a lone item without waiting for a full batch", async () => {
    const src = manualSource<string>();
    const it = batchesOf(src.source, { size: 500, maxWaitMs: 1 })[Symbol.asyncIterator]();
    src.push("only");
    expect(await it.next()).toEqual({ done: false, value: ["only"] });
    src.push("next");
    expect(await it.next()).toEqual({ done: false, value: ["next"] });
    src.end();
    expect((await it.next()).done).toBe(true);
  });

  it("reads ahead by one batch while the caller works, and no further", async () => {
    const src = manualSource<number>();
    src.push(...Array.from({ length: 50 }, (_, i) => i));
    const it = batchesOf(src.source, { size: 10, maxWaitMs: 1_000 })[Symbol.asyncIterator]();
    expect((await it.next()).value).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // While the caller holds the first batch, the second fills and the source is not read beyond it.
    await new Promise((r) => setTimeout(r, 20));
    expect(src.reads()).toBe(20);
    expect((await it.next()).value).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    src.end();
    expect((await collect({ [Symbol.asyncIterator]: () => it })).flat()).toHaveLength(30);
  });

  it("yields what it read before the source failed, then throws the source's error", async () => {
    const src = manualSource<number>();
    src.push(1, 2, 3);
    src.end(new Error("connection lost"));
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const b of batchesOf(src.source, { size: 10, maxWaitMs: 1 })) seen.push(...b);
      })(),
    ).rejects.toThrow("connection lost");
    expect(seen).toEqual([1, 2, 3]);
  });
});
