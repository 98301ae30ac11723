/** Which segments are stale and why, for the whole app, kept fresh by WatchStaleness. */
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import type { StaleSegment, StalenessReason } from "@gen/common_pb.js";
import { useClients } from "./clients.js";
import { readAllPages } from "./paged.js";

/** The stale segments by id, and how fresh that knowledge is. */
export interface StalenessIndex {
  /** Stale segments by segment id; undefined until the first load. */
  byId: ReadonlyMap<string, StaleSegment> | undefined;
  /** The last load's error, if it failed. */
  error: unknown;
  /** Increases with every staleness change pushed by the server (and every explicit refresh). */
  changes: number;
  /** Whether the WatchStaleness stream is open. */
  live: boolean;
  /** Why the stream last dropped, when it is not live. */
  liveError: string | undefined;
  /** Loads again now (after a regeneration, say). */
  refresh(): void;
}

const EMPTY: StalenessIndex = { byId: undefined, error: undefined, changes: 0, live: false, liveError: undefined, refresh: () => undefined };

/** The app's staleness index. */
export const StalenessContext = createContext<StalenessIndex>(EMPTY);

/** The app's staleness index (see {@link StalenessProvider}). */
export function useStaleness(): StalenessIndex {
  return useContext(StalenessContext);
}

/** The reasons `segmentId` is stale, or undefined when it is not. */
export function useStaleReasons(segmentId: string): readonly StalenessReason[] | undefined {
  const seg = useStaleness().byId?.get(segmentId);
  return seg && seg.reasons.length > 0 ? seg.reasons : undefined;
}

const RETRY_MS = 3000;

/** Loads every stale segment and reloads on each change WatchStaleness pushes; reconnects when the stream drops. */
export function StalenessProvider({ children }: { children: ReactNode }) {
  const clients = useClients();
  const [byId, setById] = useState<ReadonlyMap<string, StaleSegment> | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [changes, setChanges] = useState(0);
  const [live, setLive] = useState(false);
  const [liveError, setLiveError] = useState<string | undefined>(undefined);
  const loadSeq = useRef(0);

  const load = useCallback(async () => {
    const seq = ++loadSeq.current;
    try {
      const segments = await readAllPages(async (pageToken) => {
        const res = await clients.staleness.listStaleSegments({ pageSize: 500, pageToken });
        return { items: res.segments, nextPageToken: res.nextPageToken };
      });
      if (seq !== loadSeq.current) return;
      setById(new Map(segments.map((s) => [s.segmentId, s])));
      setError(undefined);
    } catch (err) {
      if (seq === loadSeq.current) setError(err);
    }
  }, [clients]);

  const refresh = useCallback(() => {
    setChanges((c) => c + 1);
    void load();
  }, [load]);

  useEffect(() => {
    void load();
    const ctl = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const watch = async () => {
      try {
        const stream = clients.staleness.watchStaleness({}, { signal: ctl.signal });
        setLive(true);
        setLiveError(undefined);
        for await (const _change of stream) refresh();
        if (ctl.signal.aborted) return;
        setLiveError("the server ended the stream");
      } catch (err) {
        if (ctl.signal.aborted) return; // unmounted: this stream's state no longer matters
        setLiveError(err instanceof Error ? err.message : String(err));
      }
      // the stream failed or the server drained it: reconnect
      setLive(false);
      void load(); // changes may have been missed while disconnected
      timer = setTimeout(() => void watch(), RETRY_MS);
    };
    void watch();
    return () => {
      ctl.abort();
      if (timer) clearTimeout(timer);
    };
  }, [clients, load, refresh]);

  const value = useMemo(() => ({ byId, error, changes, live, liveError, refresh }), [byId, error, changes, live, liveError, refresh]);
  return <StalenessContext.Provider value={value}>{children}</StalenessContext.Provider>;
}
