/** The report's groups with checkboxes per group, per scene and per segment. */
import { Link } from "react-router";
import { kindLabel, plural, sceneLabel, shotLabel } from "../lib/format.js";
import { checkState, toggleIds, type ReportGroup } from "../lib/report-groups.js";
import { StaleIcon } from "./stale-icon.js";
import { TriCheckbox } from "./tri-checkbox.js";

/** Renders `groups`; `selected` holds segment ids, changed through `onChange`. */
export function StalenessGroups({
  groups,
  selected,
  onChange,
}: {
  groups: readonly ReportGroup[];
  selected: ReadonlySet<string>;
  onChange: (next: Set<string>) => void;
}) {
  return (
    <div className="report-groups">
      {groups.map((g) => (
        <section key={g.key} className="report-group" aria-label={`Group ${g.assetName} v${g.receiptVersion}`}>
          <header className="group-header">
            <TriCheckbox state={checkState(g.segmentIds, selected)} onToggle={() => onChange(toggleIds(selected, g.segmentIds))} label={`Select every segment of ${g.summary}`} />
            <div>
              <p className="group-summary">{g.summary}</p>
              <p className="muted small">
                {kindLabel(g.kind)}{" "}
                <Link to={`/assets/${encodeURIComponent(g.assetId)}`}>{g.assetName}</Link>: made with{" "}
                <Link to={`/assets/${encodeURIComponent(g.assetId)}/versions/${g.receiptVersion}`}>v{g.receiptVersion}</Link>, current is{" "}
                <Link to={`/assets/${encodeURIComponent(g.assetId)}/versions/${g.currentVersion}`}>v{g.currentVersion}</Link> ·{" "}
                {plural(g.segmentIds.length, "segment")} in {plural(g.scenes.length, "scene")} · project{" "}
                <Link to={`/projects/${encodeURIComponent(g.projectId)}`}>{g.projectId}</Link>
              </p>
            </div>
          </header>
          <ul className="group-scenes">
            {g.scenes.map((s) => {
              const ids = s.segments.map((x) => x.segmentId);
              return (
                <li key={`${s.projectId}/${s.sceneId}`}>
                  <div className="scene-line">
                    <TriCheckbox state={checkState(ids, selected)} onToggle={() => onChange(toggleIds(selected, ids))} label={`Select scene ${s.sceneId} of project ${s.projectId} in ${g.assetName} v${g.receiptVersion}`} />
                    <Link to={`/projects/${encodeURIComponent(s.projectId)}/scenes/${encodeURIComponent(s.sceneId)}`}>{sceneLabel(s.sceneId)}</Link>
                    <span className="muted small">{plural(ids.length, "segment")}</span>
                  </div>
                  <ul className="scene-segments">
                    {s.segments.map((seg) => (
                      <li key={seg.segmentId}>
                        <label className="segment-check">
                          <input
                            type="checkbox"
                            checked={selected.has(seg.segmentId)}
                            onChange={() => onChange(toggleIds(selected, [seg.segmentId]))}
                            aria-label={`Select segment ${seg.segmentId}`}
                          />
                        </label>
                        {seg.reasons.length > 0 ? <StaleIcon reasons={seg.reasons} /> : null}
                        <Link to={`/segments/${encodeURIComponent(seg.segmentId)}`}>{seg.segmentId}</Link>
                        {seg.reasons.length > 0 ? (
                          // only segments the stale list knows carry a real sequence index
                          <span className="muted small">{[seg.characterName, shotLabel(seg.sequenceIndex)].filter(Boolean).join(" · ")}</span>
                        ) : null}
                      </li>
                    ))}
                  </ul>
                </li>
              );
            })}
          </ul>
        </section>
      ))}
    </div>
  );
}
