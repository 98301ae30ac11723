/** Loads data for a view and keeps loading / error / data apart, with a reload. */
import { useCallback, useEffect, useRef, useState } from "react";

/** What a view renders from: exactly one of loading (first load), error or data. */
export interface AsyncState<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /** Loads again; `quiet` keeps the current data on screen while it does. */
  reload(quiet?: boolean): void;
}

/** Runs `load` when `deps` change; a later load always wins over an earlier one still in flight. */
export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[]): AsyncState<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const [tick, setTick] = useState(0);
  const quietRef = useRef(false);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const run = useCallback(load, deps);
  useEffect(() => {
    const ctl = new AbortController();
    if (!quietRef.current) setState({ data: undefined, error: undefined, loading: true });
    quietRef.current = false;
    run(ctl.signal).then(
      (data) => !ctl.signal.aborted && setState({ data, error: undefined, loading: false }),
      (error: unknown) => !ctl.signal.aborted && setState((s) => ({ data: s.data, error, loading: false })),
    );
    return () => ctl.abort();
  }, [run, tick]);
  const reload = useCallback((quiet = false) => {
    quietRef.current = quiet;
    setTick((t) => t + 1);
  }, []);
  return { ...state, reload };
}
