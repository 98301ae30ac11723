/**
 * For component tests: the console's clients over in-memory services (connect's router transport), so views run their
 * real calls, paging and error handling against handlers the test writes; and the app's contexts around a view.
 */
import type { ReactNode } from "react";
import { createClient, createRouterTransport, type ServiceImpl } from "@connectrpc/connect";
import { MemoryRouter, Route, Routes } from "react-router";
import { AssetService } from "@gen/assets_pb.js";
import type { Asset } from "@gen/assets_pb.js";
import type { StaleSegment } from "@gen/common_pb.js";
import { ReceiptService } from "@gen/receipts_pb.js";
import { RegenerationService } from "@gen/regeneration_pb.js";
import { StalenessService } from "@gen/staleness_pb.js";
import { AssetDirectoryContext } from "../api/asset-directory.js";
import { ClientsContext, type Clients } from "../api/clients.js";
import { StalenessContext } from "../api/staleness-index.js";

/** The handlers a test implements; an RPC left out answers UNIMPLEMENTED, as a real service without it would. */
export interface FakeServices {
  receipts?: Partial<ServiceImpl<typeof ReceiptService>>;
  assets?: Partial<ServiceImpl<typeof AssetService>>;
  staleness?: Partial<ServiceImpl<typeof StalenessService>>;
  regeneration?: Partial<ServiceImpl<typeof RegenerationService>>;
}

/** Clients whose calls reach `services` in memory. */
export function fakeClients(services: FakeServices): Clients {
  const transport = createRouterTransport((router) => {
    router.service(ReceiptService, services.receipts ?? {});
    router.service(AssetService, services.assets ?? {});
    router.service(StalenessService, services.staleness ?? {});
    router.service(RegenerationService, services.regeneration ?? {});
  });
  return {
    receipts: createClient(ReceiptService, transport),
    assets: createClient(AssetService, transport),
    staleness: createClient(StalenessService, transport),
    regeneration: createClient(RegenerationService, transport),
    urls: { receipts: "http://receipts.test", staleness: "http://staleness.test", regeneration: "http://regeneration.test" },
  };
}

/** Renders `element` at `path` (matched by `route`) inside the app's contexts. */
export function inApp(
  element: ReactNode,
  { clients, path, route, stale = [], assets }: { clients: Clients; path: string; route: string; stale?: readonly StaleSegment[]; assets?: readonly Asset[] },
) {
  const staleness = {
    byId: new Map(stale.map((s) => [s.segmentId, s])),
    error: undefined,
    changes: 0,
    live: true,
    liveError: undefined,
    refresh: () => undefined,
  };
  return (
    <ClientsContext.Provider value={clients}>
      <StalenessContext.Provider value={staleness}>
        <AssetDirectoryContext.Provider value={assets ? new Map(assets.map((a) => [a.assetId, a])) : undefined}>
          <MemoryRouter initialEntries={[path]}>
            <Routes>
              <Route path={route} element={element} />
            </Routes>
          </MemoryRouter>
        </AssetDirectoryContext.Provider>
      </StalenessContext.Provider>
    </ClientsContext.Provider>
  );
}
