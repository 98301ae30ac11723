/** The one place request rules are enforced: an interceptor that checks each request against its table. */
import type { Interceptor } from "@connectrpc/connect";
import { invalidArgument } from "../errors/index.js";
import type { RuleTable } from "./rule-table.js";

/**
 * Checks every request message (unary, and each message of a request stream) against the tables for its type and
 * throws INVALID_ARGUMENT naming the field before the handler runs. Messages without a table pass unchecked.
 * Place it after `errorInterceptor` in the `interceptors` array (inside it).
 */
export function validationInterceptor(tables: readonly RuleTable[]): Interceptor {
  const byType = new Map<string, RuleTable[]>();
  for (const t of tables) byType.set(t.schema.typeName, [...(byType.get(t.schema.typeName) ?? []), t]);
  const checkOne = (message: { $typeName: string }) => {
    for (const table of byType.get(message.$typeName) ?? []) {
      const v = table.check(message as never);
      if (v) throw invalidArgument(v.field, v.message);
    }
  };
  return (next) => async (req) => {
    if (!req.stream) {
      checkOne(req.message);
      return next(req);
    }
    const input = req.message;
    return next({
      ...req,
      message: (async function* () {
        for await (const m of input) {
          checkOne(m);
          yield m;
        }
      })(),
    });
  };
}
