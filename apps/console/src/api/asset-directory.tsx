/** Every registered asset by id, so receipts can show names and link to assets. */
import { createContext, useContext, useEffect, useState, type ReactNode } from "react";
import type { Asset } from "@gen/assets_pb.js";
import { useClients } from "./clients.js";
import { readAllPages } from "./paged.js";

/** Assets by id; undefined until loaded (ids are shown meanwhile, and nothing is called untracked yet). */
export const AssetDirectoryContext = createContext<ReadonlyMap<string, Asset> | undefined>(undefined);

const NONE: ReadonlyMap<string, Asset> = new Map();

/** The asset directory (see {@link AssetDirectoryProvider}); empty until loaded. */
export function useAssetDirectory(): ReadonlyMap<string, Asset> {
  return useContext(AssetDirectoryContext) ?? NONE;
}

/** Whether the directory has loaded, so an asset missing from it is really not registered (untracked). */
export function useAssetDirectoryLoaded(): boolean {
  return useContext(AssetDirectoryContext) !== undefined;
}

/** Loads ListAssets once, and again whenever `changes` moves (a version published or made current). */
export function AssetDirectoryProvider({ children, changes }: { children: ReactNode; changes: number }) {
  const clients = useClients();
  const [assets, setAssets] = useState<ReadonlyMap<string, Asset> | undefined>(undefined);
  useEffect(() => {
    let cancelled = false;
    readAllPages(async (pageToken) => {
      const res = await clients.assets.listAssets({ pageSize: 500, pageToken });
      return { items: res.assets, nextPageToken: res.nextPageToken };
    }).then(
      (list) => !cancelled && setAssets(new Map(list.map((a) => [a.assetId, a]))),
      () => undefined, // names are a nicety here; views that need assets load and report errors themselves
    );
    return () => {
      cancelled = true;
    };
  }, [clients, changes]);
  return <AssetDirectoryContext.Provider value={assets}>{children}</AssetDirectoryContext.Provider>;
}
