import type { Request } from 'express';
import type { AuthorizedRequest } from '../src/authorizer.js';
import type { Principal } from '../src/claims.js';

/**
 * `req.auth` and `req.authDecision` are plain own properties of the request. Nothing is defined on
 * Express's request prototype: it is shared by every app in the process, and other middleware
 * (express-jwt, express-oauth2-jwt-bearer) sets `req.auth` too.
 */
export function setPrincipal(req: Request, principal: Principal): void {
  req.auth = principal;
}

export function setAuthorized(req: Request, authorized: AuthorizedRequest): void {
  req.auth = authorized.principal;
  req.authDecision = authorized.decision;
}
