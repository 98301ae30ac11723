/** A yes/no setting of a view kept in the address (`?name=1`), so a reload or a shared link keeps it. */
import { useCallback, useEffect, useState } from "react";
import { useSearchParams } from "react-router";

/**
 * Returns the flag and its setter. The value on screen changes at once: the router applies a new address inside a
 * transition, so a control bound to the address alone (a controlled checkbox) would go on showing its old state until
 * that transition commits. The address still wins when it changes by itself (back, forward, a followed link).
 */
export function useAddressFlag(name: string): [boolean, (on: boolean) => void] {
  const [params, setParams] = useSearchParams();
  const inAddress = params.get(name) === "1";
  const [on, setOn] = useState(inAddress);
  useEffect(() => setOn(inAddress), [inAddress]);
  const set = useCallback(
    (next: boolean) => {
      setOn(next);
      setParams(
        (p) => {
          const changed = new URLSearchParams(p);
          if (next) changed.set(name, "1");
          else changed.delete(name);
          return changed;
        },
        { replace: true },
      );
    },
    [name, setParams],
  );
  return [on, set];
}
