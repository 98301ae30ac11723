/**
 * Identity and access: bearer tokens (JWT/JWKS with jose), grants, roles, the access table and the one decision for
 * every RPC and REST route; the local issuer of `npm start`; service tokens; NATS credentials. See README.md here.
 */
export { ROLES, isRole, roleIncludes, roleRank, strongerRole } from "./roles.js";
export type { Role } from "./roles.js";
export { DEFAULT_AUDIENCE, loadAuthConfig, loadServiceTokenFile } from "./auth-config.js";
export type { AuthConfig, JwksSource } from "./auth-config.js";
export {
  AUTH_FAILURE_HEADER,
  MAX_TOKEN_BYTES,
  TOKEN_FAILURE_MESSAGES,
  bearerHeader,
  bearerTokenOf,
  createPrincipal,
  unauthenticated,
} from "./principal.js";
export type { Principal, RequestHeaders, TokenFailure } from "./principal.js";
export { ACCEPTED_ALGORITHMS, DEFAULT_CLOCK_TOLERANCE_SEC, createTokenVerifier } from "./token-verifier.js";
export type { TokenVerifier, TokenVerifierOptions } from "./token-verifier.js";
export {
  ANY_PROJECT,
  PolicyError,
  createPolicy,
  holdsRoleSomewhere,
  mayDo,
  parsePolicy,
  roleIn,
  scopeIncludes,
  validatePolicy,
  viewableProjects,
} from "./policy.js";
export type { Grant, Identity, Policy, ProjectRef, ProjectScope } from "./policy.js";
export { loadPolicyFile, policyFormatOf, staticPolicySource } from "./policy-file.js";
export type { PolicyFileOptions, PolicySource } from "./policy-file.js";
export { ACCESS_TABLE, ITEM_KINDS, ITEM_NOT_FOUND_NOUNS, PUBLIC_SERVICES, REST_ROUTE_PROCEDURES } from "./access-table.js";
export type { AccessRule, AccessTable, ItemKind, NotFoundText, ProjectSource } from "./access-table.js";
export { PROVENANCE_SERVICES, compileAccessTable, createAccessControl, missingAccessRules } from "./access-decision.js";
export type {
  AccessControl,
  AccessControlOptions,
  AccessRequest,
  Caller,
  CompiledRule,
  CompiledSource,
  FoundValue,
  ProjectResolver,
  ProjectResolvers,
} from "./access-decision.js";
export { callerKey, callerOf, createAuthInterceptor } from "./auth-interceptor.js";
export { createServiceAuth } from "./service-auth.js";
export type { ServiceAuth, ServiceAuthOptions } from "./service-auth.js";
export {
  actingFor,
  createOutboundAuthInterceptor,
  forwardedTokenKey,
  readServiceTokenFile,
  staticTokenSource,
} from "./service-token.js";
export type { TokenFileOptions, TokenSource } from "./service-token.js";
export { LOCAL_ISSUER, LOCAL_ISSUER_FILES, LOCAL_TOKEN_TTL_SECONDS, ensureLocalIssuer, openLocalIssuer } from "./local-issuer.js";
export type { LocalIssuer, LocalIssuerOptions, MintOptions } from "./local-issuer.js";
export { natsAuthOptions, redactUrl } from "./nats-credentials.js";
export type { NatsAuthOptions } from "./nats-credentials.js";
export { watchFile } from "./watched-file.js";
export type { WatchedFile, WatchedFileOptions } from "./watched-file.js";
