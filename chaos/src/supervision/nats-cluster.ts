/**
 * A 3-node NATS JetStream cluster on loopback (Debian's nats-server, one process per node, each with its own store dir
 * and routes to the others), and the platform's streams on it at three replicas — created here before any service
 * starts, with the names, subjects, retention and duplicate window of the shared `streamConfig`. A service's
 * `ensureStreams` then only brings the other settings up to date (an update keeps the replica count).
 */
import { accessSync, constants, writeFileSync } from "node:fs";
import { join } from "node:path";
import { jetstreamManager, type JetStreamManager, type StreamInfo } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { STREAM_SUBJECTS, streamConfig, type StreamKind } from "@provenance/shared";
import { LOOPBACK, freePorts, listening, waitUntil } from "./ports.js";
import { SupervisedProcess } from "./supervised-process.js";
import type { WorkDir } from "./work-dir.js";

/** Replicas of every stream on the cluster. */
export const STREAM_REPLICAS = 3;

/** One node of the cluster. */
export interface NatsNode {
  /** Its server name (`nats-1`…), also the name the stream's cluster info reports. */
  readonly name: string;
  readonly clientPort: number;
  readonly url: string;
  readonly process: SupervisedProcess;
}

/** The running cluster. */
export interface NatsCluster {
  readonly nodes: readonly NatsNode[];
  /** The stream kinds of the platform, at {@link STREAM_REPLICAS} replicas. */
  readonly streams: readonly StreamKind[];
  /** The URL of a node that is up, preferring node `preferred` (0-based, wrapping). */
  urlFor(preferred: number): string;
  /** A connection for the run's own reads (stream info, the checker), to any node that is up. */
  connect(name: string): Promise<NatsConnection>;
  /** The node leading `kind`'s stream now. */
  leaderOf(kind: StreamKind): Promise<NatsNode>;
  /** kill -9 of a node. */
  kill(node: NatsNode): Promise<void>;
  /** Starts a killed node again and waits until every stream has all its replicas current. */
  restart(node: NatsNode): Promise<void>;
  /** Info of every stream. */
  streamInfos(): Promise<StreamInfo[]>;
  stop(): Promise<void>;
}

/** Debian's nats-server, or the first one on the PATH. */
export function findNatsServer(): string {
  for (const dir of ["/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin", ...(process.env.PATH ?? "").split(":")]) {
    const file = join(dir, "nats-server");
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  throw new Error("no nats-server binary (apt-get install nats-server)");
}

function nodeConfig(name: string, clientPort: number, clusterPort: number, routePorts: number[], storeDir: string): string {
  return [
    `server_name: ${JSON.stringify(name)}`,
    `listen: "${LOOPBACK}:${clientPort}"`,
    `jetstream { store_dir: ${JSON.stringify(storeDir)} }`,
    "cluster {",
    '  name: "provenance-chaos"',
    `  listen: "${LOOPBACK}:${clusterPort}"`,
    `  routes: [${routePorts.map((p) => `"nats-route://${LOOPBACK}:${p}"`).join(", ")}]`,
    "}",
    "",
  ].join("\n");
}

async function withManager<T>(servers: string[], use: (jsm: JetStreamManager) => Promise<T>): Promise<T> {
  const nc = await connect({ servers, name: "chaos-admin", timeout: 3_000, reconnect: false });
  try {
    return await use(await jetstreamManager(nc, { timeout: 5_000 }));
  } finally {
    await nc.close();
  }
}

/** Starts three nodes, waits for the JetStream meta leader, and creates the platform's streams at R3. */
export async function startNatsCluster(work: WorkDir): Promise<NatsCluster> {
  const binary = findNatsServer();
  const ports = await freePorts(6);
  const clusterPorts = ports.slice(3);
  const nodes: NatsNode[] = [0, 1, 2].map((i) => {
    const name = `nats-${i + 1}`;
    const clientPort = ports[i]!;
    const config = join(work.sub("nats"), `${name}.conf`);
    writeFileSync(config, nodeConfig(name, clientPort, clusterPorts[i]!, clusterPorts, work.sub(`nats/${name}-store`)));
    return {
      name,
      clientPort,
      url: `nats://${LOOPBACK}:${clientPort}`,
      process: new SupervisedProcess({ name, command: binary, args: ["-c", config], env: () => ({}), logDir: work.logs }),
    };
  });
  const streams = Object.keys(STREAM_SUBJECTS) as StreamKind[];
  const up = () => nodes.filter((n) => n.process.running);
  const anyUrl = () => up().map((n) => n.url);

  const streamInfos = () => withManager(anyUrl(), (jsm) => Promise.all(streams.map((kind) => jsm.streams.info(streamConfig("", kind).name))));
  const allCurrent = async () => {
    const infos = await streamInfos();
    return infos.every((info) => (info.cluster?.replicas ?? []).length === STREAM_REPLICAS - 1 && info.cluster!.replicas!.every((r) => r.current && !r.offline));
  };

  for (const node of nodes) node.process.start();
  await waitUntil("the NATS nodes did not listen", async () => (await Promise.all(nodes.map((n) => listening(n.clientPort)))).every(Boolean), 10_000);
  // JetStream answers once the nodes have elected a meta leader.
  await waitUntil("the NATS cluster elected no JetStream leader", () => withManager(anyUrl(), async (jsm) => Boolean(await jsm.getAccountInfo())), 30_000, 250);
  await withManager(anyUrl(), async (jsm) => {
    for (const kind of streams) await jsm.streams.add({ ...streamConfig("", kind), num_replicas: STREAM_REPLICAS });
  });
  await waitUntil("the streams' replicas did not become current", allCurrent, 30_000, 250);

  return {
    nodes,
    streams,
    urlFor(preferred) {
      const live = up();
      const wanted = nodes[preferred % nodes.length]!;
      return (live.includes(wanted) ? wanted : (live[0] ?? wanted)).url;
    },
    connect: (name) => connect({ servers: up().map((n) => n.url), name, maxReconnectAttempts: -1, reconnectTimeWait: 250, timeout: 5_000 }),
    async leaderOf(kind) {
      const info = await withManager(anyUrl(), (jsm) => jsm.streams.info(streamConfig("", kind).name));
      const leader = nodes.find((n) => n.name === info.cluster?.leader);
      if (!leader) throw new Error(`the ${kind} stream has no leader`);
      return leader;
    },
    kill: (node) => node.process.kill9(),
    async restart(node) {
      node.process.start();
      await waitUntil(`${node.name} did not listen again`, () => listening(node.clientPort), 10_000);
      await waitUntil(`the streams did not catch up on ${node.name}`, allCurrent, 60_000, 250);
    },
    streamInfos,
    async stop() {
      await Promise.all(nodes.map((n) => n.process.stop("SIGTERM", 5_000)));
    },
  };
}
