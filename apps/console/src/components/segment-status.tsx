/** A segment's status: the stale icon with reasons, or a badge for superseded, running, failed and current. */
import { ReceiptStatus } from "@gen/common_pb.js";
import { useStaleReasons } from "../api/staleness-index.js";
import { StaleIcon } from "./stale-icon.js";

/** The status badge of a segment; stale segments always get the same orange icon. */
export function SegmentStatus({ segmentId, active, status }: { segmentId: string; active: boolean; status?: ReceiptStatus }) {
  const reasons = useStaleReasons(segmentId);
  if (!active) return <span className="badge badge-superseded">Superseded</span>;
  if (status === ReceiptStatus.RUNNING) return <span className="badge badge-running">Generating</span>;
  if (status === ReceiptStatus.FAILED) return <span className="badge badge-failed">Failed</span>;
  if (status === ReceiptStatus.LEGACY)
    return (
      <span className="badge badge-legacy" title="Made before receipts were recorded: not fully known, never stale nor fresh">
        Legacy
      </span>
    );
  if (reasons)
    return (
      <span className="badge badge-stale">
        <StaleIcon reasons={reasons} /> Stale
      </span>
    );
  return <span className="badge badge-current">Current</span>;
}
