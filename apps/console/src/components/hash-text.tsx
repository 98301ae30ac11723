/** A hash shortened for reading, the whole on hover, and a button that copies it. */
import { useState } from "react";
import { shortHash } from "../lib/format.js";

async function copyText(text: string): Promise<void> {
  if (navigator.clipboard?.writeText) {
    try {
      await navigator.clipboard.writeText(text);
      return;
    } catch {
      // a page without clipboard permission falls back to a selection copy
    }
  }
  const area = document.createElement("textarea");
  area.value = text;
  document.body.appendChild(area);
  area.select();
  document.execCommand("copy");
  area.remove();
}

/** Shows `hash` shortened with a copy button; "—" when empty. */
export function HashText({ hash, label }: { hash: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  if (!hash) return <span className="muted">—</span>;
  return (
    <span className="hash">
      <code title={hash}>{shortHash(hash)}</code>
      <button
        type="button"
        className="copy-button"
        aria-label={`Copy ${label ?? "hash"} ${hash}`}
        data-hash={hash}
        onClick={() => {
          void copyText(hash).then(() => {
            setCopied(true);
            setTimeout(() => setCopied(false), 1500);
          });
        }}
      >
        {copied ? "Copied" : "Copy"}
      </button>
    </span>
  );
}
