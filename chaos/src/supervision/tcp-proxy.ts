/**
 * What a Kubernetes Service is to the replicas of one service: one loopback address that forwards each new TCP
 * connection to the next replica that accepts it. The services and the pipeline simulator reach each other through
 * these (RECEIPTS_URL, STALENESS_URL, REGENERATION_URL), so a call fails only when every replica is down; the load
 * generator addresses the replicas themselves.
 */
import net from "node:net";
import { LOOPBACK } from "./ports.js";

/** A running proxy. */
export interface TcpProxy {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

function connectTo(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const upstream = net.connect(port, LOOPBACK);
    upstream.once("connect", () => {
      upstream.removeAllListeners("error");
      resolve(upstream);
    });
    upstream.once("error", (err) => {
      upstream.destroy();
      reject(err);
    });
  });
}

/** Listens on a free loopback port and spreads connections over `backendPorts`, round robin, skipping those down. */
export async function startTcpProxy(backendPorts: readonly number[]): Promise<TcpProxy> {
  let next = 0;
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    open.add(client);
    client.once("close", () => open.delete(client));
    client.on("error", () => client.destroy());
    client.pause();
    void (async () => {
      for (let tried = 0; tried < backendPorts.length; tried++) {
        const port = backendPorts[next++ % backendPorts.length]!;
        try {
          const upstream = await connectTo(port);
          open.add(upstream);
          upstream.once("close", () => {
            open.delete(upstream);
            client.destroy();
          });
          upstream.on("error", () => upstream.destroy());
          client.once("close", () => upstream.destroy());
          client.pipe(upstream);
          upstream.pipe(client);
          client.resume();
          return;
        } catch {
          // that replica is down: the next one
        }
      }
      client.destroy();
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, LOOPBACK, () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    url: `http://${LOOPBACK}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
