/** Connect clients of the three services, over HTTP/1.1 fetch (Connect protocol, JSON), shared through React context. */
import { createContext, useContext } from "react";
import { Code, ConnectError, createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { AssetService } from "@gen/assets_pb.js";
import { ReceiptService } from "@gen/receipts_pb.js";
import { RegenerationService } from "@gen/regeneration_pb.js";
import { StalenessService } from "@gen/staleness_pb.js";
import { signWithC2pa, type C2paSign } from "./c2pa-sign.js";
import { checkReceiptLog, type ReceiptLogCheck } from "./receipt-log.js";
import type { ServiceUrls } from "./service-urls.js";

/** One client per service the console calls. */
export interface Clients {
  receipts: Client<typeof ReceiptService>;
  assets: Client<typeof AssetService>;
  staleness: Client<typeof StalenessService>;
  regeneration: Client<typeof RegenerationService>;
  /** Where each service is, for error messages. */
  urls: ServiceUrls;
  /** Verifies a receipt against the receipt log (through the console's server); absent: no badge. */
  receiptLog?: ReceiptLogCheck;
  /** Signs a segment's file with Content Credentials (through the console's server); absent: no such section. */
  c2paSign?: C2paSign;
}

/** What the clients tell the page. */
export interface ClientOptions {
  /** A call was answered "not signed in" (the session ended on the console's server): show the signed-out page. */
  onSignedOut?: () => void;
}

/** Calls `onSignedOut` when a call is answered UNAUTHENTICATED, then lets the error through to the view. */
function signedOutWatcher(onSignedOut: (() => void) | undefined): Interceptor {
  return (next) => async (req) => {
    try {
      return await next(req);
    } catch (err) {
      if (onSignedOut && ConnectError.from(err).code === Code.Unauthenticated) onSignedOut();
      throw err;
    }
  };
}

/**
 * Creates the clients for `urls`. Through the console's proxy the browser sends no token: the server presents the
 * signed-in user's.
 */
export function createClients(urls: ServiceUrls, opts: ClientOptions = {}): Clients {
  const interceptors = [signedOutWatcher(opts.onSignedOut)];
  const transport = (baseUrl: string) => createConnectTransport({ baseUrl, useBinaryFormat: false, interceptors });
  const stalenessTransport = transport(urls.staleness);
  return {
    receipts: createClient(ReceiptService, transport(urls.receipts)),
    assets: createClient(AssetService, stalenessTransport),
    staleness: createClient(StalenessService, stalenessTransport),
    regeneration: createClient(RegenerationService, transport(urls.regeneration)),
    urls,
    receiptLog: checkReceiptLog,
    c2paSign: signWithC2pa,
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
