/** The one orange warning icon every stale segment carries, with its reasons on hover. */
import type { StalenessReason } from "@gen/common_pb.js";
import { kindLabel } from "../lib/format.js";

/** One reason as a sentence: "LoRA anna_lora: made with v1, current is v2". */
export function reasonText(r: StalenessReason): string {
  const name = r.assetName || r.assetId;
  const made = r.receiptVersion ? `v${r.receiptVersion}` : "an unknown version";
  return `${kindLabel(r.kind)} ${name}: made with ${made}, current is v${r.currentVersion}`;
}

/** The warning icon; hovering (or focusing) it shows every reason. */
export function StaleIcon({ reasons }: { reasons: readonly StalenessReason[] }) {
  const text = `Stale — ${reasons.map(reasonText).join("; ")}`;
  return (
    <span className="stale-icon" title={text} aria-label={text} role="img" tabIndex={0} data-testid="stale-icon">
      <svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true">
        <path d="M8 1.2 15.2 14H.8Z" fill="#f08c00" stroke="#c76b00" strokeWidth="0.8" strokeLinejoin="round" />
        <rect x="7.2" y="5.4" width="1.6" height="4.8" rx="0.6" fill="#fff" />
        <circle cx="8" cy="12" r="0.95" fill="#fff" />
      </svg>
      <span className="stale-tooltip" aria-hidden="true">
        <strong>Stale</strong>
        {reasons.map((r, i) => (
          <span key={i}>{reasonText(r)}</span>
        ))}
      </span>
    </span>
  );
}
