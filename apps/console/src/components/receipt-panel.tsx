/** The receipt panel: every input of one generation in collapsible sections, its timing and its output. */
import type { ReactNode } from "react";
import { Link } from "react-router";
import type { AssetRef, Receipt, StalenessReason } from "@gen/common_pb.js";
import { formatDuration, formatTime, receiptStatusLabel } from "../lib/format.js";
import { additionalParams } from "../lib/receipt-fields.js";
import { AssetRefView } from "./asset-ref-view.js";
import { ContentCredentials } from "./content-credentials.js";
import { HashText } from "./hash-text.js";
import { LogBadge } from "./log-badge.js";
import { ReproduceAction } from "./reproduce-action.js";

function Section({ title, children, open = true }: { title: string; children: ReactNode; open?: boolean }) {
  return (
    <details className="panel-section" open={open}>
      <summary>{title}</summary>
      <div className="section-body">{children}</div>
    </details>
  );
}

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="field-row">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

/** Shows `receipt`; inputs named by `staleReasons` (same asset and hash) are marked stale. */
export function ReceiptPanel({ receipt, staleReasons = [] }: { receipt: Receipt; staleReasons?: readonly StalenessReason[] }) {
  const reasonFor = (ref: AssetRef | undefined) =>
    ref ? staleReasons.find((r) => r.assetId === ref.assetId && (!r.receiptContentHash || r.receiptContentHash === ref.contentHash)) : undefined;
  const params = additionalParams(receipt);
  const paramKeys = Object.keys(params).sort();
  return (
    <section className="receipt-panel" aria-label="Generation receipt">
      <LogBadge receiptId={receipt.receiptId} />
      <ReproduceAction receipt={receipt} />
      <ContentCredentials receipt={receipt} />
      <Section title="Images">
        <dl>
          <Row label="Source image">
            <AssetRefView assetRef={receipt.sourceImage} reason={reasonFor(receipt.sourceImage)} />
          </Row>
          <Row label="Variant image">
            <AssetRefView assetRef={receipt.variantImage} reason={reasonFor(receipt.variantImage)} />
          </Row>
        </dl>
      </Section>
      <Section title="Workflow">
        <dl>
          <Row label="Workflow">
            <AssetRefView assetRef={receipt.workflow} reason={reasonFor(receipt.workflow)} />
          </Row>
          <Row label="Workflow version">{receipt.workflowVersion || "—"}</Row>
        </dl>
      </Section>
      <Section title="Model">
        <dl>
          <Row label="Base model">
            <AssetRefView assetRef={receipt.model} reason={reasonFor(receipt.model)} />
          </Row>
        </dl>
      </Section>
      <Section title={`LoRAs (${receipt.loras.length})`}>
        {receipt.loras.length === 0 ? (
          <p className="muted">No LoRAs were applied.</p>
        ) : (
          <table className="lora-table">
            <thead>
              <tr>
                <th>#</th>
                <th>LoRA, version and hash</th>
                <th>Weight</th>
              </tr>
            </thead>
            <tbody>
              {receipt.loras.map((l, i) => (
                <tr key={i}>
                  <td>{i + 1}</td>
                  <td>
                    <AssetRefView assetRef={l.asset} reason={reasonFor(l.asset)} />
                  </td>
                  <td className="num">{l.weight}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      <Section title="Prompt">
        <dl>
          <Row label="Prompt">
            <p className="prompt">{receipt.promptText || <span className="muted">empty</span>}</p>
          </Row>
          <Row label="Negative prompt">
            <p className="prompt">{receipt.negativePrompt || <span className="muted">empty</span>}</p>
          </Row>
        </dl>
      </Section>
      <Section title="Sampling">
        <dl className="grid-dl">
          <Row label="Seed">
            <code>{receipt.seed.toString()}</code>
          </Row>
          <Row label="CFG">{receipt.cfgScale}</Row>
          <Row label="Steps">{receipt.steps}</Row>
          <Row label="Sampler">{receipt.sampler || "—"}</Row>
          <Row label="Resolution">
            {receipt.resolutionWidth}×{receipt.resolutionHeight}
          </Row>
        </dl>
      </Section>
      <Section title={`Other parameters (${paramKeys.length})`} open={paramKeys.length > 0}>
        {paramKeys.length === 0 ? (
          <p className="muted">None.</p>
        ) : (
          <dl className="grid-dl">
            {paramKeys.map((k) => (
              <Row key={k} label={k}>
                <code>{JSON.stringify(params[k])}</code>
              </Row>
            ))}
          </dl>
        )}
      </Section>
      <Section title="Timing and output">
        <dl className="grid-dl">
          <Row label="Status">{receiptStatusLabel(receipt.status)}</Row>
          <Row label="Started">{formatTime(receipt.generationStartedAt)}</Row>
          <Row label="Completed">{formatTime(receipt.generationCompletedAt)}</Row>
          <Row label="Duration">{formatDuration(receipt.generationDurationMs)}</Row>
          <Row label="Output hash">
            <HashText hash={receipt.outputHash} label="output hash" />
          </Row>
          <Row label="Inputs hash">
            <HashText hash={receipt.inputsHash} label="inputs hash" />
          </Row>
          <Row label="Receipt">
            <HashText hash={receipt.receiptId} label="receipt id" />
          </Row>
          {receipt.regenerationJobId ? (
            <Row label="Regeneration job">
              <HashText hash={receipt.regenerationJobId} label="job id" />
            </Row>
          ) : null}
          {receipt.reproductionOfReceiptId ? (
            <Row label="Reproduction of">
              <HashText hash={receipt.reproductionOfReceiptId} label="receipt id" />
            </Row>
          ) : null}
          {receipt.supersedesSegmentId ? (
            <Row label="Replaces segment">
              <Link to={`/segments/${encodeURIComponent(receipt.supersedesSegmentId)}`}>{receipt.supersedesSegmentId}</Link>
            </Row>
          ) : null}
        </dl>
      </Section>
    </section>
  );
}
