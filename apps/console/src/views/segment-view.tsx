/** One segment: where it sits, why it is stale, its receipt, its earlier receipts and what changed from the segment it replaced. */
import { useEffect, useState } from "react";
import { Link, useParams } from "react-router";
import { ReceiptStatus, type Receipt } from "@gen/common_pb.js";
import { useClients } from "../api/clients.js";
import { useStaleReasons, useStaleness } from "../api/staleness-index.js";
import { ReceiptComparison } from "../components/receipt-comparison.js";
import { ReceiptPanel } from "../components/receipt-panel.js";
import { SegmentStatus } from "../components/segment-status.js";
import { reasonText } from "../components/stale-icon.js";
import { Empty, ErrorState, Loading } from "../components/states.js";
import { formatTime, receiptStatusLabel, sceneLabel, shortHash, shotLabel } from "../lib/format.js";
import { useAsync } from "../lib/use-async.js";

/** The segment detail page. */
export function SegmentView() {
  const { segmentId = "" } = useParams();
  const clients = useClients();
  const staleness = useStaleness();
  const reasons = useStaleReasons(segmentId);
  const prov = useAsync(async () => {
    const res = await clients.receipts.getSegmentProvenance({ segmentId });
    let superseded: Receipt | undefined;
    if (res.segment?.supersedesSegmentId) {
      const old = await clients.receipts.getSegmentProvenance({ segmentId: res.segment.supersedesSegmentId }).catch(() => undefined);
      superseded = old?.currentReceipt;
    }
    return { ...res, superseded };
  }, [clients, segmentId]);
  const { reload } = prov;
  useEffect(() => {
    if (staleness.changes > 0) reload(true);
  }, [staleness.changes, reload]);
  const [shownId, setShownId] = useState<string | undefined>(undefined);
  useEffect(() => setShownId(undefined), [segmentId]);

  if (prov.loading) return <Loading what={`segment ${segmentId}`} />;
  if (prov.error && !prov.data) return <ErrorState error={prov.error} service="receipts" url={clients.urls.receipts} onRetry={() => prov.reload()} />;
  const { segment, currentReceipt, history, superseded } = prov.data!;
  if (!segment) return <Empty title={`Segment ${segmentId} was not found.`} />;
  const shown = history.find((r) => r.receiptId === shownId) ?? currentReceipt ?? history[0];
  const earlier = history.filter((r) => r.receiptId !== currentReceipt?.receiptId);

  return (
    <div className="segment-view">
      <header className="view-header">
        <p className="crumbs">
          <Link to="/projects">Projects</Link> / <Link to={`/projects/${encodeURIComponent(segment.projectId)}`}>{segment.projectId}</Link> /{" "}
          <Link to={`/projects/${encodeURIComponent(segment.projectId)}/scenes/${encodeURIComponent(segment.sceneId)}`}>{sceneLabel(segment.sceneId)}</Link>
        </p>
        <h1>
          Segment {segment.segmentId} <SegmentStatus segmentId={segment.segmentId} active={segment.active} status={currentReceipt?.status ?? history[0]?.status} />
        </h1>
        <p className="muted">
          {segment.characterName ? `${segment.characterName} · ` : ""}
          <span data-testid="segment-shot">{shotLabel(segment.sequenceIndex)}</span> · created {formatTime(segment.createdAt)}
        </p>
        {segment.supersededBySegmentId ? (
          <p className="note">
            Re-generated: replaced by <Link to={`/segments/${encodeURIComponent(segment.supersededBySegmentId)}`}>{segment.supersededBySegmentId}</Link>. This
            segment and its receipts are kept for comparison.
          </p>
        ) : null}
        {segment.supersedesSegmentId ? (
          <p className="note">
            Re-generated from <Link to={`/segments/${encodeURIComponent(segment.supersedesSegmentId)}`}>{segment.supersedesSegmentId}</Link>.
          </p>
        ) : null}
        {reasons && segment.active ? (
          <div className="stale-box" role="note">
            <strong>This segment is stale.</strong>
            <ul>
              {reasons.map((r, i) => (
                <li key={i}>
                  {reasonText(r)} —{" "}
                  <Link to={`/assets/${encodeURIComponent(r.assetId)}`}>see its versions</Link>
                </li>
              ))}
            </ul>
            <Link to={`/report?project=${encodeURIComponent(segment.projectId)}`}>Re-generate from the staleness report</Link>
          </div>
        ) : null}
      </header>

      {shown ? (
        <>
          <h2>
            Receipt {shown.receiptId === currentReceipt?.receiptId ? "(current)" : `of ${formatTime(shown.generationStartedAt)} (${receiptStatusLabel(shown.status)})`}
          </h2>
          {!currentReceipt ? <p className="note">No generation of this segment has succeeded yet; showing its latest receipt.</p> : null}
          <ReceiptPanel receipt={shown} staleReasons={shown === currentReceipt && segment.active ? reasons : undefined} />
        </>
      ) : (
        <Empty title="This segment has no receipt.">A receipt is recorded when the pipeline starts a generation.</Empty>
      )}

      <section className="history">
        <h2>Earlier receipts</h2>
        {earlier.length === 0 ? (
          <p className="muted">None — this segment was generated once.</p>
        ) : (
          <ul>
            {[currentReceipt, ...earlier].filter((r): r is Receipt => r !== undefined).map((r) => (
              <li key={r.receiptId}>
                <button type="button" className="link-button" aria-pressed={r.receiptId === shown?.receiptId} onClick={() => setShownId(r.receiptId)}>
                  {formatTime(r.generationStartedAt)} · {receiptStatusLabel(r.status)} · inputs {shortHash(r.inputsHash)}
                  {r.receiptId === currentReceipt?.receiptId ? " · current" : ""}
                </button>
              </li>
            ))}
          </ul>
        )}
      </section>

      {segment.supersedesSegmentId ? (
        <section>
          <h2>Compared with the superseded segment</h2>
          {superseded && currentReceipt && currentReceipt.status === ReceiptStatus.SUCCEEDED ? (
            <ReceiptComparison before={superseded} after={currentReceipt} />
          ) : (
            <p className="muted">The superseded segment's receipt could not be loaded, or this segment has not completed yet.</p>
          )}
        </section>
      ) : null}
    </div>
  );
}
