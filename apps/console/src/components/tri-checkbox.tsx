/** A checkbox that shows all / some / none. */
import { useEffect, useRef } from "react";
import type { CheckState } from "../lib/report-groups.js";

/** A checkbox for `state`, indeterminate when "some". */
export function TriCheckbox({ state, onToggle, label }: { state: CheckState; onToggle: () => void; label: string }) {
  const ref = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (ref.current) ref.current.indeterminate = state === "some";
  }, [state]);
  return <input ref={ref} type="checkbox" checked={state === "all"} onChange={onToggle} aria-label={label} />;
}
