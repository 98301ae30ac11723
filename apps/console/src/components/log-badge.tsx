/** Whether the receipt shown is the one in the receipt log: green when verified, red with the reasons when not. */
import { useContext } from "react";
import { ClientsContext } from "../api/clients.js";
import { useAsync } from "../lib/use-async.js";

/** The badge of `receiptId`; nothing when the console has no log check (e.g. in component tests). */
export function LogBadge({ receiptId }: { receiptId: string }) {
  const check = useContext(ClientsContext)?.receiptLog;
  const state = useAsync(async (signal) => (check ? check(receiptId, signal) : undefined), [check, receiptId]);
  if (!check) return null;
  if (state.loading) return <p className="log-badge"><span className="badge badge-log-unchecked">checking the receipt log…</span></p>;
  const verdict = state.data;
  if (!verdict) {
    const why = state.error instanceof Error ? state.error.message : "no answer";
    return <p className="log-badge"><span className="badge badge-log-unchecked" title={why}>receipt log not checked</span></p>;
  }
  if (verdict.state === "verified") {
    const where = `${verdict.origin ?? "the receipt log"}, key ${verdict.key ?? "?"}${verdict.keySource === "first seen" ? " (as first served)" : ""}`;
    return (
      <p className="log-badge" aria-label="Receipt log">
        <span className="badge badge-log-verified" title={where}>verified in log at checkpoint {verdict.checkpointSize}</span>
      </p>
    );
  }
  if (verdict.state === "mismatch") {
    return (
      <div className="log-badge" aria-label="Receipt log" role="alert">
        <span className="badge badge-log-mismatch">does not match the receipt log</span>
        <ul className="log-reasons">
          {verdict.reasons.map((r, i) => (
            <li key={i}>{r}</li>
          ))}
        </ul>
      </div>
    );
  }
  return (
    <p className="log-badge" aria-label="Receipt log">
      <span className="badge badge-log-unchecked" title={verdict.reasons.join("; ")}>receipt log not checked: {verdict.reasons[0] ?? "unknown"}</span>
    </p>
  );
}
