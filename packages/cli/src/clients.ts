/** The service clients the CLI talks to, built from URLs given by flag, environment or default. */
import type { DescService } from "@bufbuild/protobuf";
import { createClient, type CallOptions, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AssetService, ReceiptService, RegenerationService, StalenessService } from "@provenance/shared";
import { createOutboundAuthInterceptor, type TokenSource } from "@provenance/shared/auth";
import { cliErrorFromRpc, usageError, type CallTarget } from "./exit-codes.js";

/** The three services the CLI reaches. */
export type ServiceKey = "receipts" | "staleness" | "regeneration";

/** Base URL of each service. */
export type ServiceUrls = Readonly<Record<ServiceKey, string>>;

/** Where each service listens when nothing says otherwise (the `npm start` defaults). */
export const DEFAULT_URLS: ServiceUrls = {
  receipts: "http://127.0.0.1:7101",
  staleness: "http://127.0.0.1:7102",
  regeneration: "http://127.0.0.1:7103",
};

/** Deadline of every unary call unless `--timeout` says otherwise. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Picks each service URL: the `--<service>-url` flag, else env `<SERVICE>_URL`, else the default.
 * A value that is not an http(s) URL is a usage error naming where it came from.
 */
export function resolveUrls(
  flags: Partial<Record<ServiceKey, string | undefined>>,
  env: Readonly<Record<string, string | undefined>>,
): ServiceUrls {
  const pick = (key: ServiceKey): string => {
    const fromFlag = flags[key]?.trim();
    const envName = `${key.toUpperCase()}_URL`;
    const fromEnv = env[envName]?.trim();
    const raw = fromFlag || fromEnv || DEFAULT_URLS[key];
    const source = fromFlag ? `--${key}-url` : fromEnv ? envName : "default";
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw usageError(`${source} must be an http:// or https:// URL, got "${raw}"`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw usageError(`${source} must be an http:// or https:// URL, got "${raw}"`);
    }
    return raw.replace(/\/+$/, "");
  };
  return { receipts: pick("receipts"), staleness: pick("staleness"), regeneration: pick("regeneration") };
}

/** A client of one service that turns every failure into a one-line CliError naming the service and URL. */
export class ServiceClient<S extends DescService> {
  constructor(
    readonly target: CallTarget,
    readonly client: Client<S>,
    private readonly timeoutMs: number,
  ) {}

  /** Makes a unary call with the deadline applied. */
  async call<T>(fn: (client: Client<S>, options: CallOptions) => Promise<T>): Promise<T> {
    try {
      return await fn(this.client, { timeoutMs: this.timeoutMs });
    } catch (err) {
      throw cliErrorFromRpc(err, this.target);
    }
  }
}

/** Every client a command may use. */
export interface Clients {
  readonly receipts: ServiceClient<typeof ReceiptService>;
  readonly assets: ServiceClient<typeof AssetService>;
  readonly staleness: ServiceClient<typeof StalenessService>;
  readonly regeneration: ServiceClient<typeof RegenerationService>;
}

/**
 * Builds the clients over the Connect protocol on HTTP/1.1 (every service serves it beside gRPC); each call carries
 * `authorization: Bearer <token from token>`.
 */
export function createClients(urls: ServiceUrls, token: TokenSource, timeoutMs: number = DEFAULT_TIMEOUT_MS): Clients {
  const interceptors = [createOutboundAuthInterceptor({ serviceToken: token })];
  const transportFor = (baseUrl: string) => createConnectTransport({ baseUrl, httpVersion: "1.1", interceptors });
  const receipts = transportFor(urls.receipts);
  const staleness = transportFor(urls.staleness);
  const regeneration = transportFor(urls.regeneration);
  return {
    receipts: new ServiceClient({ service: "receipts", url: urls.receipts }, createClient(ReceiptService, receipts), timeoutMs),
    assets: new ServiceClient({ service: "staleness", url: urls.staleness }, createClient(AssetService, staleness), timeoutMs),
    staleness: new ServiceClient({ service: "staleness", url: urls.staleness }, createClient(StalenessService, staleness), timeoutMs),
    regeneration: new ServiceClient(
      { service: "regeneration", url: urls.regeneration },
      createClient(RegenerationService, regeneration),
      timeoutMs,
    ),
  };
}
