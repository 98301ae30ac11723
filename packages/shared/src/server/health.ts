/** grpc.health.v1.Health: per-service serving status driven by the server's lifecycle and its readiness check. */
import { EventEmitter } from "node:events";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { Logger } from "pino";
import {
  Health,
  HealthCheckResponseSchema,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "../gen/grpc/health/v1/health_pb.js";

/** The health service name that reports the process alive without checking its dependencies. */
export const LIVENESS_SERVICE = "liveness";

/** The lifecycle facts health is computed from; `changed()` wakes watchers. */
export class HealthState {
  private listening = false;
  private draining = false;
  private readonly events = new EventEmitter();

  constructor(
    /** Service names that report status; "" (the whole server) is always included. */
    readonly services: ReadonlySet<string>,
    private readonly readiness: () => Promise<boolean>,
    private readonly logger: Logger,
    private readonly readinessTimeoutMs = 3000,
  ) {
    this.events.setMaxListeners(0);
  }

  /** Marks the server as accepting connections. */
  markListening(): void {
    this.listening = true;
    this.changed();
  }

  /** Marks the server as draining: NOT_SERVING from now on. */
  markDraining(): void {
    this.draining = true;
    this.changed();
  }

  /** Whether close() has begun. */
  get isDraining(): boolean {
    return this.draining;
  }

  /** Wakes every watcher to recompute its status. */
  changed(): void {
    this.events.emit("change");
  }

  /** Resolves at the next change, after `ms`, or when `signal` aborts, whichever is first. */
  nextChange(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.events.off("change", done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.events.once("change", done);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  /** Whether the readiness check passes now (false on error or after the timeout). */
  async ready(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), this.readinessTimeoutMs);
      });
      return (await Promise.race([this.readiness(), timeout])) === true;
    } catch (err) {
      this.logger.warn({ err }, "readiness check failed");
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The status of `service` now: SERVING only while listening, not draining, and ready. The name
   * {@link LIVENESS_SERVICE} leaves readiness out, for liveness probes: a database or NATS outage
   * takes a pod out of rotation but is no reason to restart it.
   */
  async status(service: string): Promise<ServingStatus> {
    if (service !== "" && service !== LIVENESS_SERVICE && !this.services.has(service)) return ServingStatus.SERVICE_UNKNOWN;
    if (!this.listening || this.draining) return ServingStatus.NOT_SERVING;
    if (service === LIVENESS_SERVICE) return ServingStatus.SERVING;
    return (await this.ready()) ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
  }
}

/** How often Watch re-runs the readiness check when nothing else changed. */
const WATCH_POLL_MS = 2000;

/** The Health service implementation over a {@link HealthState}. */
export function healthService(state: HealthState): ServiceImpl<typeof Health> {
  return {
    async check(req) {
      const status = await state.status(req.service);
      if (status === ServingStatus.SERVICE_UNKNOWN) throw new ConnectError(`unknown service "${req.service}"`, Code.NotFound);
      return create(HealthCheckResponseSchema, { status });
    },
    async *watch(req, ctx) {
      let last: ServingStatus | undefined;
      while (!ctx.signal.aborted) {
        const status = await state.status(req.service);
        if (status !== last) {
          last = status;
          yield create(HealthCheckResponseSchema, { status });
        }
        if (state.isDraining) return; // NOT_SERVING was sent; the server is going away
        await state.nextChange(WATCH_POLL_MS, ctx.signal);
      }
    },
  };
}
