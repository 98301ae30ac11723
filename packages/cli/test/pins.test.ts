/**
 * `provenance pin`, `unpin`, `pins` and the report's "pinned (N)" against the real services: a pinned scene is not
 * stale, is listed with who, why and until, and is left out of the regeneration plan; unpinned, it is back.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_ADMIN } from "@provenance/shared/testing";
import { eventually, receiptRequest, recordSegment, sha, startSystem, type SystemHarness } from "./system-harness.js";

let h: SystemHarness;

beforeAll(async () => {
  h = await startSystem();
});
afterAll(async () => {
  await h?.close();
});

/** The old segment ids of `regen plan --project p1 --json`. */
async function planned(): Promise<string[]> {
  const run = await h.cli(["regen", "plan", "--project", "p1", "--json"]);
  expect(run.stderr).toBe("");
  return (JSON.parse(run.stdout).jobs as { oldSegmentId: string }[]).map((j) => j.oldSegmentId).sort();
}

describe("provenance pin / unpin / pins", () => {
  it("pins a scene to an older version: the report says pinned (N) with who, why and until, the plan leaves it out; unpin brings it back", async () => {
    expect((await h.cli(["assets", "register", "--kind", "lora", "--name", "anna_lora", "--id", "lora-anna", "--project", "p1"])).code).toBe(0);
    expect((await h.cli(["assets", "publish", "lora-anna", "--hash", sha("lora anna v1")])).code).toBe(0);
    await recordSegment(h, receiptRequest("pin-1", "ps1", 1, 1));
    await recordSegment(h, receiptRequest("pin-2", "ps1", 1, 2));
    await recordSegment(h, receiptRequest("pin-3", "ps2", 1, 3));
    await eventually(async () => (await h.cli(["stale", "report", "--project", "p1"])).stdout.includes("of 3 active"), "the projection to see the segments");
    expect((await h.cli(["assets", "publish", "lora-anna", "--hash", sha("lora anna v2")])).code).toBe(0);
    await eventually(async () => (await h.cli(["stale", "report", "--project", "p1"])).stdout.startsWith("project p1: 3 stale segments"), "the segments to be stale");
    expect(await planned()).toEqual(["pin-1", "pin-2", "pin-3"]);

    const run = await h.cli([
      "pin",
      "--project",
      "p1",
      "--scene",
      "ps1",
      "--asset",
      "lora-anna",
      "--version",
      "1",
      "--reason",
      "this scene stays on anna_lora v1 on purpose",
      "--until",
      "2027-01-01T00:00:00Z",
    ]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    const pinId = /pin (pin_\w+), by/.exec(run.stdout)![1]!;
    expect(run.stdout).toBe(
      `pinned scene ps1 of project p1 to anna_lora v1 while it is on v2, until 2027-01-01 00:00:00Z (2 segments pinned now; pin ${pinId}, by ${TEST_ADMIN})\n`,
    );

    const report = await h.cli(["stale", "report", "--project", "p1"]);
    expect(report.stdout.split("\n").slice(0, 4)).toEqual([
      "project p1: 1 stale segment in 1 scene of 3 active; 12 untracked inputs",
      "pinned (2):",
      `  pin-1 (scene ps1) anna_lora v1 (on v2) — by ${TEST_ADMIN}: "this scene stays on anna_lora v1 on purpose", until 2027-01-01 00:00:00Z`,
      `  pin-2 (scene ps1) anna_lora v1 (on v2) — by ${TEST_ADMIN}: "this scene stays on anna_lora v1 on purpose", until 2027-01-01 00:00:00Z`,
    ]);
    expect(JSON.parse((await h.cli(["stale", "report", "--project", "p1", "--json"])).stdout)).toMatchObject({ pinnedSegments: 2, totalStaleSegments: 1 });
    // The regeneration plan comes from the stale list: the pinned scene has no job.
    expect(await planned()).toEqual(["pin-3"]);

    const again = await h.cli(["pin", "--project", "p1", "--scene", "ps1", "--asset", "lora-anna", "--version", "1", "--reason", "this scene stays on anna_lora v1 on purpose", "--until", "2027-01-01T00:00:00Z"]);
    expect(again.stdout).toMatch(new RegExp(`^already pinned scene ps1 .* pin ${pinId},`));

    const list = await h.cli(["pins", "--project", "p1"]);
    expect(list.stdout).toContain(pinId);
    expect(list.stdout).toMatch(/scene ps1\s+anna_lora v1 while it is on v2\s+active\s+test:admin\s+2027-01-01 00:00:00Z\s+this scene stays/);

    const un = await h.cli(["unpin", pinId, "--project", "p1"]);
    expect(un).toMatchObject({ code: 0, stderr: "" });
    expect(un.stdout).toMatch(new RegExp(`^unpinned ${pinId}: scene ps1 of project p1, anna_lora v1 while it is on v2 \\(by ${TEST_ADMIN} at `));
    expect((await h.cli(["stale", "report", "--project", "p1"])).stdout).not.toContain("pinned");
    expect(await planned()).toEqual(["pin-1", "pin-2", "pin-3"]);
    expect((await h.cli(["pins", "--project", "p1"])).stdout).toBe("no pins\n");
    expect((await h.cli(["pins", "--project", "p1", "--all", "--json"])).stdout).toContain('"state": "PIN_STATE_UNPINNED"');
  });

  it("refuses a pin without a target, with both, or with a bad --until, naming the option; the service's refusals name the field", async () => {
    const base = ["pin", "--project", "p1", "--asset", "lora-anna", "--version", "1", "--reason", "r"];
    expect(await h.cli(base)).toMatchObject({ code: 2, stderr: expect.stringContaining("give --scene or --segment") });
    expect(await h.cli([...base, "--scene", "ps1", "--segment", "pin-1"])).toMatchObject({ code: 2, stderr: expect.stringContaining("not both") });
    expect(await h.cli([...base, "--scene", "ps1", "--until", "tomorrow"])).toMatchObject({ code: 2, stderr: expect.stringContaining("--until must be an RFC 3339 time") });
    const current = await h.cli(["pin", "--project", "p1", "--asset", "lora-anna", "--version", "2", "--reason", "r", "--scene", "ps1"]);
    expect(current.code).not.toBe(0);
    expect(current.stderr).toContain("version");
  });
});
