import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  AssetService,
  ReceiptService,
  RegenerationService,
  StalenessService,
} from "../index.js";
import { ACCESS_TABLE, PUBLIC_SERVICES, REST_ROUTE_PROCEDURES, type AccessTable } from "./access-table.js";
import { compileAccessTable, missingAccessRules } from "./access-decision.js";

const SERVICES = [ReceiptService, AssetService, StalenessService, RegenerationService];
const procedures = SERVICES.flatMap((s) => s.methods.map((m) => `${s.typeName}/${m.name}`));

describe("the access table", () => {
  it("has an entry for every method of every provenance service", () => {
    expect(procedures.length).toBeGreaterThanOrEqual(24);
    expect(missingAccessRules(SERVICES)).toEqual([]);
    for (const p of procedures) expect(ACCESS_TABLE[p], p).toBeDefined();
  });

  it("reports a method without an entry, so a new RPC fails this test", () => {
    const { [`provenance.v1.ReceiptService/CreateReceipt`]: _dropped, ...rest } = ACCESS_TABLE;
    expect(missingAccessRules(SERVICES, rest as AccessTable)).toEqual(["provenance.v1.ReceiptService/CreateReceipt"]);
  });

  it("names only methods that exist, and no public service", () => {
    for (const key of Object.keys(ACCESS_TABLE)) {
      expect(procedures, key).toContain(key);
      expect(PUBLIC_SERVICES.has(key.split("/")[0]!)).toBe(false);
    }
  });

  it("requires the contract's roles", () => {
    const byRole = (role: string) =>
      Object.entries(ACCESS_TABLE)
        .filter(([, r]) => r.role === role)
        .map(([k]) => k.replace("provenance.v1.", ""))
        .sort();
    expect(byRole("pipeline")).toEqual([
      "ReceiptService/CompleteReceipt",
      "ReceiptService/CompleteReceipts",
      "ReceiptService/CreateReceipt",
      "ReceiptService/CreateReceipts",
    ]);
    expect(byRole("creator")).toEqual([
      "AssetService/PublishVersion",
      "AssetService/SetCurrentVersion",
      "RegenerationService/ReproduceSegment",
      "RegenerationService/SubmitRegeneration",
      "StalenessService/PinSegments",
      "StalenessService/UnpinSegments",
    ]);
    expect(byRole("admin")).toEqual(["AssetService/RegisterAsset", "ReceiptService/ImportLegacySegments"]);
    expect(byRole("viewer")).toEqual(
      [
        "AssetService/GetAsset",
        "AssetService/GetVersion",
        "AssetService/ListAssets",
        "AssetService/ListVersions",
        "ReceiptService/BatchGetCurrentReceipts",
        "ReceiptService/CompareReceipts",
        "ReceiptService/FindReceiptsByInputsHash",
        "ReceiptService/GetAssetUsage",
        "ReceiptService/GetCheckpoint",
        "ReceiptService/GetConsistencyProof",
        "ReceiptService/GetCoverage",
        "ReceiptService/GetGenerationDurations",
        "ReceiptService/GetReceipt",
        "ReceiptService/GetReceiptProof",
        "ReceiptService/GetSegmentProvenance",
        "ReceiptService/ListProjects",
        "ReceiptService/ListSegments",
        "RegenerationService/GetRegenerationBatch",
        "RegenerationService/GetReproduction",
        "RegenerationService/ListRegenerationJobs",
        "RegenerationService/ListReproductions",
        "RegenerationService/PlanRegeneration",
        "StalenessService/GetStalenessReport",
        "StalenessService/ListStaleSegments",
        "StalenessService/ListPins",
        "StalenessService/WatchStaleness",
      ].sort(),
    );
  });

  const GLOBAL_READS = ["provenance.v1.ReceiptService/GetCheckpoint", "provenance.v1.ReceiptService/GetConsistencyProof"];

  it("says where every project comes from: a project field, a looked-up item, or a filtered list", () => {
    for (const [p, rule] of Object.entries(ACCESS_TABLE)) {
      // A rule with no project source must be a filtered list: otherwise anyone with some grant could call it. Only
      // the receipt log's own reads are meant so: one log of every project, whose checkpoints and consistency proofs
      // name no receipt.
      if (rule.projects.length === 0 && !GLOBAL_READS.includes(p)) expect(rule.filtered, p).toBe(true);
      // Only optional filters may be ignored when empty, and only on filtered lists.
      for (const s of rule.projects) if (s.whenEmpty === "ignore") expect(rule.filtered, p).toBe(true);
    }
    expect(ACCESS_TABLE["provenance.v1.StalenessService/WatchStaleness"]!.filtered).toBe(true);
    expect(ACCESS_TABLE["provenance.v1.AssetService/RegisterAsset"]!.projects).toEqual([{ from: "field", field: "project_id", whenEmpty: "shared" }]);
  });

  it("compiles: every field path names a string field of the request", () => {
    const compiled = compileAccessTable(ACCESS_TABLE, SERVICES);
    expect([...compiled.keys()].sort()).toEqual([...procedures].sort());
    const createMany = compiled.get("provenance.v1.ReceiptService/CreateReceipts")!;
    const method = ReceiptService.method.createReceipts;
    const msg = create(method.input, { receipts: [{ projectId: "A" }, { projectId: "B" }] });
    expect(createMany.sources[0]!.read(msg).map((v) => [v.path, v.value])).toEqual([
      ["receipts[0].project_id", "A"],
      ["receipts[1].project_id", "B"],
    ]);
  });

  it("refuses a path that names no field", () => {
    expect(() =>
      compileAccessTable({ "provenance.v1.ReceiptService/GetReceipt": { role: "viewer", projects: [{ from: "field", field: "project", whenEmpty: "invalid" }], filtered: false } }, SERVICES),
    ).toThrow(/GetReceiptRequest has no field "project"/);
  });

  it("maps every REST route to an RPC of the table", () => {
    expect(Object.keys(REST_ROUTE_PROCEDURES).sort()).toEqual([
      "GET /api/assets/:id/usage",
      "GET /api/coverage",
      "GET /api/projects/:id/coverage",
      "GET /api/projects/:id/staleness-report",
      "GET /api/receipts/:left/compare/:right",
      "GET /api/segments/:id/provenance",
      "POST /api/projects/:id/regenerate-stale",
    ]);
    for (const p of Object.values(REST_ROUTE_PROCEDURES)) expect(ACCESS_TABLE[p], p).toBeDefined();
  });
});
