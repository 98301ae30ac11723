import { describe, expect, it } from "vitest";
import { parseChaosArgs } from "./chaos-args.js";

describe("parseChaosArgs", () => {
  it("defaults to a 10-minute run that removes its temp dir", () => {
    expect(parseChaosArgs([])).toEqual({ minutes: 10, keep: false, help: false });
  });

  it("reads --minutes N, --minutes=N and --keep", () => {
    expect(parseChaosArgs(["--minutes", "3", "--keep"])).toEqual({ minutes: 3, keep: true, help: false });
    expect(parseChaosArgs(["--minutes=2.5"]).minutes).toBe(2.5);
    expect(parseChaosArgs(["-h"]).help).toBe(true);
  });

  it("names what is wrong", () => {
    expect(() => parseChaosArgs(["--minutes"])).toThrow('--minutes: must be a number from 1.5 to 120, got nothing');
    expect(() => parseChaosArgs(["--minutes", "ten"])).toThrow('--minutes: must be a number from 1.5 to 120, got "ten"');
    expect(() => parseChaosArgs(["--minutes=0.5"])).toThrow('got "0.5"');
    expect(() => parseChaosArgs(["--fast"])).toThrow('unknown argument "--fast"');
  });
});
