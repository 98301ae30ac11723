/** Identity and access: bearer tokens (JWT/JWKS with jose), grants, roles and the decision for each call. */
export {};
