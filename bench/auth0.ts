/**
 * The peer: Auth0's `express-oauth2-jwt-bearer` guarding the same route. It is loaded by a
 * computed specifier on purpose: its types augment Express's `Request.auth` with a type of their
 * own, which cannot coexist in one program with fga-guard's augmentation (adapters/express.ts).
 * Only the few options used here are typed.
 */
import type { RequestHandler } from 'express';

interface Auth0Options {
  issuer: string;
  jwksUri: string;
  audience: string;
  tokenSigningAlg: string;
}

interface Auth0Module {
  auth(options: Auth0Options): RequestHandler;
}

const SPECIFIER = 'express-oauth2-jwt-bearer';

export async function auth0Guard(options: Auth0Options): Promise<RequestHandler> {
  const module = (await import(SPECIFIER)) as Auth0Module;
  return module.auth(options);
}
