/** The staleness report: groups by asset, selection, "Re-generate selected" with the plan first and live progress after. */
import { useCallback, useEffect, useMemo, useState } from "react";
import { Link, useSearchParams } from "react-router";
import type { PlannedJob } from "@gen/regeneration_pb.js";
import { useClients } from "../api/clients.js";
import { readAllPages } from "../api/paged.js";
import { useStaleness } from "../api/staleness-index.js";
import { BatchProgress } from "../components/batch-progress.js";
import { PinnedSegments } from "../components/pinned-segments.js";
import { StalenessGroups } from "../components/staleness-groups.js";
import { Empty, ErrorState, Loading } from "../components/states.js";
import { describeError } from "../lib/describe-error.js";
import { plural } from "../lib/format.js";
import { estimateLine, planEstimate } from "../lib/gpu-estimate.js";
import { buildReportGroups, pruneSelection, selectionByProject } from "../lib/report-groups.js";
import { useAsync } from "../lib/use-async.js";

type Flow =
  | { step: "idle" }
  | { step: "planning" }
  | { step: "planned"; plans: Map<string, PlannedJob[]>; key: string }
  | { step: "submitting" }
  | { step: "submitted"; batchIds: string[] }
  | { step: "failed"; what: string; todo: string };

/** The report for every project, or for `?project=`. */
export function ReportView() {
  const clients = useClients();
  const staleness = useStaleness();
  const [params] = useSearchParams();
  const projectId = params.get("project") ?? "";
  const report = useAsync(async () => {
    const [summary, segments] = await Promise.all([
      clients.staleness.getStalenessReport({ projectId }),
      readAllPages(async (pageToken) => {
        const res = await clients.staleness.listStaleSegments({ projectId, pageSize: 500, pageToken });
        return { items: res.segments, nextPageToken: res.nextPageToken };
      }),
    ]);
    return { summary, groups: buildReportGroups(summary.byAsset, segments) };
  }, [clients, projectId]);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [flow, setFlow] = useState<Flow>({ step: "idle" });

  // Refresh by itself whenever staleness changes (WatchStaleness, or a batch's progress).
  const { reload } = report;
  useEffect(() => {
    if (staleness.changes > 0) reload(true);
  }, [staleness.changes, reload]);
  const groups = useMemo(() => report.data?.groups ?? [], [report.data]);
  useEffect(() => setSelected((s) => pruneSelection(s, groups)), [groups]);

  const plan = async () => {
    setFlow({ step: "planning" });
    try {
      const plans = new Map<string, PlannedJob[]>();
      for (const [project, segmentIds] of selectionByProject(selected, groups)) {
        const res = await clients.regeneration.planRegeneration({ projectId: project, segmentIds });
        plans.set(project, res.jobs);
      }
      setFlow({ step: "planned", plans, key: crypto.randomUUID() });
    } catch (err) {
      setFlow({ step: "failed", ...describeError(err, "regeneration", clients.urls.regeneration) });
    }
  };

  const submit = async (plans: Map<string, PlannedJob[]>, key: string) => {
    setFlow({ step: "submitting" });
    try {
      const batchIds: string[] = [];
      for (const [project, jobs] of plans) {
        if (jobs.length === 0) continue;
        const res = await clients.regeneration.submitRegeneration({
          projectId: project,
          segmentIds: jobs.map((j) => j.oldSegmentId),
          idempotencyKey: `console-${key}-${project}`,
          requestedBy: "web console",
        });
        batchIds.push(res.batch!.batchId);
      }
      setSelected(new Set());
      setFlow({ step: "submitted", batchIds });
    } catch (err) {
      setFlow({ step: "failed", ...describeError(err, "regeneration", clients.urls.regeneration) });
    }
  };

  const onProgress = useCallback(() => staleness.refresh(), [staleness.refresh]); // eslint-disable-line react-hooks/exhaustive-deps

  if (report.loading) return <Loading what="the staleness report" />;
  if (report.error && !report.data)
    return <ErrorState error={report.error} service="staleness" url={clients.urls.staleness} onRetry={() => report.reload()} />;
  const summary = report.data!.summary;
  const jobCount = flow.step === "planned" ? [...flow.plans.values()].reduce((n, j) => n + j.length, 0) : 0;
  const estimate = flow.step === "planned" ? planEstimate([...flow.plans.values()].flat()) : undefined;

  return (
    <div className="report-view">
      <header className="view-header">
        <h1>Staleness report{projectId ? ` — project ${projectId}` : ""}</h1>
        <p className="lede" data-testid="report-totals">
          {summary.totalStaleSegments === 0
            ? `Nothing is stale: all ${plural(summary.totalActiveSegments, "active segment")} were made from current versions.`
            : `${plural(summary.totalStaleSegments, "stale segment")} in ${plural(summary.totalStaleScenes, "scene")}, out of ${summary.totalActiveSegments} active.`}
          {summary.untrackedInputs ? ` ${plural(summary.untrackedInputs, "input")} name unregistered assets and are never stale.` : ""}
          {summary.legacySegments ? ` ${plural(summary.legacySegments, "legacy segment")} (made before receipts were recorded) are never stale nor fresh.` : ""}
          <span className={`live-badge${staleness.live ? " on" : ""}`} title={staleness.live ? "Updates as staleness changes" : `Not connected to live updates (${staleness.liveError ?? "connecting"}); retrying every few seconds`}>
            {staleness.live ? "Live" : "Reconnecting…"}
          </span>
        </p>
        {projectId ? <Link to="/report">Show every project</Link> : null}
      </header>

      {report.error ? <ErrorState error={report.error} service="staleness" url={clients.urls.staleness} onRetry={() => report.reload(true)} /> : null}

      <PinnedSegments pinned={summary.pinned} pinnedCount={summary.pinnedSegments} groups={groups} onChanged={() => report.reload(true)} />

      {flow.step === "submitted" ? (
        <section className="regen-box">
          <h2>Re-generation submitted</h2>
          <BatchProgress batchIds={flow.batchIds} onProgress={onProgress} />
          <button type="button" onClick={() => setFlow({ step: "idle" })}>
            Close
          </button>
        </section>
      ) : null}

      {groups.length === 0 ? (
        <Empty title="No stale segments.">
          When an asset gets a new current version, the segments made from the old one show up here by themselves. Publish a version on an
          asset's page, or roll one back, to see it.
        </Empty>
      ) : (
        <>
          <div className="toolbar">
            <button type="button" className="primary" disabled={selected.size === 0 || flow.step === "planning"} onClick={() => void plan()}>
              Re-generate selected ({selected.size})
            </button>
            <button type="button" disabled={selected.size === 0} onClick={() => setSelected(new Set())}>
              Clear selection
            </button>
            {flow.step === "planning" ? <Loading what="the plan" /> : null}
          </div>
          {flow.step === "failed" ? (
            <div className="state state-error" role="alert">
              <strong>{flow.what}</strong>
              <p>{flow.todo}</p>
              <button type="button" onClick={() => setFlow({ step: "idle" })}>
                Dismiss
              </button>
            </div>
          ) : null}
          {flow.step === "planned" || flow.step === "submitting" ? (
            <div className="dialog-backdrop">
              <div className="dialog" role="dialog" aria-modal="true" aria-label="Regeneration plan">
                {flow.step === "submitting" ? (
                  <Loading what="— submitting the jobs" />
                ) : (
                  <>
                    <h2 data-testid="plan-summary">
                      {jobCount === 0 ? "Nothing to re-generate" : `This will submit ${plural(jobCount, "job")}`}
                    </h2>
                    {jobCount > 0 && estimate ? (
                      <p className="plan-estimate" data-testid="plan-estimate" title="The median generation time of past receipts like each job">
                        {estimateLine(jobCount, estimate.estimatedGpuMs, estimate.withoutEstimate)}
                      </p>
                    ) : null}
                    <p>
                      {jobCount === 0
                        ? "The selected segments are no longer stale."
                        : "Each job keeps every input of the old segment (prompt, seed, CFG, …) and swaps only the stale assets for their current versions. The old segments stay for comparison."}
                    </p>
                    <ul className="plan-list">
                      {[...flow.plans.values()].flat().slice(0, 50).map((j) => (
                        <li key={j.oldSegmentId}>
                          {j.oldSegmentId}: {j.swapped.map((s) => `${s.assetName || s.assetId} v${s.receiptVersion} → v${s.currentVersion}`).join(", ")}
                        </li>
                      ))}
                    </ul>
                    <div className="dialog-actions">
                      <button type="button" onClick={() => setFlow({ step: "idle" })}>
                        Cancel
                      </button>
                      {jobCount > 0 ? (
                        <button type="button" className="primary" onClick={() => void submit(flow.plans, flow.key)}>
                          Submit {plural(jobCount, "job")}
                        </button>
                      ) : null}
                    </div>
                  </>
                )}
              </div>
            </div>
          ) : null}
          <StalenessGroups groups={groups} selected={selected} onChange={setSelected} />
        </>
      )}
    </div>
  );
}
