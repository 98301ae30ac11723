/** Where the three services are: defaults on the console's own host, then config.json, then ?receipts= query parameters. */

/** Base URLs of the services the console calls. */
export interface ServiceUrls {
  receipts: string;
  staleness: string;
  regeneration: string;
}

/** The service names, in a fixed order. */
export const SERVICE_NAMES = ["receipts", "staleness", "regeneration"] as const;

/** Default ports, as the architecture fixes them. */
export const DEFAULT_SERVICE_PORTS: Readonly<ServiceUrls> = { receipts: "7101", staleness: "7102", regeneration: "7103" };

const STORAGE_KEY = "provenance-console.service-urls";

/** The defaults: the console's host with ports 7101–7103. */
export function defaultServiceUrls(location: Pick<Location, "protocol" | "hostname">): ServiceUrls {
  const at = (port: string) => `${location.protocol}//${location.hostname}:${port}`;
  return { receipts: at(DEFAULT_SERVICE_PORTS.receipts), staleness: at(DEFAULT_SERVICE_PORTS.staleness), regeneration: at(DEFAULT_SERVICE_PORTS.regeneration) };
}

function pick(source: unknown): Partial<ServiceUrls> {
  const out: Partial<ServiceUrls> = {};
  if (typeof source !== "object" || source === null) return out;
  for (const name of SERVICE_NAMES) {
    const value = (source as Record<string, unknown>)[name];
    if (typeof value === "string" && value.trim() !== "") out[name] = value.trim();
  }
  return out;
}

/** Makes every URL absolute (config.json may say "/svc/receipts") and drops trailing slashes. */
export function absolutize(urls: ServiceUrls, base: string): ServiceUrls {
  const fix = (u: string) => new URL(u, base).toString().replace(/\/+$/, "");
  return { receipts: fix(urls.receipts), staleness: fix(urls.staleness), regeneration: fix(urls.regeneration) };
}

/**
 * Resolves the service URLs: defaults < `config.json` served beside the app < `?receipts=&staleness=&regeneration=`
 * (remembered for the browser tab, so links inside the app keep them).
 */
export async function loadServiceUrls(
  location: Pick<Location, "protocol" | "hostname" | "href" | "search">,
  fetchConfig: () => Promise<unknown> = fetchConfigJson,
  storage: Pick<Storage, "getItem" | "setItem"> | undefined = globalThis.sessionStorage,
): Promise<ServiceUrls> {
  const fromFile = pick(await fetchConfig().catch(() => undefined));
  let remembered: Partial<ServiceUrls> = {};
  try {
    remembered = pick(JSON.parse(storage?.getItem(STORAGE_KEY) ?? "null"));
  } catch {
    remembered = {};
  }
  const params = new URLSearchParams(location.search);
  const fromQuery = pick(Object.fromEntries(SERVICE_NAMES.map((n) => [n, params.get(n) ?? ""])));
  if (Object.keys(fromQuery).length > 0) storage?.setItem(STORAGE_KEY, JSON.stringify({ ...remembered, ...fromQuery }));
  return absolutize({ ...defaultServiceUrls(location), ...fromFile, ...remembered, ...fromQuery }, location.href);
}

async function fetchConfigJson(): Promise<unknown> {
  const res = await fetch(new URL("config.json", new URL("/", globalThis.location.href)), { cache: "no-store" });
  if (!res.ok) return undefined;
  return res.json();
}
