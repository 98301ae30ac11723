/** The regeneration server: RegenerationService routes, health and the REST path on one port. Never listens itself. */
import { fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import {
  commonServerOptions,
  decidedRestRoute,
  type CommonServerDeps,
  RegenerationService,
  SubmitRegenerationRequestSchema,
  SubmitRegenerationResponseSchema,
  createServiceServer,
  invalidArgument,
  validate,
  type ServiceServer,
  type SubmitRegenerationRequest,
} from "@provenance/shared";
import type { ServiceAuth } from "@provenance/shared/auth";
import { toSubmitResponse } from "./domain/regeneration-records.js";
import { RegenerationHandlers, submitCommandOf, type RegenerationUseCases } from "./rpc/regeneration-handlers.js";
import { regenerationRules } from "./rpc/regeneration-rules.js";

/** What the regeneration server needs: the common server parts, the access decision and the use cases it serves. */
export interface RegenerationServerDeps extends CommonServerDeps {
  /** Decides every RPC (interceptor) and the REST route (the same decision). */
  auth: ServiceAuth;
  useCases: RegenerationUseCases;
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

function firstOf(header: string | string[] | undefined): string | undefined {
  return Array.isArray(header) ? header[0] : header;
}

/** Creates the regeneration server. */
export function createServer(deps: RegenerationServerDeps): ServiceServer {
  const handlers = new RegenerationHandlers(deps.useCases);
  return createServiceServer({
    name: "regeneration",
    services: [RegenerationService.typeName],
    routes: (router) => router.service(RegenerationService, handlers),
    ...commonServerOptions(deps, regenerationRules),
    rest: [
      // The same decision and use case as the SubmitRegeneration RPC, with the same input rules.
      decidedRestRoute(deps.auth, {
        method: "POST",
        path: "/api/projects/:id/regenerate-stale",
        request: ({ params, body, headers }) => submitRequestOf(params.id!, body, firstOf(headers["idempotency-key"])),
        handle: async (req, caller, { headers }) => {
          validate(SubmitRegenerationRequestSchema, req, regenerationRules);
          const submitted = await deps.useCases.submit.submit(submitCommandOf(req, caller, firstOf(headers["x-request-id"])));
          return toJson(SubmitRegenerationResponseSchema, toSubmitResponse(submitted));
        },
      }),
    ],
  });
}
