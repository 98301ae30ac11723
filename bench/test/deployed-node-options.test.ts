/** The benchmark runs each service with the heap bound its Deployment sets, read from the manifest. */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { deployedNodeOptions, type BenchService } from "../src/service-processes.js";

const SERVICES: BenchService[] = ["receipts", "staleness", "regeneration"];

describe("deployedNodeOptions", () => {
  it("reads each service's NODE_OPTIONS from its base Deployment, and a node started with them has that old-space bound", () => {
    for (const name of SERVICES) {
      const options = deployedNodeOptions(name);
      const mib = Number(/^--max-old-space-size=(\d+)$/.exec(options)?.[1]);
      expect(mib, `${name}: ${options}`).toBeGreaterThanOrEqual(128);
      const limit = Number(
        execFileSync(process.execPath, ["-e", "process.stdout.write(String(require('v8').getHeapStatistics().heap_size_limit))"], {
          env: { ...process.env, NODE_OPTIONS: options },
        }),
      );
      // The heap limit is the old generation's bound plus the young generation's (tens of MiB).
      expect(limit / 2 ** 20, name).toBeGreaterThanOrEqual(mib);
      expect(limit / 2 ** 20, name).toBeLessThan(mib + 100);
    }
  });

  it("refuses a manifest without NODE_OPTIONS, naming it", () => {
    expect(() => deployedNodeOptions("staleness", "env:\n  - name: PORT\n    value: \"7102\"\n")).toThrow(
      'deploy/kustomize/base/staleness/deployment.yaml sets no NODE_OPTIONS (value: "...") for the benchmark to run the service with',
    );
  });
});
