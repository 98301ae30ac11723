/** The Connect interceptor that runs the access decision for every RPC and hands the caller to the handler. */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextKey, type ContextValues, type Interceptor } from "@connectrpc/connect";
import { PUBLIC_SERVICES } from "./access-table.js";
import type { AccessControl, Caller } from "./access-decision.js";

/**
 * Context key of the decided {@link Caller}: set by {@link createAuthInterceptor} before the handler runs; read it with
 * {@link callerOf}. Undefined outside an authenticated request.
 */
export const callerKey = createContextKey<Caller | undefined>(undefined, { description: "the authenticated caller" });

/**
 * The caller of the current request, for handlers: `callerOf(ctx).principal.subject` is who to record as
 * `recorded_by`, `callerOf(ctx).viewable` what to filter a list by. Throws UNAUTHENTICATED when no caller was decided
 * (the interceptor is not installed): a handler never runs as nobody.
 */
export function callerOf(ctx: { readonly values: ContextValues }): Caller {
  const caller = ctx.values.get(callerKey);
  if (!caller) throw new ConnectError("request was not authenticated", Code.Unauthenticated);
  return caller;
}

/**
 * An interceptor deciding every RPC with `access.decide` (health and reflection pass untouched, see PUBLIC_SERVICES).
 * Unary calls are decided on their request; streaming calls on their first request message before the handler starts
 * (WatchStaleness), and any further request message against the same rule. Install it inside `errorInterceptor` and
 * before `validationInterceptor`: `[errorInterceptor(logger), createAuthInterceptor(access), validationInterceptor(rules)]`,
 * so an anonymous caller learns nothing, not even which field is wrong.
 */
export function createAuthInterceptor(access: AccessControl): Interceptor {
  return (next) => async (req) => {
    const service = req.method.parent.typeName;
    if (PUBLIC_SERVICES.has(service)) return next(req);
    const procedure = `${service}/${req.method.name}`;
    if (!req.stream) {
      const caller = await access.decide({ procedure, headers: req.header, message: req.message });
      req.contextValues.set(callerKey, caller);
      return next(req);
    }
    const iterator = req.message[Symbol.asyncIterator]();
    const first = await iterator.next();
    const firstMessage = first.done ? undefined : first.value;
    const caller = await access.decide({ procedure, headers: req.header, message: firstMessage ?? create(req.method.input) });
    req.contextValues.set(callerKey, caller);
    return next({
      ...req,
      message: (async function* () {
        if (first.done) return;
        yield first.value;
        for (let r = await iterator.next(); !r.done; r = await iterator.next()) {
          await access.decide({ procedure, headers: req.header, message: r.value });
          yield r.value;
        }
      })(),
    });
  };
}
