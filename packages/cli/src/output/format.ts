/** Formatting of values for human output: hashes, durations, times, enums. */
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";

/** Characters of a content hash shown in human output. */
export const SHORT_HASH_LENGTH = 12;

/** The first 12 characters of a hash, or "—" when there is none. */
export function shortHash(hash: string | undefined): string {
  if (!hash) return "—";
  return hash.slice(0, SHORT_HASH_LENGTH);
}

/** A duration in ms as people read it: "850ms", "12.4s", "3m 05s", "2h 01m". */
export function formatDuration(ms: number | bigint | undefined): string {
  if (ms === undefined) return "—";
  const n = Number(ms);
  if (!Number.isFinite(n) || n < 0) return "—";
  if (n < 1000) return `${Math.round(n)}ms`;
  if (n < 60_000) return `${(n / 1000).toFixed(1)}s`;
  const totalSeconds = Math.round(n / 1000);
  if (totalSeconds < 3600) {
    return `${Math.floor(totalSeconds / 60)}m ${String(totalSeconds % 60).padStart(2, "0")}s`;
  }
  const totalMinutes = Math.floor(totalSeconds / 60);
  return `${Math.floor(totalMinutes / 60)}h ${String(totalMinutes % 60).padStart(2, "0")}m`;
}

/** A timestamp as "2026-11-21 10:00:00Z" (UTC, to the second), or "—" when unset. */
export function formatTime(ts: Timestamp | undefined): string {
  if (!ts) return "—";
  return timestampDate(ts).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

/** An enum value as a kebab-case label: AssetKind.SOURCE_IMAGE → "source-image", UNSPECIFIED → "—". */
export function enumLabel(enumObject: { readonly [value: number]: string }, value: number): string {
  const name = enumObject[value];
  if (name === undefined) return String(value);
  if (name === "UNSPECIFIED") return "—";
  return name.toLowerCase().replaceAll("_", "-");
}

/** A number without trailing zeros: 0.8, 7, 6.5. */
export function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Number(n.toFixed(4)));
}

/** "v3", or "—" for 0 (not given). */
export function formatVersion(version: number | undefined): string {
  return version ? `v${version}` : "—";
}
