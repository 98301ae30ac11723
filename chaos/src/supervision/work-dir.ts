/**
 * The run's own folder under the system's temp dir: PostgreSQL's data, the NATS nodes' stores, the local issuer and
 * every process's log. It is 0755 (mkdtemp makes 0700) because PostgreSQL runs as the postgres OS user when the run is
 * root, and that user must be able to enter it.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The folders of one chaos run. */
export interface WorkDir {
  readonly root: string;
  /** Where each process writes its output (`<name>.log`). */
  readonly logs: string;
  /** A sub-folder of the root, made on first use. */
  sub(name: string): string;
  /** Removes everything (unless the run was asked to keep it). */
  remove(): void;
}

/** Makes a fresh work dir (`/tmp/provenance-chaos-XXXXXX`). */
export function makeWorkDir(): WorkDir {
  const root = mkdtempSync(join(tmpdir(), "provenance-chaos-"));
  chmodSync(root, 0o755);
  const logs = join(root, "logs");
  mkdirSync(logs, { mode: 0o755 });
  return {
    root,
    logs,
    sub(name) {
      const dir = join(root, name);
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      return dir;
    },
    remove() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}
