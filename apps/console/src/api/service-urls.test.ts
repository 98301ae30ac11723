import { describe, expect, it } from "vitest";
import { loadServiceUrls } from "./service-urls.js";

function memoryStorage() {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v) };
}

const at = (href: string) => {
  const u = new URL(href);
  return { protocol: u.protocol, hostname: u.hostname, href: u.href, search: u.search };
};

describe("service URLs", () => {
  it("default to the page's host on ports 7101–7103", async () => {
    expect(await loadServiceUrls(at("http://studio.example:7100/report"), async () => undefined, memoryStorage())).toEqual({
      receipts: "http://studio.example:7101",
      staleness: "http://studio.example:7102",
      regeneration: "http://studio.example:7103",
    });
  });

  it("take config.json (relative paths resolved against the page) over the defaults", async () => {
    const urls = await loadServiceUrls(at("http://localhost:7100/segments/x"), async () => ({ receipts: "/svc/receipts", staleness: "https://api.example/staleness/" }), memoryStorage());
    expect(urls).toEqual({ receipts: "http://localhost:7100/svc/receipts", staleness: "https://api.example/staleness", regeneration: "http://localhost:7103" });
  });

  it("take ?receipts= query parameters over both, and remember them for the tab", async () => {
    const storage = memoryStorage();
    const first = await loadServiceUrls(at("http://localhost:5173/?receipts=http://10.0.0.5:7101"), async () => ({ receipts: "/svc/receipts" }), storage);
    expect(first.receipts).toBe("http://10.0.0.5:7101");
    const later = await loadServiceUrls(at("http://localhost:5173/report"), async () => ({ receipts: "/svc/receipts" }), storage);
    expect(later.receipts).toBe("http://10.0.0.5:7101");
  });

  it("ignore a config.json that fails to load", async () => {
    const urls = await loadServiceUrls(at("http://localhost:7100/"), () => Promise.reject(new Error("404")), memoryStorage());
    expect(urls.staleness).toBe("http://localhost:7102");
  });
});
