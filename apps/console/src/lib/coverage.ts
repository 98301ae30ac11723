/** Coverage as people read it: the percentage and the running limit. */
import type { Coverage } from "@gen/receipts_pb.js";

/** "42.9%" (one decimal, none when whole) and the running limit as "1 h" / "30 min" / "45 s". */
export function coverageText(c: Coverage, runningLimitSeconds: number): { percent: string; limit: string } {
  const rounded = Math.round(c.completePercent * 10) / 10;
  const percent = `${Number.isInteger(rounded) ? rounded.toFixed(0) : rounded.toFixed(1)}%`;
  const s = runningLimitSeconds;
  const limit = s % 3600 === 0 ? `${s / 3600} h` : s % 60 === 0 ? `${s / 60} min` : `${s} s`;
  return { percent, limit };
}
