/** Live progress of submitted regeneration batches, polled until every job has finished. */
import { useEffect, useState } from "react";
import type { RegenerationBatch } from "@gen/regeneration_pb.js";
import { useClients } from "../api/clients.js";
import { plural } from "../lib/format.js";

const POLL_MS = 1000;

/** Whether every job of `b` has an outcome. */
export function batchDone(b: RegenerationBatch): boolean {
  return b.succeeded + b.failed + b.inputsMismatch >= b.jobCount;
}

/** Polls each batch; calls `onProgress` whenever a job finishes, so the report can refresh. */
export function BatchProgress({ batchIds, onProgress }: { batchIds: readonly string[]; onProgress: () => void }) {
  const clients = useClients();
  const [batches, setBatches] = useState<Map<string, RegenerationBatch>>(new Map());
  const [error, setError] = useState<string | undefined>(undefined);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let finishedBefore = -1;
    const poll = async () => {
      try {
        const got = await Promise.all(batchIds.map((id) => clients.regeneration.getRegenerationBatch({ batchId: id })));
        if (stopped) return;
        const map = new Map(got.map((r) => [r.batch!.batchId, r.batch!]));
        setBatches(map);
        setError(undefined);
        const finished = [...map.values()].reduce((n, b) => n + b.succeeded + b.failed + b.inputsMismatch, 0);
        if (finished !== finishedBefore) {
          finishedBefore = finished;
          onProgress();
        }
        if ([...map.values()].every(batchDone)) return;
      } catch (err) {
        if (stopped) return;
        setError(`Could not read the batch's progress (${err instanceof Error ? err.message : String(err)}); retrying.`);
      }
      timer = setTimeout(() => void poll(), POLL_MS);
    };
    void poll();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [clients, batchIds, onProgress]);

  return (
    <div className="batch-progress" aria-live="polite">
      {error ? <p className="state-error">{error}</p> : null}
      {batchIds.map((id) => {
        const b = batches.get(id);
        if (!b) return <p key={id}>Batch {id.slice(0, 8)}: waiting for its first report…</p>;
        const done = b.succeeded + b.failed + b.inputsMismatch;
        const pct = b.jobCount === 0 ? 100 : Math.round((done / b.jobCount) * 100);
        return (
          <div key={id} className="batch" data-testid="batch" data-done={batchDone(b) || undefined}>
            <p>
              <strong>{batchDone(b) ? "Finished" : "Re-generating"}</strong> — project {b.projectId}: {done} of {plural(b.jobCount, "job")} done ·{" "}
              {b.succeeded} succeeded · {b.running} running · {b.submitted} queued
              {b.failed ? ` · ${b.failed} failed` : ""}
              {b.inputsMismatch ? ` · ${b.inputsMismatch} with mismatched inputs` : ""}
            </p>
            <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct}>
              <div className="progress-bar" style={{ width: `${pct}%` }} />
            </div>
            {batchDone(b) && (b.failed || b.inputsMismatch) ? (
              <p className="small">Failed jobs leave their segments stale: they stay in the report, select them and re-generate again.</p>
            ) : null}
          </div>
        );
      })}
    </div>
  );
}
