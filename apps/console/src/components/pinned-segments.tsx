/** The report's pinned segments ("Pinned (N)", who, why, until, Unpin) and the action that pins a stale scene to its version. */
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { useState } from "react";
import type { PinnedSegment } from "@gen/staleness_pb.js";
import { useClients } from "../api/clients.js";
import { describeError } from "../lib/describe-error.js";
import { formatTime, plural } from "../lib/format.js";
import type { ReportGroup } from "../lib/report-groups.js";

/** A scene of a stale group that can be pinned to the group's (older) version. */
interface PinChoice {
  key: string;
  projectId: string;
  sceneId: string;
  assetId: string;
  assetName: string;
  version: number;
  currentVersion: number;
}

/** Every (group, scene) of the report, as pin choices; groups of an unregistered version (v0) cannot be pinned. */
export function pinChoices(groups: readonly ReportGroup[]): PinChoice[] {
  return groups
    .filter((g) => g.receiptVersion > 0)
    .flatMap((g) =>
      g.scenes.map((s) => ({
        key: `${g.key}/${s.sceneId}`,
        projectId: g.projectId,
        sceneId: s.sceneId,
        assetId: g.assetId,
        assetName: g.assetName,
        version: g.receiptVersion,
        currentVersion: g.currentVersion,
      })),
    );
}

/** "Pinned (N)": each pinned segment with its version, who pinned it, why and until when, and Unpin; then the pin form. */
export function PinnedSegments({
  pinned,
  pinnedCount,
  groups,
  onChanged,
}: {
  pinned: readonly PinnedSegment[];
  pinnedCount: number;
  groups: readonly ReportGroup[];
  onChanged: () => void;
}) {
  const clients = useClients();
  const choices = pinChoices(groups);
  const [choice, setChoice] = useState("");
  const [reason, setReason] = useState("");
  const [until, setUntil] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ what: string; todo: string } | undefined>();
  const chosen = choices.find((c) => c.key === choice) ?? choices[0];

  const act = async (work: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await work();
      onChanged();
    } catch (err) {
      setError(describeError(err, "staleness", clients.urls.staleness));
    } finally {
      setBusy(false);
    }
  };
  const pin = () =>
    act(async () => {
      await clients.staleness.pinSegments({
        projectId: chosen!.projectId,
        sceneId: chosen!.sceneId,
        assetId: chosen!.assetId,
        version: chosen!.version,
        reason: reason.trim(),
        expiresAt: until ? timestampFromDate(new Date(until)) : undefined,
      });
      setReason("");
      setUntil("");
    });
  const unpin = (p: PinnedSegment) => act(() => clients.staleness.unpinSegments({ projectId: p.projectId, pinId: p.pinId }));

  if (pinnedCount === 0 && choices.length === 0) return null;
  return (
    <section className="pinned-box" data-testid="pinned">
      {pinnedCount > 0 ? (
        <>
          <h2>Pinned ({pinnedCount})</h2>
          <p className="lede">Held on an older version on purpose: not stale while the asset stays on the version it was on when pinned, and left out of plans.</p>
          <table className="pinned-table">
            <thead>
              <tr>
                <th>Segment</th>
                <th>Scene</th>
                <th>Pinned to</th>
                <th>By</th>
                <th>Why</th>
                <th>Until</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {pinned.map((p) => (
                <tr key={`${p.segmentId}/${p.assetId}`} data-testid="pinned-row">
                  <td>{p.segmentId}</td>
                  <td>{p.sceneId}</td>
                  <td>
                    {p.assetName || p.assetId} v{p.version} (current v{p.currentVersion})
                  </td>
                  <td>{p.pinnedBy}</td>
                  <td>{p.reason}</td>
                  <td>{p.expiresAt ? formatTime(p.expiresAt) : "no expiry"}</td>
                  <td>
                    <button type="button" disabled={busy} title={`Ends pin ${p.pinId} (every segment it holds)`} onClick={() => void unpin(p)}>
                      Unpin
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
      {chosen ? (
        <form
          className="pin-form"
          onSubmit={(e) => {
            e.preventDefault();
            void pin();
          }}
        >
          <label>
            Pin scene{" "}
            <select aria-label="Scene to pin" value={chosen.key} onChange={(e) => setChoice(e.target.value)}>
              {choices.map((c) => (
                <option key={c.key} value={c.key}>
                  {c.sceneId} ({c.projectId}) on {c.assetName} v{c.version}, now v{c.currentVersion}
                </option>
              ))}
            </select>
          </label>{" "}
          <label>
            why <input aria-label="Why" value={reason} required maxLength={2000} onChange={(e) => setReason(e.target.value)} />
          </label>{" "}
          <label>
            until <input aria-label="Until" type="datetime-local" value={until} onChange={(e) => setUntil(e.target.value)} />
          </label>{" "}
          <button type="submit" disabled={busy || reason.trim() === ""}>
            Pin {plural(groups.find((g) => `${g.key}/${chosen.sceneId}` === chosen.key)?.scenes.find((s) => s.sceneId === chosen.sceneId)?.segments.length ?? 0, "segment")}
          </button>
        </form>
      ) : null}
      {error ? (
        <div className="state state-error" role="alert">
          <strong>{error.what}</strong>
          <p>{error.todo}</p>
        </div>
      ) : null}
    </section>
  );
}
