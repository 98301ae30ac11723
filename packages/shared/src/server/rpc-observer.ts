/** Per-RPC logging and metrics, and ending response streams when the server drains. */
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import { Histogram, type Registry } from "prom-client";
import { codeName } from "../errors/index.js";
import { requestIdKey } from "./request-id.js";

/** Creates the `rpc_duration_seconds{service,method,code}` histogram in `registry`. */
export function rpcDurationHistogram(registry: Registry): Histogram<"service" | "method" | "code"> {
  return new Histogram({
    name: "rpc_duration_seconds",
    help: "Duration of RPCs by service, method and Connect code (streams: until the stream ends).",
    labelNames: ["service", "method", "code"],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
}

function codeOf(err: unknown): Code {
  return err instanceof ConnectError ? err.code : ConnectError.from(err).code;
}

/** Logs each RPC (method, code, duration, request id) at debug level and records its duration. */
export function observeRpcs(logger: Logger, histogram: Histogram<"service" | "method" | "code">): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    const finish = (err?: unknown) => {
      const seconds = (performance.now() - started) / 1000;
      const code = err === undefined ? "ok" : codeName(codeOf(err));
      histogram.observe({ service: req.service.typeName, method: req.method.name, code }, seconds);
      logger.debug(
        { rpc: `${req.service.typeName}/${req.method.name}`, code, durationMs: Math.round(seconds * 1e4) / 10, requestId: req.contextValues.get(requestIdKey) },
        "rpc",
      );
    };
    let res;
    try {
      res = await next(req);
    } catch (err) {
      finish(err);
      throw err;
    }
    if (!res.stream) {
      finish();
      return res;
    }
    const messages = res.message;
    return {
      ...res,
      message: (async function* () {
        let failure: unknown;
        try {
          yield* messages;
        } catch (err) {
          failure = err;
          throw err;
        } finally {
          finish(failure);
        }
      })(),
    };
  };
}

/** Ends every response stream (with OK) once `drain` aborts, so close() does not wait on endless streams. */
export function endStreamsOn(drain: AbortSignal): Interceptor {
  const drained = new Promise<"drained">((resolve) => {
    if (drain.aborted) resolve("drained");
    else drain.addEventListener("abort", () => resolve("drained"), { once: true });
  });
  return (next) => async (req) => {
    const res = await next(req);
    if (!res.stream) return res;
    const source = res.message;
    return {
      ...res,
      message: (async function* () {
        const it = source[Symbol.asyncIterator]();
        let finished = false;
        try {
          for (;;) {
            const pending = it.next();
            pending.catch(() => undefined); // its rejection is seen below, or irrelevant once drained
            const step = await Promise.race([pending, drained]);
            if (step === "drained") return;
            if (step.done) {
              finished = true;
              return;
            }
            yield step.value;
          }
        } catch (err) {
          finished = true;
          throw err;
        } finally {
          // Not awaited: a generator blocked inside its body only finishes once its pending step settles.
          if (!finished) void it.return?.()?.catch(() => undefined);
        }
      })(),
    };
  };
}
