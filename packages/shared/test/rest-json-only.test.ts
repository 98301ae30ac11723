/** State-changing REST routes take only `application/json`, so a page on another site cannot post to them without a preflight. */
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReceiptService } from "../src/index.js";
import { createServiceServer, type ServiceServer } from "../src/server/index.js";

const logger = pino({ level: "silent" });
let server: ServiceServer;
let url = "";
const reached: unknown[] = [];

beforeAll(async () => {
  server = createServiceServer({
    name: "rest-json-test",
    logger,
    services: [ReceiptService.typeName],
    routes: () => {},
    rest: [
      {
        method: "POST",
        path: "/api/projects/:id/regenerate-stale",
        handler: async ({ body }) => {
          reached.push(body);
          return { ok: true };
        },
      },
      { method: "GET", path: "/api/projects/:id/staleness-report", handler: async () => ({ ok: true }) },
    ],
  });
  ({ url } = await server.listen(0, "127.0.0.1"));
});
afterAll(() => server.close(100));

const post = (headers: Record<string, string>, body = '{"scene_ids":["s1"]}') =>
  fetch(`${url}/api/projects/p1/regenerate-stale`, { method: "POST", headers, body });

describe("POST REST routes", () => {
  it.each([
    ["text/plain (what a cross-site fetch or form may send without a preflight)", { "content-type": "text/plain" }],
    ["application/x-www-form-urlencoded", { "content-type": "application/x-www-form-urlencoded" }],
    ["multipart/form-data", { "content-type": "multipart/form-data; boundary=x" }],
    ["application/json-seq", { "content-type": "application/json-seq" }],
  ])("refuse %s with 415, naming content-type, before the handler", async (_name, headers) => {
    const before = reached.length;
    const res = await post(headers);
    expect(res.status).toBe(415);
    const body = (await res.json()) as { code: string; message: string; field: string };
    expect(body.field).toBe("content-type");
    expect(body.message).toMatch(/^content-type: must be application\/json, got "/);
    expect(reached.length).toBe(before);
  });

  it("refuse a body without content-type", async () => {
    const before = reached.length;
    const res = await fetch(`${url}/api/projects/p1/regenerate-stale`, { method: "POST", body: new Uint8Array(Buffer.from("{}")) });
    expect(res.status).toBe(415);
    expect(((await res.json()) as { message: string }).message).toBe("content-type: must be application/json, got none");
    expect(reached.length).toBe(before);
  });

  it("accept application/json, with or without parameters, in any case", async () => {
    for (const type of ["application/json", "application/json; charset=utf-8", "Application/JSON"]) {
      const res = await post({ "content-type": type });
      expect(res.status).toBe(200);
      expect(reached.at(-1)).toEqual({ scene_ids: ["s1"] });
    }
  });

  it("leave GET routes alone", async () => {
    const res = await fetch(`${url}/api/projects/p1/staleness-report`);
    expect(res.status).toBe(200);
  });
});
