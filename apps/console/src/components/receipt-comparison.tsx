/** The field-by-field comparison of a regenerated segment's receipt with the one it superseded. */
import type { Receipt } from "@gen/common_pb.js";
import { useAssetDirectory } from "../api/asset-directory.js";
import { useClients } from "../api/clients.js";
import { comparisonRows } from "../lib/receipt-comparison-rows.js";
import { useAsync } from "../lib/use-async.js";
import { ErrorState, Loading } from "./states.js";

/** A table of every field (ReceiptService.CompareReceipts), changed ones first-class highlighted, with a count of changes. */
export function ReceiptComparison({ before, after }: { before: Receipt; after: Receipt }) {
  const clients = useClients();
  const assets = useAssetDirectory();
  const compared = useAsync(
    (signal) => clients.receipts.compareReceipts({ leftReceiptId: before.receiptId, rightReceiptId: after.receiptId }, { signal }),
    [clients, before.receiptId, after.receiptId],
  );
  if (compared.loading) return <Loading what="the comparison" />;
  if (!compared.data) return <ErrorState error={compared.error} service="receipts" url={clients.urls.receipts} onRetry={() => compared.reload()} />;
  const names = new Map([...assets.values()].map((a) => [a.assetId, a.name]));
  const rows = comparisonRows(compared.data.fields, names);
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
