/** "Reproduce" on a receipt: re-runs it with exactly its inputs (RegenerationService.ReproduceSegment) and shows the verdict. */
import { useContext, useEffect, useState } from "react";
import { ReceiptStatus, type Receipt } from "@gen/common_pb.js";
import { ReproductionVerdict, type Reproduction } from "@gen/regeneration_pb.js";
import { ClientsContext } from "../api/clients.js";
import { describeError } from "../lib/describe-error.js";

/** How often the reproduction is read again while the pipeline runs it. */
const POLL_MS = 1000;

const VERDICT: Record<ReproductionVerdict, { label: string; badge: string }> = {
  [ReproductionVerdict.UNSPECIFIED]: { label: "no verdict", badge: "badge-superseded" },
  [ReproductionVerdict.IDENTICAL]: { label: "identical", badge: "badge-current" },
  [ReproductionVerdict.INPUTS_DIFFER]: { label: "inputs differ", badge: "badge-failed" },
  [ReproductionVerdict.OUTPUT_DIFFERS]: { label: "output differs", badge: "badge-stale" },
};

/** The summary after its verdict word ("output differs: same inputs hash, …" → "same inputs hash, …"), which the badge says. */
function withoutVerdict(r: Reproduction): string {
  const label = VERDICT[r.verdict].label;
  return r.verdict !== ReproductionVerdict.UNSPECIFIED && r.summary.startsWith(`${label}: `) ? r.summary.slice(label.length + 2) : r.summary;
}

type State = { step: "idle" } | { step: "starting" } | { step: "running" | "done"; reproduction: Reproduction } | { step: "failed"; what: string; todo: string };

/** The action for a SUCCEEDED receipt; nothing for other receipts, or where the console has no clients (component tests). */
export function ReproduceAction({ receipt, pollMs = POLL_MS }: { receipt: Receipt; pollMs?: number }) {
  const clients = useContext(ClientsContext);
  const [state, setState] = useState<State>({ step: "idle" });
  const jobId = state.step === "running" ? state.reproduction.jobId : undefined;

  useEffect(() => {
    if (!clients || jobId === undefined) return;
    let stopped = false;
    const timer = setInterval(() => {
      clients.regeneration.getReproduction({ jobId }).then(
        ({ reproduction }) => {
          if (!stopped && reproduction?.completedAt) setState({ step: "done", reproduction });
        },
        () => undefined, // a missed poll is retried on the next tick
      );
    }, pollMs);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [clients, jobId, pollMs]);

  if (!clients || receipt.status !== ReceiptStatus.SUCCEEDED) return null;
  const start = async () => {
    setState({ step: "starting" });
    try {
      const { reproduction } = await clients.regeneration.reproduceSegment({
        projectId: receipt.projectId,
        receiptId: receipt.receiptId,
        idempotencyKey: `console-reproduce-${crypto.randomUUID()}`,
      });
      setState(reproduction?.completedAt ? { step: "done", reproduction } : { step: "running", reproduction: reproduction! });
    } catch (err) {
      setState({ step: "failed", ...describeError(err, "regeneration", clients.urls.regeneration) });
    }
  };

  return (
    <div className="reproduce-action" aria-label="Reproduce">
      {state.step === "idle" || state.step === "failed" ? (
        <button type="button" onClick={() => void start()} title="Re-run this receipt with exactly its inputs and compare the output">
          Reproduce
        </button>
      ) : null}
      {state.step === "starting" ? <span className="muted">starting the reproduction…</span> : null}
      {state.step === "running" ? <span className="badge badge-running">reproducing… {state.reproduction.summary}</span> : null}
      {state.step === "done" ? (
        <p data-testid="reproduction-verdict">
          <span className={`badge ${VERDICT[state.reproduction.verdict].badge}`}>{VERDICT[state.reproduction.verdict].label}</span>{" "}
          {withoutVerdict(state.reproduction)}
        </p>
      ) : null}
      {state.step === "failed" ? (
        <p className="state-error" role="alert">
          <strong>{state.what}</strong> {state.todo}
        </p>
      ) : null}
    </div>
  );
}
