/**
 * "Content Credentials" on a receipt panel: the user picks the segment's video or image file; the console's server
 * signs a copy with a C2PA manifest from the segment's current receipt (refusing a file that is not its output), the
 * copy is offered as a download and its manifest as read back is shown: actions, ingredients, the receipt assertion,
 * who signed and whether it validates (and that a local certificate is untrusted).
 */
import { useContext, useEffect, useState, type ChangeEvent } from "react";
import { ReceiptStatus, type Receipt } from "@gen/common_pb.js";
import { ClientsContext } from "../api/clients.js";
import type { C2paSignResult } from "../api/c2pa-sign.js";

type State = { step: "idle" } | { step: "signing"; name: string } | { step: "done"; result: C2paSignResult };

/** The action for a SUCCEEDED receipt; nothing for other receipts, or where the console cannot sign (component tests). */
export function ContentCredentials({ receipt }: { receipt: Receipt }) {
  const sign = useContext(ClientsContext)?.c2paSign;
  const [state, setState] = useState<State>({ step: "idle" });
  const [url, setUrl] = useState<string | undefined>();
  const signed = state.step === "done" && state.result.ok ? state.result : undefined;

  useEffect(() => {
    if (!signed) return;
    const made = URL.createObjectURL(signed.file);
    setUrl(made);
    return () => URL.revokeObjectURL(made);
  }, [signed]);

  if (!sign || receipt.status !== ReceiptStatus.SUCCEEDED) return null;
  const pick = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    e.target.value = "";
    if (!file) return;
    setState({ step: "signing", name: file.name });
    try {
      setState({ step: "done", result: await sign(receipt.segmentId, file) });
    } catch (err) {
      setState({ step: "done", result: { ok: false, message: err instanceof Error ? err.message : String(err) } });
    }
  };
  const s = signed?.summary;
  return (
    <details className="panel-section content-credentials" aria-label="Content Credentials">
      <summary>Content Credentials</summary>
      <div className="section-body">
        <p className="muted">
          Pick this segment's file: a copy is signed with a C2PA manifest from the segment's current receipt, if the file's SHA-256 is its output
          hash.
        </p>
        <label>
          Segment file <input type="file" accept="image/png,image/jpeg,image/webp,video/mp4,video/quicktime" onChange={(e) => void pick(e)} disabled={state.step === "signing"} />
        </label>
        {state.step === "signing" ? <p className="muted">signing {state.name}…</p> : null}
        {state.step === "done" && !state.result.ok ? (
          <p className="state-error" role="alert">
            <strong>Not signed:</strong> {state.result.message}
          </p>
        ) : null}
        {signed && s ? (
          <div data-testid="c2pa-manifest">
            <p>
              {url ? (
                <a href={url} download={signed.fileName}>
                  Download {signed.fileName}
                </a>
              ) : null}{" "}
              <span className={`badge ${s.validation.state === "Invalid" ? "badge-failed" : "badge-current"}`}>{s.validation.state}</span>
              {s.validation.failures.length > 0 ? ` (${s.validation.failures.join(", ")})` : null}
            </p>
            {s.certificate.local ? (
              <p className="warning" role="note">
                Signed with the local, untrusted certificate: valid on this machine only. {s.certificate.note}
              </p>
            ) : (
              <p className="muted">Signed with {s.certificate.note}</p>
            )}
            {s.receiptId !== receipt.receiptId ? <p className="warning">Signed with the segment's current receipt {s.receiptId}, not the one shown.</p> : null}
            <dl>
              <div className="field-row">
                <dt>Manifest</dt>
                <dd>{s.manifest}</dd>
              </div>
              <div className="field-row">
                <dt>Actions</dt>
                <dd>{s.actions.map((a) => `${a.action}${a.digitalSourceType ? ` (${a.digitalSourceType.split("/").pop()})` : ""}`).join(", ") || "—"}</dd>
              </div>
              <div className="field-row">
                <dt>Ingredients</dt>
                <dd>
                  <ul>
                    {s.ingredients.map((i, n) => (
                      <li key={n}>
                        {i.title ?? "(untitled)"} [{i.relationship ?? "?"}]{i.contentHash ? ` sha256 ${i.contentHash.slice(0, 12)}` : ""}
                      </li>
                    ))}
                  </ul>
                </dd>
              </div>
              <div className="field-row">
                <dt>Receipt assertion</dt>
                <dd>
                  {s.receipt
                    ? `receipt ${s.receipt.receipt_id}, inputs hash ${s.receipt.inputs_hash.slice(0, 12)}, model ${s.receipt.model ?? "—"}, LoRAs ${s.receipt.loras.join(", ") || "—"}, seed ${s.receipt.seed}`
                    : "absent"}
                </dd>
              </div>
              <div className="field-row">
                <dt>Signed by</dt>
                <dd>
                  {s.signedBy.commonName ?? "—"}
                  {s.signedBy.issuer && s.signedBy.issuer !== s.signedBy.commonName ? `, issued by ${s.signedBy.issuer}` : ""}
                </dd>
              </div>
              <div className="field-row">
                <dt>Signed file SHA-256</dt>
                <dd>{s.outputSha256}</dd>
              </div>
            </dl>
          </div>
        ) : null}
      </div>
    </details>
  );
}
