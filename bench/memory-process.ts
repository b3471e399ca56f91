/**
 * Run as `node --expose-gc --import tsx bench/memory-process.ts` (bench/memory.ts does): checks
 * distinct resources through `authz.check` against a stand-in WorkOS that grants at once, and
 * samples memory (after a full GC) along the way.
 */
import type { WorkOS } from '@workos-inc/node';
import { createAuthorizer, type Principal } from '../src/index.js';
import { serve } from './child.js';
import { RESOURCE_PERMISSION } from './shared.js';

export interface MemorySample {
  checks: number;
  rssMB: number;
  heapUsedMB: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

function sample(checks: number): MemorySample {
  gc?.();
  const { rss, heapUsed } = process.memoryUsage();
  return { checks, rssMB: rss / 2 ** 20, heapUsedMB: heapUsed / 2 ** 20 };
}

async function run(total: number, every: number, batch: number) {
  const standIn = { authorization: { check: () => Promise.resolve({ authorized: true }) } } as unknown as WorkOS;
  // jwksUrl given, membership in the principal: no other upstream call is needed.
  const authz = createAuthorizer({ workos: standIn, apiKey: 'sk_bench', clientId: 'client_bench', jwksUrl: 'http://127.0.0.1:9/jwks' });
  const principal: Principal = Object.freeze({
    kind: 'user',
    userId: 'user_alice',
    organizationId: 'org_acme',
    organizationMembershipId: 'om_alice',
    permissions: Object.freeze([]),
    claims: Object.freeze({ sub: 'user_alice' }),
  });
  const samples: MemorySample[] = [sample(0)];
  let allowed = 0;
  const started = performance.now();
  for (let done = 0; done < total; ) {
    const pending = [];
    for (let i = 0; i < batch; i++, done++) {
      pending.push(authz.check(principal, RESOURCE_PERMISSION, { type: 'project', externalId: `mem-${done}` }));
    }
    for (const decision of await Promise.all(pending)) if (decision.allowed && decision.source === 'api') allowed++;
    if (done % every === 0) samples.push(sample(done));
  }
  const seconds = (performance.now() - started) / 1000;
  return { total, allowed, seconds, gcExposed: gc !== undefined, samples };
}

serve((message) => {
  if (message.type !== 'run') throw new Error(`unknown request ${String(message.type)}`);
  return run(message.total as number, message.every as number, message.batch as number);
});
