import { describe, expect, it } from "vitest";
import { sha, thrownBy } from "../../test/receipt-fixtures.js";
import { usageHashFilter } from "./asset-usage.js";

describe("which content hash a usage query filters on", () => {
  const hash = sha("lora v2");

  it("none, the requested hash in lower case, or the version's hash", () => {
    expect(usageHashFilter({ assetId: "a", contentHash: "", version: 0 }, undefined)).toBeUndefined();
    expect(usageHashFilter({ assetId: "a", contentHash: hash.toUpperCase(), version: 0 }, undefined)).toBe(hash);
    expect(usageHashFilter({ assetId: "a", contentHash: "", version: 2 }, hash)).toBe(hash);
    expect(usageHashFilter({ assetId: "a", contentHash: hash.toUpperCase(), version: 2 }, hash)).toBe(hash);
  });

  it("a hash that is not the version's is INVALID_ARGUMENT on content_hash", () => {
    const err = thrownBy(() => usageHashFilter({ assetId: "a", contentHash: sha("other"), version: 2 }, hash));
    expect(err.code).toBe("invalid_argument");
    expect(err.field).toBe("content_hash");
    expect(err.message).toContain("version 2 of a");
  });
});
