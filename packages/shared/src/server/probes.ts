/** The plain HTTP probes on every port: /healthz (alive), /readyz (dependencies reachable, not draining), /metrics. */
import type * as http from "node:http";
import type { Registry } from "prom-client";
import type { HealthState } from "./health.js";
import { sendJson, type NodeRequest, type NodeResponse } from "./json-response.js";

/** Answers a GET or HEAD of /healthz, /readyz or /metrics and resolves true; resolves false for anything else. */
export async function serveProbes(req: NodeRequest, res: NodeResponse, url: URL, health: HealthState, metrics: Registry): Promise<boolean> {
  if (req.method !== "GET" && req.method !== "HEAD") return false;
  if (url.pathname === "/healthz") {
    sendJson(res, 200, { status: "ok" });
    return true;
  }
  if (url.pathname === "/readyz") {
    const ready = !health.isDraining && (await health.ready());
    sendJson(res, ready ? 200 : 503, { status: ready ? "ready" : "not ready" });
    return true;
  }
  if (url.pathname === "/metrics") {
    const text = await metrics.metrics();
    (res as http.ServerResponse).writeHead(200, { "content-type": metrics.contentType });
    (res as http.ServerResponse).end(text);
    return true;
  }
  return false;
}
