/** A project's coverage (GetCoverage): how many of its active segments have complete receipts, and what the rest are. */
import { useClients } from "../api/clients.js";
import { plural } from "../lib/format.js";
import { coverageText } from "../lib/coverage.js";
import { useAsync } from "../lib/use-async.js";

/**
 * The percentage of the project's active segments with a complete receipt, the numbers, and the legacy, running too
 * long, running and failed counts. Says nothing when coverage cannot be read (the segments show without it).
 */
export function CoveragePanel({ projectId }: { projectId: string }) {
  const clients = useClients();
  const state = useAsync((signal) => clients.receipts.getCoverage({ projectId }, { signal }), [clients, projectId]);
  const res = state.data;
  const c = res?.projects.find((p) => p.projectId === projectId) ?? res?.total;
  if (!res || !c || c.segments === 0) return null;
  const t = coverageText(c, res.runningLimitSeconds);
  return (
    <section className="coverage-panel" aria-label="Coverage" data-testid="coverage-panel">
      <p>
        <strong data-testid="coverage-percent">{t.percent}</strong> coverage: {c.complete} of {plural(c.segments, "active segment")} with a complete
        receipt
      </p>
      <ul className="coverage-counts">
        <li data-testid="coverage-legacy" title="Imported segments made before receipts were recorded: never stale nor fresh">
          {plural(c.legacy, "legacy segment")}
        </li>
        <li data-testid="coverage-running-too-long" title="A generation that never completed">
          {c.runningTooLong} running for over {t.limit}
        </li>
        <li>{c.running} running</li>
        <li>{c.failed} failed</li>
      </ul>
    </section>
  );
}
