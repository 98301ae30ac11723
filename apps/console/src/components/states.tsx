/** Loading, empty and error states that say what happened and what to do. */
import type { ReactNode } from "react";
import { describeError } from "../lib/describe-error.js";

/** A line saying what is being loaded. */
export function Loading({ what }: { what: string }) {
  return (
    <p className="state state-loading" role="status">
      <span className="spinner" aria-hidden="true" /> Loading {what}…
    </p>
  );
}

/** Nothing to show, why, and what to do about it. */
export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty">
      <strong>{title}</strong>
      {children ? <p>{children}</p> : null}
    </div>
  );
}

/** A failed call: what happened, what to do, and a retry button. */
export function ErrorState({ error, service, url, onRetry }: { error: unknown; service: string; url: string; onRetry?: () => void }) {
  const { what, todo } = describeError(error, service, url);
  return (
    <div className="state state-error" role="alert">
      <strong>{what}</strong>
      <p>{todo}</p>
      {onRetry ? (
        <button type="button" onClick={onRetry}>
          Retry
        </button>
      ) : null}
    </div>
  );
}
