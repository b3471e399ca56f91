/**
 * The core alone (no HTTP): verify + check, ops/s. Regressions show up here without a server. The
 * public methods are measured awaited; the adapters' entry, which answers synchronously on the
 * token and warm paths, back to back.
 */
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { requestGate } from '../src/authorizer.js';
import { createAuthorizer } from '../src/index.js';
import { isPromiseLike } from '../src/settling.js';
import { createTestKit, demoSeed } from '../testing/index.js';
import { RESOURCE_PERMISSION, TOKEN_PERMISSION } from './shared.js';

export interface MicroResult {
  name: string;
  opsPerSec: number;
  /** µs per operation */
  usPerOp: number;
}

/** Runs `op` back to back (awaited) for about `seconds`, after a short warm-up. */
async function measure(name: string, seconds: number, op: () => Promise<unknown>): Promise<MicroResult> {
  const warmUntil = performance.now() + Math.min(300, seconds * 300);
  while (performance.now() < warmUntil) await op();
  let ops = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  let now = started;
  while (now < until) {
    for (let i = 0; i < 100; i++) await op();
    ops += 100;
    now = performance.now();
  }
  const elapsed = (now - started) / 1000;
  return { name, opsPerSec: ops / elapsed, usPerOp: (elapsed * 1e6) / ops };
}

/** The same for an operation that answers synchronously (the adapters' entry on its fast paths). */
function measureSync(name: string, seconds: number, op: () => unknown): MicroResult {
  const warmUntil = performance.now() + Math.min(300, seconds * 300);
  while (performance.now() < warmUntil) op();
  let ops = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  let now = started;
  while (now < until) {
    for (let i = 0; i < 1000; i++) {
      if (isPromiseLike(op())) throw new Error(`${name}: expected a synchronous answer`);
    }
    ops += 1000;
    now = performance.now();
  }
  const elapsed = (now - started) / 1000;
  return { name, opsPerSec: ops / elapsed, usPerOp: (elapsed * 1e6) / ops };
}

export async function runMicro(seconds: number): Promise<MicroResult[]> {
  const kit = await createTestKit({ seed: demoSeed });
  try {
    const token = kit.mintToken({ user: 'user_alice', organization: 'org_acme', membership: 'om_alice', expiresIn: 3600 });
    const header = `Bearer ${token}`;
    const p1 = { type: 'project', externalId: 'p-1' };
    const authz = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId });
    const uncached = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId, tokenCacheMax: 0 });
    const jwks = (await (await fetch(kit.jwksUrl)).json()) as JSONWebKeySet;
    const localKeys = createLocalJWKSet(jwks);
    const remoteKeys = createRemoteJWKSet(new URL(kit.jwksUrl));
    await jwtVerify(token, remoteKeys);
    await authz.authorizeRequest(header, RESOURCE_PERMISSION, p1); // the decision cache is warm from here on
    const gate = requestGate(authz);

    return [
      await measure('authorizeRequest: token path (verified-token cache)', seconds, () => authz.authorizeRequest(header, TOKEN_PERMISSION)),
      await measure('authorizeRequest: resource path (warm decision cache)', seconds, () =>
        authz.authorizeRequest(header, RESOURCE_PERMISSION, p1),
      ),
      measureSync('adapters\' entry (requestGate), synchronous: token path', seconds, () =>
        gate.authorize(header, TOKEN_PERMISSION, undefined, undefined),
      ),
      measureSync('adapters\' entry (requestGate), synchronous: resource path (warm)', seconds, () =>
        gate.authorize(header, RESOURCE_PERMISSION, p1, undefined),
      ),
      await measure('authorizeRequest: token path, token cache off (tokenCacheMax: 0)', seconds, () =>
        uncached.authorizeRequest(header, TOKEN_PERMISSION),
      ),
      await measure('jose jwtVerify alone (remote JWKS, cached keys)', seconds, () => jwtVerify(token, remoteKeys)),
      await measure('jose jwtVerify alone (local JWKS)', seconds, () => jwtVerify(token, localKeys)),
    ];
  } finally {
    await kit.close();
  }
}
