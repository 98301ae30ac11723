/** The one place request rules are enforced: an interceptor that checks each request against the limits and its tables. */
import type { DescMessage } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import { invalidArgument } from "../errors/index.js";
import { DEFAULT_REQUEST_LIMITS, checkRequestLimits, type RequestLimits } from "./request-limits.js";
import type { RuleTable } from "./rule-table.js";

/**
 * Checks every request message (unary, and each message of a request stream) first against the request limits
 * (every string, list, map and Struct of any request, found from its descriptor), then against the tables for its
 * type, and throws INVALID_ARGUMENT naming the field before the handler runs. Messages without a table meet only the
 * limits. Place it after `errorInterceptor` in the `interceptors` array (inside it).
 */
export function validationInterceptor(tables: readonly RuleTable[], limits: RequestLimits = DEFAULT_REQUEST_LIMITS): Interceptor {
  const byType = new Map<string, RuleTable[]>();
  for (const t of tables) byType.set(t.schema.typeName, [...(byType.get(t.schema.typeName) ?? []), t]);
  const checkOne = (schema: DescMessage, message: { $typeName: string }) => {
    const bound = checkRequestLimits(schema, message, limits);
    if (bound) throw invalidArgument(bound.field, bound.message);
    for (const table of byType.get(message.$typeName) ?? []) {
      const v = table.check(message as never);
      if (v) throw invalidArgument(v.field, v.message);
    }
  };
  return (next) => async (req) => {
    const schema = req.method.input;
    if (!req.stream) {
      checkOne(schema, req.message);
      return next(req);
    }
    const input = req.message;
    return next({
      ...req,
      message: (async function* () {
        for await (const m of input) {
          checkOne(schema, m);
          yield m;
        }
      })(),
    });
  };
}
