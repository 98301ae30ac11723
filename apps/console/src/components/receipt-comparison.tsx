/** The field-by-field comparison of a regenerated segment's receipt with the one it superseded. */
import type { Receipt } from "@gen/common_pb.js";
import { useAssetDirectory } from "../api/asset-directory.js";
import { compareReceipts } from "../lib/receipt-fields.js";

/** A table of every field, changed ones first-class highlighted, with a count of changes. */
export function ReceiptComparison({ before, after }: { before: Receipt; after: Receipt }) {
  const assets = useAssetDirectory();
  const names = new Map([...assets.values()].map((a) => [a.assetId, a.name]));
  const rows = compareReceipts(before, after, names);
  const changed = rows.filter((r) => r.changed).length;
  return (
    <section className="receipt-comparison" aria-label="Comparison with the superseded receipt">
      <p>
        {changed === 0 ? "No field differs." : `${changed} of ${rows.length} fields differ; the rest were kept as they were.`}
      </p>
      <table>
        <thead>
          <tr>
            <th>Field</th>
            <th>Superseded segment</th>
            <th>This segment</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.label} className={r.changed ? "changed" : undefined} data-changed={r.changed || undefined}>
              <th scope="row">{r.label}</th>
              <td>{r.before}</td>
              <td>{r.after}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
