// A crowd of WatchStaleness readers on a thread of its own: @grpc/grpc-js streams spread over several HTTP/2
// connections. Thousands of readers would each decode on their own machine; here one thread stands for all of them,
// so they take each message as bytes (a generic grpc-js call with an identity deserializer) and only the first one
// received is decoded, with the proto loaded from proto/ at run time, to say which change arrived. Driven by messages
// from the test (see watch-fan-out.test.ts).
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { parentPort, workerData } from "node:worker_threads";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

const { address, projectId, streams, connections, token } = workerData;
const protoDir = fileURLToPath(new URL("../../../proto", import.meta.url));
const def = protoLoader.loadSync("provenance/v1/staleness.proto", { includeDirs: [protoDir], longs: String, enums: String, defaults: true });
const { requestSerialize, responseDeserialize, path } = def["provenance.v1.StalenessService"].WatchStaleness;

// A local subchannel pool per client: each gets a connection of its own instead of sharing one.
const clients = Array.from(
  { length: connections },
  () => new grpc.Client(address, grpc.credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 }),
);
const metadata = new grpc.Metadata();
metadata.set("authorization", `Bearer ${token}`);
const calls = [];
const received = new Map(); // message size in bytes → how many streams have received a message of that size
const errors = [];

function now() {
  return performance.timeOrigin + performance.now();
}

for (let i = 0; i < streams; i++) {
  const call = clients[i % connections].makeServerStreamRequest(path, requestSerialize, (bytes) => bytes, { projectId }, metadata);
  call.on("data", (bytes) => {
    const seen = (received.get(bytes.length) ?? 0) + 1;
    received.set(bytes.length, seen);
    if (seen === 1) {
      const c = responseDeserialize(bytes).change;
      parentPort.postMessage({ type: "first", bytes: bytes.length, key: `${c.assetId}:${c.currentVersion}`, at: now() });
    }
    if (seen === streams) parentPort.postMessage({ type: "all", bytes: bytes.length, at: now() });
  });
  call.on("error", (err) => {
    if (err.code !== grpc.status.CANCELLED) errors.push(`${err.code} ${err.details}`);
  });
  calls.push(call);
}
parentPort.postMessage({ type: "opened", streams: calls.length });

parentPort.on("message", (msg) => {
  if (msg.type === "close") {
    for (const call of calls) call.cancel();
    for (const client of clients) client.close();
    parentPort.postMessage({ type: "closed", errors });
  }
});
