/** Latency percentiles, and the closed-loop and fixed-rate drivers every measurement runs through. */
import { performance } from "node:perf_hooks";

/** Percentiles of one measured operation, in milliseconds. */
export interface LatencyStats {
  calls: number;
  concurrency: number;
  errors: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  max: number;
  /** Completed calls per second over the measured window. */
  throughput: number;
}

/** Rounds to 3 significant decimals for readable JSON. */
function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** Summarises latencies (ms) measured over `windowMs`. */
export function summarise(latencies: number[], concurrency: number, errors: number, windowMs: number): LatencyStats {
  const sorted = [...latencies].sort((a, b) => a - b);
  const mean = sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length);
  return {
    calls: sorted.length,
    concurrency,
    errors,
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    mean: round(mean),
    max: round(sorted.at(-1) ?? Number.NaN),
    throughput: round((sorted.length / Math.max(1, windowMs)) * 1000),
  };
}

/** How many calls, after how many warm-up calls, with how many in flight. */
export interface ClosedLoopPlan {
  warmup: number;
  calls: number;
  concurrency: number;
}

/**
 * Runs `call(i)` `warmup` times unmeasured, then `calls` times measured, always with `concurrency` in flight
 * (closed loop: each worker starts its next call when the previous ends). Errors are counted, not timed.
 */
export async function measureClosedLoop(plan: ClosedLoopPlan, call: (i: number) => Promise<unknown>): Promise<LatencyStats> {
  const run = async (total: number, offset: number, record: boolean) => {
    const latencies: number[] = [];
    let errors = 0;
    let next = 0;
    let firstError: unknown;
    const worker = async () => {
      while (next < total) {
        const i = offset + next++;
        const t0 = performance.now();
        try {
          await call(i);
          if (record) latencies.push(performance.now() - t0);
        } catch (err) {
          errors += 1;
          firstError ??= err;
        }
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: Math.max(1, Math.min(plan.concurrency, total)) }, worker));
    const windowMs = performance.now() - t0;
    if (errors > 0 && errors === total) throw new Error(`every call failed: ${String(firstError)}`, { cause: firstError });
    return { latencies, errors, windowMs };
  };
  await run(plan.warmup, 0, false);
  const { latencies, errors, windowMs } = await run(plan.calls, plan.warmup, true);
  return summarise(latencies, plan.concurrency, errors, windowMs);
}

/** Latency at a fixed offered rate, measured from each call's scheduled start (no coordinated omission). */
export interface RateStats extends LatencyStats {
  offeredPerSecond: number;
  achievedPerSecond: number;
}

/** Starts `call(i)` at `rate` per second for `seconds`, open loop, and reports latency from the scheduled time. */
export async function measureAtRate(rate: number, seconds: number, call: (i: number) => Promise<unknown>): Promise<RateStats> {
  const total = Math.max(1, Math.round(rate * seconds));
  const latencies: number[] = [];
  let errors = 0;
  let maxInFlight = 0;
  let inFlight = 0;
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    const scheduled = t0 + (i * 1000) / rate;
    const wait = scheduled - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    pending.push(
      call(i).then(
        () => {
          latencies.push(performance.now() - scheduled);
          inFlight -= 1;
        },
        () => {
          errors += 1;
          inFlight -= 1;
        },
      ),
    );
  }
  await Promise.all(pending);
  const windowMs = performance.now() - t0;
  const stats = summarise(latencies, maxInFlight, errors, windowMs);
  return { ...stats, offeredPerSecond: rate, achievedPerSecond: round((latencies.length / windowMs) * 1000) };
}
