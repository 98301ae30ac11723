/** The version → hash lookup the reverse query's version filter uses: cached, because a version's hash never changes. */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AssetService, AssetVersionSchema, GetVersionResponseSchema } from "@provenance/shared";
import { AssetServiceVersionLookup } from "../src/clients/asset-versions.js";
import { sha } from "./receipts-harness.js";

let server: http2.Http2Server;
let baseUrl = "";
const asked: string[] = [];
const sessions = new Set<http2.ServerHttp2Session>();

beforeAll(async () => {
  // A real gRPC server answering AssetService.GetVersion for lora-a v1 and v2 only, recording every call.
  server = http2.createServer(
    connectNodeAdapter({
      routes(router) {
        router.service(AssetService, {
          getVersion(req) {
            asked.push(`${req.assetId}@${req.version}`);
            if (req.assetId !== "lora-a" || req.version < 1 || req.version > 2) {
              throw new ConnectError("no such version", Code.NotFound);
            }
            return create(GetVersionResponseSchema, {
              version: create(AssetVersionSchema, { assetId: req.assetId, version: req.version, contentHash: sha(`lora a v${req.version}`) }),
            });
          },
        });
      },
    }),
  );
  server.on("session", (session) => sessions.add(session));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  // The clients keep their HTTP/2 sessions open; close them so the server can stop.
  for (const session of sessions) session.destroy();
  await new Promise((resolve) => server.close(resolve));
});

describe("AssetServiceVersionLookup", () => {
  it("asks AssetService once per known version, and again for unknown ones", async () => {
    const lookup = new AssetServiceVersionLookup(baseUrl);
    expect(await lookup.contentHashOf("lora-a", 1)).toBe(sha("lora a v1"));
    expect(await lookup.contentHashOf("lora-a", 1)).toBe(sha("lora a v1"));
    expect(await lookup.contentHashOf("lora-a", 2)).toBe(sha("lora a v2"));
    await expect(lookup.contentHashOf("lora-a", 3)).rejects.toMatchObject({ code: "not_found" });
    await expect(lookup.contentHashOf("lora-a", 3)).rejects.toMatchObject({ code: "not_found" });
    expect(asked).toEqual(["lora-a@1", "lora-a@2", "lora-a@3", "lora-a@3"]);
  });

  it("reports UNAVAILABLE naming the service when it cannot be reached, and caches nothing", async () => {
    const down = new AssetServiceVersionLookup("http://127.0.0.1:1", 500);
    await expect(down.contentHashOf("lora-a", 1)).rejects.toMatchObject({ code: "unavailable" });
    await expect(down.contentHashOf("lora-a", 1)).rejects.toThrow(/AssetService at http:\/\/127\.0\.0\.1:1/);
  });
});
