export {
  DomainError,
  alreadyExists,
  failedPrecondition,
  invalidArgument,
  isDomainError,
  notFound,
  unavailable,
  withFieldPrefix,
} from "./domain-error.js";
export type { DomainErrorCode } from "./domain-error.js";
export {
  ERROR_FIELD_HEADER,
  codeName,
  errorInterceptor,
  httpStatusFor,
  toConnectError,
  unavailableDependency,
} from "./connect-errors.js";
export { MAX_ERROR_MESSAGE_CHARS, clientFacingError, headerSafe, truncateMessage } from "./client-errors.js";
export type { RequestFacts } from "./client-errors.js";
