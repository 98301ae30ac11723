/** A private nats-server with JetStream, when one is on the PATH. */
import { spawn } from "node:child_process";
import { accessSync, constants, mkdirSync } from "node:fs";
import net from "node:net";
import { delimiter, join } from "node:path";

/** A running private nats-server. */
export interface PrivateNats {
  readonly url: string;
  stop(): Promise<void>;
}

/** The nats-server binary on the PATH (or in the usual sbin folders), if any. */
export function findNatsServer(): string | undefined {
  for (const dir of [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/usr/local/sbin"]) {
    const file = join(dir, "nats-server");
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

function waitForPort(port: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const sock = net.connect(port, "127.0.0.1");
      sock.once("connect", () => {
        sock.destroy();
        resolve();
      });
      sock.once("error", () => {
        sock.destroy();
        if (Date.now() > deadline) reject(new Error(`nats-server did not listen on 127.0.0.1:${port} within ${ms} ms`));
        else setTimeout(attempt, 25);
      });
    };
    attempt();
  });
}

/** Starts `binary` with JetStream on 127.0.0.1:`port`, its store in `storeDir`. */
export async function startPrivateNats(binary: string, port: number, storeDir: string): Promise<PrivateNats> {
  mkdirSync(storeDir, { recursive: true });
  const child = spawn(binary, ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", storeDir], { stdio: "ignore" });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await Promise.race([
    waitForPort(port, 5000),
    exited.then(() => {
      throw new Error(`nats-server exited at start (is port ${port} free?)`);
    }),
  ]);
  return {
    url: `nats://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await exited;
      }
    },
  };
}
