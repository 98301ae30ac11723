/** Finding and checking local ports. */
import net from "node:net";

/** Whether `port` can be bound on `host` right now. */
export function portFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(false));
    s.listen({ port, host, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/** The first free port from `preferred` on (0 = any free port the system picks). */
export async function freePort(preferred: number, host = "127.0.0.1"): Promise<number> {
  if (preferred === 0) {
    return new Promise((resolve, reject) => {
      const s = net.createServer();
      s.once("error", reject);
      s.listen({ port: 0, host, exclusive: true }, () => {
        const { port } = s.address() as net.AddressInfo;
        s.close(() => resolve(port));
      });
    });
  }
  for (let p = preferred; p < preferred + 50; p++) if (await portFree(p, host)) return p;
  throw new Error(`no free port from ${preferred} to ${preferred + 49}`);
}
