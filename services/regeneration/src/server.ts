/** The regeneration server: RegenerationService routes, health and the REST path on one port. Never listens itself. */
import { fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import { createContextValues, type HandlerContext } from "@connectrpc/connect";
import type { DataSource } from "typeorm";
import {
  commonServerOptions,
  type CommonServerDeps,
  RegenerationService,
  SubmitRegenerationRequestSchema,
  SubmitRegenerationResponseSchema,
  createServiceServer,
  invalidArgument,
  requestIdKey,
  validate,
  type ServiceServer,
  type SubmitRegenerationRequest,
} from "@provenance/shared";
import { RegenerationRepository } from "./persistence/regeneration-repository.js";
import type { PlanSources } from "./rpc/dependency-clients.js";
import { RegenerationHandlers } from "./rpc/regeneration-handlers.js";
import { RegenerationPlanner } from "./rpc/regeneration-planner.js";
import { regenerationRules } from "./rpc/regeneration-rules.js";

/** What the regeneration server needs. */
export interface RegenerationServerDeps extends CommonServerDeps {
  dataSource: DataSource;
  sources: PlanSources;
}

function restContext(requestId: string | undefined): HandlerContext {
  const values = createContextValues();
  if (requestId) values.set(requestIdKey, requestId);
  return { values } as HandlerContext;
}

/** Fields the REST body may carry; `project_id` comes from the path. */
const BODY_FIELDS = ["segment_ids", "scene_ids", "asset_id", "idempotency_key", "requested_by"];

/** The SubmitRegeneration request of `POST /api/projects/:id/regenerate-stale` (an `Idempotency-Key` header stands in for a missing body key). */
function submitRequestOf(projectId: string, body: unknown, idempotencyHeader: string | undefined): SubmitRegenerationRequest {
  if (body !== undefined && (typeof body !== "object" || body === null || Array.isArray(body))) {
    throw invalidArgument("body", "must be a JSON object");
  }
  const fields = { ...((body ?? {}) as Record<string, JsonValue>) };
  for (const k of Object.keys(fields)) {
    if (!BODY_FIELDS.includes(k)) throw invalidArgument(k, `is not a field of this request; send ${BODY_FIELDS.join(", ")}`);
  }
  if (fields.idempotency_key === undefined && idempotencyHeader) fields.idempotency_key = idempotencyHeader;
  try {
    return fromJson(SubmitRegenerationRequestSchema, { ...fields, project_id: projectId });
  } catch (err) {
    throw invalidArgument("body", (err as Error).message);
  }
}

/** Creates the regeneration server. */
export function createServer(deps: RegenerationServerDeps): ServiceServer {
  const repo = new RegenerationRepository(deps.dataSource);
  const handlers = new RegenerationHandlers(repo, new RegenerationPlanner(deps.sources, repo));
  return createServiceServer({
    name: "regeneration",
    services: [RegenerationService.typeName],
    routes: (router) => router.service(RegenerationService, handlers),
    ...commonServerOptions(deps, regenerationRules),
    rest: [
      {
        method: "POST",
        path: "/api/projects/:id/regenerate-stale",
        handler: async ({ params, body, headers }) => {
          const header = headers["idempotency-key"];
          const req = submitRequestOf(params.id!, body, Array.isArray(header) ? header[0] : header);
          validate(SubmitRegenerationRequestSchema, req, regenerationRules);
          const requestId = headers["x-request-id"];
          const res = await handlers.submitRegeneration(req, restContext(Array.isArray(requestId) ? requestId[0] : requestId));
          return toJson(SubmitRegenerationResponseSchema, res);
        },
      },
    ],
  });
}

