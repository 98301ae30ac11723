/** Connect clients of the three services, over HTTP/1.1 fetch (Connect protocol, JSON), shared through React context. */
import { createContext, useContext } from "react";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { AssetService } from "@gen/assets_pb.js";
import { ReceiptService } from "@gen/receipts_pb.js";
import { RegenerationService } from "@gen/regeneration_pb.js";
import { StalenessService } from "@gen/staleness_pb.js";
import type { ServiceUrls } from "./service-urls.js";

/** One client per service the console calls. */
export interface Clients {
  receipts: Client<typeof ReceiptService>;
  assets: Client<typeof AssetService>;
  staleness: Client<typeof StalenessService>;
  regeneration: Client<typeof RegenerationService>;
  /** Where each service is, for error messages. */
  urls: ServiceUrls;
}

/** Creates the clients for `urls`. */
export function createClients(urls: ServiceUrls): Clients {
  const transport = (baseUrl: string) => createConnectTransport({ baseUrl, useBinaryFormat: false });
  const stalenessTransport = transport(urls.staleness);
  return {
    receipts: createClient(ReceiptService, transport(urls.receipts)),
    assets: createClient(AssetService, stalenessTransport),
    staleness: createClient(StalenessService, stalenessTransport),
    regeneration: createClient(RegenerationService, transport(urls.regeneration)),
    urls,
  };
}

/** The clients of the running app. */
export const ClientsContext = createContext<Clients | undefined>(undefined);

/** The clients from {@link ClientsContext}; throws outside a provider. */
export function useClients(): Clients {
  const clients = useContext(ClientsContext);
  if (!clients) throw new Error("useClients outside ClientsContext.Provider");
  return clients;
}
